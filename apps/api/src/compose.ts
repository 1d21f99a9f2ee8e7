import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { LedgerConfig } from '@access-ledger/config';
import { createLedger, type Ledger, type LedgerOptions } from '@access-ledger/ledger';
import { formatAccessLog, type AccessLogEntry } from './access-log/access-log.js';
import { accessFeature } from './access/access.module.js';
import type { ClosableLedger } from './app.module.js';
import { ExportService } from './exports/export-service.js';
import { exportsFeature } from './exports/exports.module.js';
import { consoleFeature } from './console/console.module.js';
import { loadSinksFile, type SinksFile } from './exports/sinks-file.js';
import { directoryFeature } from './directory/directory.module.js';
import type { Feature } from './feature.js';
import { createHttpApp, type HttpAppOptions } from './http-app.js';
import { connectionCap, descriptorLimit } from './http-limits.js';
import { ApiKeyStore } from './keys/api-key-store.js';
import { ensureBootstrapKey } from './keys/bootstrap-key.js';
import { assertReadModelFree } from './read-model/read-model-on-disk.js';
import { readModelFeature } from './read-model/read-model.module.js';
import { ReadModel, StartCatchUp } from './read-model/read-model.js';
import { openApiDatabase } from './storage/api-database.js';
import { proofsFeature } from './proofs/proofs.module.js';
import { SourceRunner } from './sources/source-runner.js';
import { loadSourcesFile, type SourcesFile } from './sources/sources-file.js';
import {
  CheckpointFiles,
  CheckpointKeyring,
  makeCheckpoint,
  startCheckpointer,
  tenantStream,
  type EventStore,
  type PublicCheckpointKey,
  type SignedCheckpoint,
} from '@access-ledger/event-store';
import { anchorCheckpointToHec, anchorCheckpointToS3, parseS3Uri, S3ObjectStore } from '@access-ledger/exports';

/**
 * The composition root: the one place the server is assembled — the Ledger on the configured stores, the read side
 * (read model, projections, export jobs), and the HTTP app with the feature modules they serve. `main`, `ledger serve`,
 * `ledger demo` and every test that starts a server call `composeServer`; a test chooses adapters and options through
 * `overrides` (after Immich's test/medium.factory.ts) instead of wiring the parts by hand.
 */
export interface ServerOverrides {
  /** Serve this Ledger (opened by the caller, who may wrap it) instead of one opened on the configured stores. */
  readonly ledger?: Ledger;
  /** Options of the Ledger opened here, beyond the data directory and the stores (snapshot cadence, SQLite limits…). */
  readonly ledgerOptions?: Omit<LedgerOptions, 'dataDir' | 'kurrentdbUrl'>;
  /**
   * `false`: no read model, no export jobs, no audit/report/export routes — the write side, integrity, operations and
   * docs only, for tests that need no ClickHouse (chDB takes seconds to open). Default true.
   */
  readonly readSide?: boolean;
  /** `false`: no access-query or discovery routes. Default true. */
  readonly accessQueries?: boolean;
  /** Sinks instead of the LEDGER_SINKS_FILE of the configuration. */
  readonly sinks?: SinksFile;
  /** Create and print a bootstrap key when the data directory has none (default true). */
  readonly bootstrapKey?: boolean;
  /** Where the server's own lines and the access log go (default stdout). */
  readonly write?: (line: string) => void;
  /** HTTP app options that replace what the configuration gives (limits, log levels, a registry, more controllers). */
  readonly http?: Partial<Omit<HttpAppOptions, 'ledger' | 'dataDir' | 'features'>>;
  /** Listen on the configured HOST and PORT (default true). */
  readonly listen?: boolean;
  /** Sources instead of the LEDGER_SOURCES_FILE of the configuration. */
  readonly sources?: SourcesFile;
}

export interface ComposedServer {
  readonly app: NestFastifyApplication;
  /** The listening address, `http://127.0.0.1:<port>` (empty when not listening). */
  readonly url: string;
  readonly config: LedgerConfig;
  /** The Ledger itself (its store, queries and projection runner), as opened or given. */
  readonly core: Ledger;
  /** The Ledger as the app serves it (with the read side: /ready includes the read model; close stops it first). */
  readonly ledger: ClosableLedger;
  /** The read model and export jobs, unless `readSide: false`. */
  readonly readSide?: ReadSide;
  /** The sources of LEDGER_SOURCES_FILE, synced in the background; stopped when the server closes. */
  readonly sources?: SourceRunner;
  /** The checkpointer (CHECKPOINT_EVERY_SECONDS > 0 on a store with Merkle trees); `tick()` makes one round now. */
  readonly checkpointer?: { tick(): Promise<unknown[]>; stop(): Promise<void> };
  /** Stop accepting, finish in-flight requests, close the stores (once). */
  close(): Promise<void>;
}

