import 'reflect-metadata';
import { buildProgram, CliError } from './program.js';
import { REGISTRATIONS } from './registrations.js';

async function main(argv: readonly string[]): Promise<void> {
  try {
    await buildProgram(REGISTRATIONS).parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CliError) {
      process.stderr.write(`ledger: ${error.message}\n`);
      process.exitCode = error.exitCode;
      return;
    }
    throw error;
  }
}

await main(process.argv);
