import { Command } from 'commander';
import { type ConfigOverrides, type LedgerConfig, loadConfig } from '@access-ledger/config';

/**
 * A CLI command registers itself on the program. `registrations.ts` lists them in `--help` order; adding a
 * command (rebuild, demo, generate, report, export, verify-export) is one file and one line there.
 */
export type CliRegistration = (program: Command) => void;

/** Failures that should end the process with a message and a non-zero code, without a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export function buildProgram(registrations: readonly CliRegistration[]): Command {
  const program = new Command('ledger')
    .description('access-ledger: event-sourced audit and compliance ledger for AI-assistant access control')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ showGlobalOptions: true })
    .option('--data-dir <dir>', 'data directory (env LEDGER_DATA_DIR, default ./data)')
    .option('--trace', 'print the stack trace of an unexpected error (a bug: please report it)');
  for (const register of registrations) register(program);
  return program;
}

/**
 * The configuration a subcommand runs with: the environment, read and validated by @access-ledger/config, with the
 * root `--data-dir` and the subcommand's own flags (`overrides`, undefined when not given) on top.
 */
export function configOf(command: Command, overrides: ConfigOverrides = {}): LedgerConfig {
  const { dataDir } = command.optsWithGlobals() as { dataDir?: string };
  try {
    return loadConfig({ LEDGER_DATA_DIR: dataDir, ...overrides });
  } catch (error) {
    throw new CliError((error as Error).message, 2);
  }
}

/** The absolute data directory (`--data-dir`, else LEDGER_DATA_DIR, else ./data), for a subcommand's action. */
export function dataDirOf(command: Command): string {
  return configOf(command).dataDir;
}
