import { mkdirSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Registry } from 'prom-client';
import type { Provider } from '@nestjs/common';
import type { z } from 'zod';
import { ACCESS_QUERIES, createLedger, type Ledger } from '@access-ledger/ledger';
import { AccessController } from './access/access.controller.js';
import { ACCESS_PATHS } from './access/access.docs.js';
import type { ClosableLedger } from './app.module.js';
import { ExportService } from './exports/export-service.js';
import { loadSinksFile, type SinksFile } from './exports/sinks-file.js';
import { exportRoutes } from './exports/exports.routes.js';
import { ReadModel } from './read-model/read-model.js';
import { readModelRoutes } from './read-model/read-model.routes.js';
import { type ApiConfig, loadConfig } from './config.js';
import { formatAccessLog, type AccessLogEntry } from './access-log/access-log.js';
import { createHttpApp } from './http-app.js';
import { connectionCap, descriptorLimit } from './http-limits.js';
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
  write: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
  extras: ServeExtras = {},
): Promise<RunningServer> {
  // With LOG_FORMAT=json every line is a JSON object, the server's own messages included.
  const log = config.LOG_FORMAT === 'json' ? (msg: string) => write(JSON.stringify({ time: new Date().toISOString(), level: 'info', msg })) : write;
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
  let readSide: ReadSide;
  try {
    const sinks = config.LEDGER_SINKS_FILE ? loadSinksFile(config.LEDGER_SINKS_FILE) : undefined;
    readSide = await openReadSide(ledger, {
      dataDir: config.dataDir,
      ...(config.CLICKHOUSE_URL ? { clickhouseUrl: config.CLICKHOUSE_URL } : {}),
      ...(sinks ? { sinks } : {}),
      log,
      readWaitMs: config.READ_MODEL_WAIT_MS,
    });
  } catch (error) {
    await ledger.close();
    throw new Error(`cannot open the read model: ${(error as Error).message}`, { cause: error });
  }
  const fdLimit = descriptorLimit();
  const maxConnections = connectionCap(config.HTTP_MAX_CONNECTIONS, fdLimit);
  if (maxConnections < config.HTTP_MAX_CONNECTIONS) log(`HTTP_MAX_CONNECTIONS ${config.HTTP_MAX_CONNECTIONS} lowered to ${maxConnections}: the descriptor limit (ulimit -n) is ${fdLimit}`);
  let app: NestFastifyApplication | undefined;
  try {
    app = await createHttpApp({
      ledger: readSide.ledger,
      dataDir: config.dataDir,
      ...(extras.registry ? { registry: extras.registry } : {}),
      rateLimit: { perSecond: config.RATE_LIMIT_PER_SECOND, burst: config.RATE_LIMIT_BURST },
      anonymousRateLimit: { perSecond: config.RATE_LIMIT_ANON_PER_SECOND, burst: config.RATE_LIMIT_ANON_BURST },
      connectionLimits: {
        requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
        headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_MS,
        keepAliveTimeoutMs: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
        maxConnections,
        maxPipelined: config.HTTP_MAX_PIPELINED,
      },
      bodyLimits: { commandBytes: config.COMMAND_BODY_LIMIT, importBytes: config.IMPORT_BODY_LIMIT },
      ...(config.ACCESS_LOG ? { accessLog: (entry: AccessLogEntry) => write(formatAccessLog(entry, config.LOG_FORMAT)) } : {}),
      logFormat: config.LOG_FORMAT,
      ...combineRoutes(accessRoutes(ledger), readSide.routes),
    });
    await app.listen(config.PORT, config.HOST);
  } catch (error) {
    // The app closes the (wrapped) ledger and with it the read model; without an app, close them here.
    await (app ? app.close() : readSide.ledger.close()).catch(() => undefined);
    throw error;
  }
  try {
    await readSide.exports.startLiveSinks();
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
  const resumed = readSide.exports.resume();
  if (resumed.length > 0) log(`resuming ${resumed.length} export job(s): ${resumed.join(', ')}`);
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

export interface RouteSet {
  readonly controllers: NonNullable<import('./app.module.js').AppModuleOptions['controllers']>;
  readonly providers: Provider[];
  readonly schemas: { readonly paths: Record<string, unknown>; readonly components?: Record<string, z.ZodType> };
}

/** Several route modules as one set of `createHttpApp` options (their OpenAPI paths and components merged). */
export function combineRoutes(...sets: RouteSet[]) {
  return {
    controllers: sets.flatMap((s) => [...s.controllers]),
    providers: sets.flatMap((s) => s.providers),
    schemas: {
      paths: Object.assign({}, ...sets.map((s) => s.schemas.paths)) as Record<string, unknown>,
      components: Object.assign({}, ...sets.map((s) => s.schemas.components ?? {})) as Record<string, z.ZodType>,
    },
  };
}

/** The read side of the server: the ClickHouse read model with its projections, and the export jobs over it. */
export interface ReadSide {
  /** The Ledger as the app sees it: /ready includes the read model; close stops exports and projections first. */
  readonly ledger: ClosableLedger;
  readonly readModel: ReadModel;
  readonly exports: ExportService;
  /** The audit, report and export routes. */
  readonly routes: RouteSet;
}

/**
 * Opens the read model (CLICKHOUSE_URL, or chDB in `$dataDir/clickhouse`, which this process then owns), runs its
 * migrations, starts the audit projection on the ledger's event store, and creates the export jobs. Call
 * `exports.resume()` once the server is about to serve.
 */
export async function openReadSide(
  ledger: Ledger,
  options: { dataDir: string; clickhouseUrl?: string; sinks?: SinksFile; log?: (line: string) => void; readWaitMs?: number },
): Promise<ReadSide> {
  const readModel = await ReadModel.open(ledger.store, options);
  const exports = new ExportService(readModel.client, options.dataDir, options.sinks?.named, options.sinks?.live, options.log);
  const appLedger: ClosableLedger = {
    executeCommand: (tenantId, body, commandOptions, auth) => ledger.executeCommand(tenantId, body, commandOptions, auth),
    importEvents: (tenantId, ndjson, auth) => ledger.importEvents(tenantId, ndjson, auth),
    integrity: (tenantId) => ledger.integrity(tenantId),
    async health() {
      const [own, read] = await Promise.all([ledger.health(), readModel.health()]);
      const detail = [own.detail, read.detail].filter((d) => d !== undefined).join('; ');
      return { ...own, readModel: read.reachable, readModelLag: read.lag, readModelQuarantined: read.quarantined, ...(detail ? { detail } : {}) };
    },
    // Order matters: jobs query ClickHouse, the projection reads the store's subscription, so both stop before
    // the store closes, and ClickHouse closes last.
    async close() {
      await exports.close();
      await readModel.stop();
      await ledger.close();
      await readModel.close();
    },
  };
  return { ledger: appLedger, readModel, exports, routes: combineRoutes(readModelRoutes(readModel, options.readWaitMs === undefined ? undefined : { maxWaitMs: options.readWaitMs }), exportRoutes(exports)) };
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