export async function composeServer(config: LedgerConfig, overrides: ServerOverrides = {}): Promise<ComposedServer> {
  const write = overrides.write ?? ((l: string) => process.stdout.write(`${l}\n`));
  // With LOG_FORMAT=json every line is a JSON object, the server's own messages included.
  const log = config.LOG_FORMAT === 'json' ? (msg: string) => write(JSON.stringify({ time: new Date().toISOString(), level: 'info', msg })) : write;
  mkdirSync(config.dataDir, { recursive: true });
  // Before anything is opened or printed (chDB prints its own "Cannot lock file" line when it finds the directory held).
  if ((overrides.readSide ?? true) && !config.CLICKHOUSE_URL) assertReadModelFree(config.dataDir, 'stop it, or choose another --data-dir (LEDGER_DATA_DIR)');
  // A bad sources file (or an unreadable key file) stops the start before anything is opened, naming the setting.
  const sourcesFile = overrides.sources ?? (config.LEDGER_SOURCES_FILE ? loadSourcesFile(config.LEDGER_SOURCES_FILE) : undefined);
  if (overrides.bootstrapKey ?? true) printBootstrapKey(config.dataDir, log);
  const ledger =
    overrides.ledger ??
    (await createLedger({
      ...overrides.ledgerOptions,
      dataDir: config.dataDir,
      ...(config.KURRENTDB_URL ? { kurrentdbUrl: config.KURRENTDB_URL } : {}),
      ...(config.CLICKHOUSE_URL ? { clickhouseUrl: config.CLICKHOUSE_URL } : {}),
    }));
  const keyring = CheckpointKeyring.open(join(config.dataDir, 'checkpoint-keys'));
  const checkpointFiles = new CheckpointFiles(join(config.dataDir, 'checkpoints'));
  let readSide: ReadSide | undefined;
  if (overrides.readSide ?? true) {
    try {
      const sinks = overrides.sinks ?? (config.LEDGER_SINKS_FILE ? loadSinksFile(config.LEDGER_SINKS_FILE) : undefined);
      readSide = await openReadSide(ledger, {
        dataDir: config.dataDir,
        ...(config.CLICKHOUSE_URL ? { clickhouseUrl: config.CLICKHOUSE_URL } : {}),
        ...(sinks ? { sinks } : {}),
        log,
        readWaitMs: config.READ_MODEL_WAIT_MS,
        ...(ledger.store.merkle !== undefined
          ? { checkpointFor: checkpointCovering(ledger.store, keyring, checkpointFiles), checkpointKeys: () => keyring.publicKeys }
          : {}),
      });
    } catch (error) {
      await ledger.close();
      throw new Error(`cannot open the read model: ${(error as Error).message}`, { cause: error });
    }
  }
  const sources =
    sourcesFile && sourcesFile.sources.length > 0 ? new SourceRunner({ dataDir: config.dataDir, ledger, sources: sourcesFile.sources, log }) : undefined;
  const served: ClosableLedger = withSources(readSide?.ledger ?? ledger, sources);
  // Checkpoints of each tenant's Merkle tree, signed every CHECKPOINT_EVERY_EVENTS events or
  // CHECKPOINT_EVERY_SECONDS seconds (docs/proofs.md); keys and proofs served by proofsFeature.
  const checkpointer =
    ledger.store.merkle !== undefined && config.CHECKPOINT_EVERY_SECONDS > 0
      ? startCheckpointer({
          store: ledger.store,
          keyring,
          files: checkpointFiles,
          everyEvents: config.CHECKPOINT_EVERY_EVENTS,
          everyMs: config.CHECKPOINT_EVERY_SECONDS * 1000,
          onCheckpoint: anchorTo(overrides.sinks ?? (config.LEDGER_SINKS_FILE ? loadSinksFile(config.LEDGER_SINKS_FILE) : undefined), log),
          onError: (error) => log(`checkpoint failed: ${(error as Error).message}`),
        })
      : undefined;
  const features: Feature[] = [
    ...(ledger.store.merkle !== undefined ? [proofsFeature(ledger.store, keyring, checkpointFiles)] : []),
    ...((overrides.accessQueries ?? true) ? [accessFeature(ledger.queries), directoryFeature(ledger.directory)] : []),
    ...(readSide?.features ?? []),
    // The web console (docs/console.md): static files, public; it calls the routes above with the analyst's key.
    consoleFeature(),
  ];
  const fdLimit = descriptorLimit();
  const maxConnections = connectionCap(config.HTTP_MAX_CONNECTIONS, fdLimit);
  if (maxConnections < config.HTTP_MAX_CONNECTIONS)
    log(`HTTP_MAX_CONNECTIONS ${config.HTTP_MAX_CONNECTIONS} lowered to ${maxConnections}: the descriptor limit (ulimit -n) is ${fdLimit}`);
  let app: NestFastifyApplication | undefined;
  try {
    app = await createHttpApp({
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
      ...overrides.http,
      ledger: served,
      dataDir: config.dataDir,
      features,
    });
    if (overrides.listen ?? true) await app.listen(config.PORT, config.HOST);
  } catch (error) {
    // The app closes the (wrapped) ledger and with it the read model; without an app, close them here.
    await (app ? app.close() : served.close()).catch(() => undefined);
    throw error;
  }
  if (readSide) {
    try {
      await readSide.exports.startLiveSinks();
    } catch (error) {
      await app.close().catch(() => undefined);
      throw error;
    }
    const resumed = readSide.exports.resume();
    if (resumed.length > 0) log(`resuming ${resumed.length} export job(s): ${resumed.join(', ')}`);
  }
  if (sources) {
    sources.start();
    log(`syncing ${sourcesFile!.sources.length} source(s) in the background: ${sourcesFile!.sources.map((s) => s.name).join(', ')} (/ready lists them)`);
  }
  // Nest may name the IPv4 loopback [::1]; the address bound is the one to print and to call.
  const listening = (overrides.listen ?? true) ? await app.getUrl() : '';
  const url = config.HOST === '127.0.0.1' ? listening.replace('[::1]', '127.0.0.1') : listening;
  if (url) log(`access-ledger listening on ${url} (data in ${config.dataDir}); API docs at ${url}/docs`);
  let closing: Promise<void> | undefined;
  const running = app;
  return {
    app,
    url,
    config,
    core: ledger,
    ledger: served,
    ...(readSide ? { readSide } : {}),
    ...(checkpointer ? { checkpointer } : {}),
    ...(sources ? { sources } : {}),
    close: () => (closing ??= (checkpointer?.stop() ?? Promise.resolve()).then(() => running.close())),
  };
}

