import { Command } from 'commander';

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
    .option('--data-dir <dir>', 'data directory (env LEDGER_DATA_DIR)', process.env.LEDGER_DATA_DIR ?? './data');
  for (const register of registrations) register(program);
  return program;
}

/** The root program's `--data-dir`, for a subcommand's action. */
export function dataDirOf(command: Command): string {
  return (command.optsWithGlobals() as { dataDir: string }).dataDir;
}
