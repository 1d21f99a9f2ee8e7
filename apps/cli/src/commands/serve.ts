import { resolve } from 'node:path';
import type { Command } from 'commander';
import { dataDirOf } from '../program.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Serve the HTTP API (same as `npm start`). Configuration comes from the environment (PORT, HOST, KURRENTDB_URL, CLICKHOUSE_URL, limits; see docs/api.md).')
    .option('-p, --port <port>', 'port (env PORT)', process.env.PORT ?? '8080')
    .option('--host <host>', 'address to bind (env HOST)', process.env.HOST ?? '127.0.0.1')
    .addHelpText('after', '\nExample:\n  $ ledger --data-dir ./data serve --port 8080\n')
    .action(async (options: { port: string; host: string }, command: Command) => {
      // Loaded on use: NestJS and the stores take seconds to import, which `keys` and `--help` need not wait for.
      const { loadConfig } = await import('../../../api/src/config.js');
      const { closeOnSignals, serve } = await import('../../../api/src/main.js');
      const config = loadConfig({ ...process.env, PORT: options.port, HOST: options.host, LEDGER_DATA_DIR: resolve(dataDirOf(command)) });
      closeOnSignals(await serve(config), config.SHUTDOWN_TIMEOUT_MS);
    });
}