/**
 * The Ledger as served with background sources: /ready lists them (they never make it 503: a Compliance API that fails
 * is no reason to refuse this server's reads and writes), and closing stops their passes before the stores close.
 */
function withSources(ledger: ClosableLedger, sources: SourceRunner | undefined): ClosableLedger {
  if (!sources) return ledger;
  return {
    executeCommand: (tenantId, body, options, auth) => ledger.executeCommand(tenantId, body, options, auth),
    importEvents: (tenantId, ndjson, auth) => ledger.importEvents(tenantId, ndjson, auth),
    integrity: (tenantId) => ledger.integrity(tenantId),
    health: async () => ({ ...(await ledger.health()), sources: sources.status() }),
    async close() {
      await sources.stop();
      await ledger.close();
    },
  };
}

/**
 * The checkpoint covering the event at a global position — the oldest signed checkpoint whose tree
 * includes it, or one made now when none does yet — for each exported S3 object's last event.
 */
function checkpointCovering(
  store: EventStore,
  keyring: CheckpointKeyring,
  files: CheckpointFiles,
): (tenantId: string, position: number) => Promise<SignedCheckpoint | undefined> {
  return async (tenantId, position) => {
    let revision: number | undefined;
    for await (const e of store.readAll({ after: position - 1, maxCount: 1 }))
      if (e.position === position && e.streamId === tenantStream(tenantId)) revision = e.revision;
    if (revision === undefined) return undefined;
    const found = files.list(tenantId).find((c) => c.treeSize > revision);
    if (found !== undefined) return found;
    // The tree follows the log (docs/proofs.md § 7): an event this process just acknowledged may not be a leaf yet.
    if ((await store.merkle!.treeSize(tenantStream(tenantId))) <= revision) await store.merkle!.caughtUp();
    const made = await makeCheckpoint(store, keyring, tenantId, tenantStream(tenantId));
    if (made !== undefined) files.write(made);
    return made;
  };
}

