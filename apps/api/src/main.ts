import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '@access-ledger/config';
import { type ComposedServer, composeServer } from './compose.js';

/** SIGTERM/SIGINT: graceful close, bounded by SHUTDOWN_TIMEOUT_MS. */
export function closeOnSignals(server: Pick<ComposedServer, 'close'>, timeoutMs: number): void {
  const onSignal = (signal: NodeJS.Signals): void => {
    process.stderr.write(`${signal}: finishing in-flight requests and closing the stores\n`);
    const timer = setTimeout(() => {
      process.stderr.write(`shutdown took longer than ${timeoutMs} ms; exiting\n`);
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

/** `npm start`: the configuration from the environment, the server from the composition root (compose.ts). */
export async function main(): Promise<void> {
  const config = loadConfig();
  closeOnSignals(await composeServer(config), config.SHUTDOWN_TIMEOUT_MS);
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (invokedDirectly) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
