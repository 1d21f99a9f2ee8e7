import { createServer } from 'node:net';
import type { LedgerConfig } from '@access-ledger/config';
import { CliError } from './program.js';

/**
 * What `ledger serve` and `ledger demo` check before they open or seed anything: the port can be bound, and no other
 * server holds the data directory. Each answers exit code 2 with what to change, not a stack trace.
 */
export async function checkServable(config: LedgerConfig): Promise<void> {
  const { assertReadModelFree } = await import('../../api/src/server.js');
  if (!config.CLICKHOUSE_URL) {
    try {
      assertReadModelFree(config.dataDir, 'stop it, or choose another --data-dir (LEDGER_DATA_DIR)');
    } catch (error) {
      throw new CliError((error as Error).message, 2);
    }
  }
  if (config.PORT !== 0) await checkPortFree(config.HOST, config.PORT);
}

function checkPortFree(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, host, port) ?? error));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** A CliError for a listen failure the user can fix (port in use, not allowed, address not local), else undefined. */
export function listenError(error: unknown, host: string, port: number): CliError | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') return new CliError(`port ${port} is in use on ${host}; set PORT or --port`, 2);
  if (code === 'EACCES') return new CliError(`not allowed to listen on ${host}:${port}; set PORT or --port (ports below 1024 need privileges)`, 2);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return new CliError(`cannot listen on ${host}: not an address of this machine; set HOST or --host`, 2);
  return undefined;
}

/** Compose and serve until a signal, with the failures of `checkServable` mapped the same way if they happen later. */
export async function serveUntilSignal(config: LedgerConfig): Promise<void> {
  // Loaded on use: NestJS and the stores take seconds to import, which `keys` and `--help` need not wait for.
  const { closeOnSignals, composeServer, ReadModelInUseError } = await import('../../api/src/server.js');
  try {
    closeOnSignals(await composeServer(config), config.SHUTDOWN_TIMEOUT_MS);
  } catch (error) {
    if (error instanceof ReadModelInUseError) throw new CliError(error.message, 2);
    throw listenError(error, config.HOST, config.PORT) ?? error;
  }
}
