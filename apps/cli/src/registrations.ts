import { registerImport } from './commands/import.js';
import { registerKeys } from './commands/keys.js';
import { registerServe } from './commands/serve.js';
import { registerVerify } from './commands/verify.js';
import type { CliRegistration } from './program.js';

/** Every `ledger` command, in `--help` order. Add rebuild, demo, generate, report, export, verify-export here. */
export const REGISTRATIONS: readonly CliRegistration[] = [registerServe, registerKeys, registerImport, registerVerify];
