import { mkdirSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Registry } from 'prom-client';
import { ACCESS_QUERIES, createLedger, type Ledger } from '../../../libs/projections/src/index.js';
import { AccessController } from './access/access.controller.js';
import { ACCESS_PATHS } from './access/access.docs.js';
import { type ApiConfig, loadConfig } from './config.js';
import { createHttpApp } from './http-app.js';
import { ApiKeyStore } from './keys/api-key-store.js';
import { ensureBootstrapKey } from './keys/bootstrap-key.js';
import { openApiDatabase } from './storage/api-database.js';

export interface RunningServer {
  readonly app: NestFastifyApplication;
  readonly url: string;
  /** Stop accepting, finish in-flight requests, close the stores. */
  close(): Promise<void>;
}

export interface ServeExtras {
  /** A prom-client Registry with series of your own; /metrics adds the API's to it. */
  readonly registry?: Registry;
}

/** `npm start` and `ledger serve`: the HTTP API on the configured data directory. */
export async function serve(
  config: ApiConfig = loadConfig(),
  log: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
  extras: ServeExtras = {},
): Promise<RunningServer> {
  mkdirSync(config.dataDir, { recursive: true });
  const db = openApiDatabase(config.dataDir);
  try {
    const key = ensureBootstrapKey(new ApiKeyStore(db), config.dataDir);
    if (key) {
      log(`Bootstrap API key for tenant "${key.tenantId}" (every scope), also in ${config.dataDir}/bootstrap-key:`);
      log(`  ${key.key}`);
    }
  } finally {
    db.close();
  }
  const ledger = await createLedger({ dataDir: config.dataDir, kurrentdbUrl: config.KURRENTDB_URL, clickhouseUrl: config.CLICKHOUSE_URL });
  const app = await createHttpApp({
    ledger,
    dataDir: config.dataDir,
    ...(extras.registry ? { registry: extras.registry } : {}),
    rateLimit: { perSecond: config.RATE_LIMIT_PER_SECOND, burst: config.RATE_LIMIT_BURST },
    bodyLimits: { commandBytes: config.COMMAND_BODY_LIMIT, importBytes: config.IMPORT_BODY_LIMIT },
    ...accessRoutes(ledger),
  });
  await app.listen(config.PORT, config.HOST);
  const url = await app.getUrl();
  log(`access-ledger listening on ${url} (data in ${config.dataDir}); API docs at ${url}/docs`);
  let closing: Promise<void> | undefined;
  return { app, url, close: () => (closing ??= app.close()) };
}

/** The access queries (http-api.md § Access queries) over the ledger's projection. */
export function accessRoutes(ledger: Ledger) {
  return {
    controllers: [AccessController],
    providers: [{ provide: ACCESS_QUERIES, useValue: ledger.queries }],
    schemas: { paths: ACCESS_PATHS },
  };
}

/** SIGTERM/SIGINT: graceful close, bounded by SHUTDOWN_TIMEOUT_MS. */
export function closeOnSignals(server: RunningServer, timeoutMs: number): void {
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

export async function main(): Promise<void> {
  const config = loadConfig();
  closeOnSignals(await serve(config), config.SHUTDOWN_TIMEOUT_MS);
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (invokedDirectly) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