/**
 * Anchoring: each new checkpoint goes to every S3 live sink of its tenant, create-only (an existing object is
 * an error, never overwritten), with the sink's Object Lock retention, and to every Splunk live sink as one HEC event
 * (sourcetype access-ledger:checkpoint). A failure is logged; the checkpoint stays in the data directory and the next
 * one is shipped as usual.
 */
function anchorTo(sinks: SinksFile | undefined, log: (line: string) => void): ((c: SignedCheckpoint) => Promise<void>) | undefined {
  const live = sinks?.live ?? [];
  if (live.length === 0) return undefined;
  return async (c) => {
    for (const { tenantId, name, sink } of live) {
      if (tenantId !== c.tenantId) continue;
      try {
        if (sink.kind === 'splunk') {
          await anchorCheckpointToHec(sink, c);
          continue;
        }
        const store = new S3ObjectStore(sink);
        try {
          await anchorCheckpointToS3(store, parseS3Uri(sink.uri), c, sink.objectLock);
        } finally {
          store.destroy();
        }
      } catch (error) {
        log(`checkpoint ${c.tenantId}@${c.treeSize} not anchored to live sink ${name}: ${(error as Error).message}`);
      }
    }
  };
}

/** On a data directory without keys: a key with every scope, printed once and kept in `$dataDir/bootstrap-key`. */
function printBootstrapKey(dataDir: string, log: (line: string) => void): void {
  const db = openApiDatabase(dataDir);
  try {
    const key = ensureBootstrapKey(new ApiKeyStore(db), dataDir);
    if (key) {
      log(`Bootstrap API key for tenant "${key.tenantId}" (every scope), also in ${dataDir}/bootstrap-key:`);
      log(`  ${key.key}`);
    }
  } finally {
    db.close();
  }
}

/** The read side of the server: the ClickHouse read model with its projections, and the export jobs over it. */
export interface ReadSide {
  /** The Ledger as the app sees it: /ready includes the read model; close stops exports and projections first. */
  readonly ledger: ClosableLedger;
  readonly readModel: ReadModel;
  readonly exports: ExportService;
  /** The audit, report and export routes. */
  readonly features: readonly Feature[];
}

/**
 * Opens the read model (CLICKHOUSE_URL, or chDB in `$dataDir/clickhouse`, which this process then owns), runs its
 * migrations, starts the audit projection on the ledger's event store, and creates the export jobs. `exports.resume()`
 * runs once the server is about to serve.
 */
async function openReadSide(
  ledger: Ledger,
  options: {
    dataDir: string;
    clickhouseUrl?: string;
    sinks?: SinksFile;
    log?: (line: string) => void;
    readWaitMs: number;
    checkpointFor?: (tenantId: string, position: number) => Promise<SignedCheckpoint | undefined>;
    checkpointKeys?: () => readonly PublicCheckpointKey[];
  },
): Promise<ReadSide> {
  const readModel = await ReadModel.open(ledger.store, options);
  // The access projection (in the Ledger) has to reach the same head at start as the read model's projections.
  const accessCatchUp = new StartCatchUp(readModel.startHead);
  const exports = new ExportService(
    readModel.client,
    options.dataDir,
    options.sinks?.named,
    options.sinks?.live,
    options.log,
    options.checkpointFor,
    options.checkpointKeys,
  );
  const appLedger: ClosableLedger = {
    executeCommand: (tenantId, body, commandOptions, auth) => ledger.executeCommand(tenantId, body, commandOptions, auth),
    importEvents: (tenantId, ndjson, auth) => ledger.importEvents(tenantId, ndjson, auth),
    integrity: (tenantId) => ledger.integrity(tenantId),
    async health() {
      const [own, read] = await Promise.all([ledger.health(), readModel.health()]);
      const detail = [own.detail, read.detail].filter((d) => d !== undefined).join('; ');
      const access = ledger.projection.position;
      const accessBehind = accessCatchUp.behind(access);
      return {
        ...own,
        readModel: read.reachable,
        readModelLag: read.lag,
        readModelQuarantined: read.quarantined,
        projections: { access: { checkpoint: access, lag: own.projectionLag }, ...read.projections },
        startHead: read.startHead,
        catchingUp: { ...(accessBehind > 0 ? { access: accessBehind } : {}), ...read.catchingUp },
        ...(detail ? { detail } : {}),
      };
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
  return {
    ledger: appLedger,
    readModel,
    exports,
    features: [readModelFeature(readModel, ledger.queries, { maxWaitMs: options.readWaitMs }), exportsFeature(exports)],
  };
}
