import type { Command } from 'commander';
import { configOf } from '../program.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'Serve the HTTP API (same as `npm start`). Configuration comes from the environment (PORT, HOST, KURRENTDB_URL, CLICKHOUSE_URL, limits; see README "Configuration").',
    )
    .option('-p, --port <port>', 'port (env PORT, default 8080)')
    .option('--host <host>', 'address to bind (env HOST, default 127.0.0.1)')
    .addHelpText('after', '\nExample:\n  $ ledger --data-dir ./data serve --port 8080\n')
    .action(async (options: { port?: string; host?: string }, command: Command) => {
      const config = configOf(command, { PORT: options.port, HOST: options.host });
      const { checkServable, serveUntilSignal } = await import('../serving.js');
      await checkServable(config);
      await serveUntilSignal(config);
    });
}
