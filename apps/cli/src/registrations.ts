import { registerAccess } from './commands/access.js';
import { registerBackup } from './commands/backup.js';
import { registerDemo } from './commands/demo.js';
import { registerExport } from './commands/export.js';
import { registerImport } from './commands/import.js';
import { registerKeys } from './commands/keys.js';
import { registerRebuild } from './commands/rebuild.js';
import { registerQuarantine } from './commands/quarantine.js';
import { registerProofs } from './commands/proofs.js';
import { registerReport } from './commands/report.js';
import { registerServe } from './commands/serve.js';
import { registerSources } from './commands/sources.js';
import { registerVerify } from './commands/verify.js';
import { registerVerifyExport } from './commands/verify-export.js';
import type { CliRegistration } from './program.js';

/** Every `ledger` command, in `--help` order. Add rebuild, demo, generate, report, export, verify-export here. */
export const REGISTRATIONS: readonly CliRegistration[] = [
  registerServe,
  registerDemo,
  registerKeys,
  registerImport,
  registerVerify,
  registerBackup,
  registerRebuild,
  registerAccess,
  registerReport,
  registerQuarantine,
  registerExport,
  registerVerifyExport,
  registerSources,
  registerProofs,
];
