import 'reflect-metadata';
import { buildProgram, CliError } from './program.js';
import { REGISTRATIONS } from './registrations.js';

/**
 * The exit code and message of a failure the user can act on, by error name (the libraries that throw them are
 * loaded on use, so they are not imported here): 2 the input or environment was refused before anything ran,
 * 1 the command ran and found nothing or failed, 3 the question is about an organization before its baseline (the
 * answer is unknown: docs/sources.md § Baseline).
 */
const KNOWN_FAILURES: Readonly<Record<string, number>> = {
  InvalidInputError: 2,
  ReadModelInUseError: 2,
  SinkConfigurationError: 2,
  NotFoundError: 1,
  BeforeBaselineError: 3,
  IntegrityBrokenError: 1,
  SinkUnavailableError: 1,
  StorageFullError: 1,
};

async function main(argv: readonly string[]): Promise<void> {
  const trace = argv.includes('--trace');
  try {
    await buildProgram(REGISTRATIONS).parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CliError) {
      process.stderr.write(`ledger: ${error.message}\n`);
      process.exitCode = error.exitCode;
      return;
    }
    const { name, message } = error instanceof Error ? error : { name: 'Error', message: String(error) };
    const known = KNOWN_FAILURES[name];
    if (known !== undefined) {
      process.stderr.write(`ledger: ${message}\n`);
      process.exitCode = known;
      return;
    }
    // Unexpected: the message without the stack (run again with --trace for it).
    process.stderr.write(
      trace && error instanceof Error ? `ledger: ${error.stack}\n` : `ledger: unexpected ${name}: ${message} (run again with --trace for the stack)\n`,
    );
    process.exitCode = 1;
  }
}

await main(process.argv);
