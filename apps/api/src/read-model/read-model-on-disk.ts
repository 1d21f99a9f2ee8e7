import type { ClickHouseClient } from '@clickhouse/client';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LedgerConfig } from '@access-ledger/config';
import { openEventStore, type RecordedEvent } from '@access-ledger/event-store';
import { AccessIntervalProjection, accessSnapshotPath, foldedFactsOf } from '@access-ledger/projections';
import { AuditProjection, CheckpointStore, listQuarantined, migrate, openClickHouse } from '@access-ledger/read-model';

/** The read model's data directory is held by another process (the running server): chDB locks it. */
export class ReadModelInUseError extends Error {
  override readonly name = 'ReadModelInUseError';
}

/**
 * The process that holds the embedded read model of `dataDir` (chDB in `$dataDir/clickhouse`), or null when none does.
 * chDB (ClickHouse) writes its PID into `clickhouse/status` while it has the directory open and removes the file on
 * close; a file left by a crashed process names a PID that no longer runs. Asked before chDB opens the directory,
 * because chDB prints its own "Cannot lock file" line to stderr when it finds the directory locked.
 */
export function readModelHolder(dataDir: string): number | null {
  let status: string;
  try {
    status = readFileSync(join(dataDir, 'clickhouse', 'status'), 'utf8');
  } catch {
    return null;
  }
  const pid = Number(/^PID:\s*(\d+)/m.exec(status)?.[1]);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : null; // EPERM: alive, another user's
  }
}

/** Throws ReadModelInUseError, naming the directory, when another process has the data directory's read model open. */
export function assertReadModelFree(dataDir: string, advice: string): void {
  const pid = readModelHolder(dataDir);
  if (pid !== null)
    throw new ReadModelInUseError(
      `the data directory ${dataDir} is in use by another process (process ${pid} holds ${join(dataDir, 'clickhouse')}: is the server running?); ${advice}`,
    );
}

export interface ReadModelOnDiskOptions {
  /** Catch-up progress: the audit trail's checkpoint against the store's head position. */
  readonly onProgress?: (projected: number, head: number) => void;
}

/**
 * The read model for a tool that runs while the server does not (`ledger report`, `ledger export`): chDB in
 * `$dataDir/clickhouse`, migrated, with the audit trail and the access intervals caught up with the event store first,
 * so the answer covers every stored event. With CLICKHOUSE_URL the server's own projection fills the tables, so nothing is projected here
 * (two writers would cut batches differently and defeat the insert deduplication).
 */
export async function withReadModelOnDisk<T>(
  config: Pick<LedgerConfig, 'dataDir' | 'CLICKHOUSE_URL' | 'KURRENTDB_URL'>,
  work: (client: ClickHouseClient) => Promise<T>,
  options: ReadModelOnDiskOptions = {},
): Promise<T> {
  const { dataDir, CLICKHOUSE_URL: clickhouseUrl } = config;
  const advice = 'ask the server instead with --url and --key, or stop it first';
  if (!clickhouseUrl) assertReadModelFree(dataDir, advice);
  let client: ClickHouseClient;
  try {
    client = openClickHouse(clickhouseUrl ? { url: clickhouseUrl } : { dataPath: join(dataDir, 'clickhouse') });
    await migrate(client);
  } catch (error) {
    if (/Cannot lock file|another server instance|Failed to create connection/i.test(String((error as Error).message) + String((error as Error).cause ?? ''))) {
      throw new ReadModelInUseError(`the read model in ${dataDir}/clickhouse is in use by another process (is the server running?); ${advice}`);
    }
    throw error;
  }
  try {
    if (!clickhouseUrl) await catchUp(client, config, options);
    return await work(client);
  } finally {
    await client.close();
  }
}

/** The audit trail and the access intervals brought up to the store's head (each ends with the store's events). */
async function catchUp(client: ClickHouseClient, config: Pick<LedgerConfig, 'dataDir' | 'KURRENTDB_URL'>, options: ReadModelOnDiskOptions): Promise<void> {
  const { dataDir } = config;
  const store = openEventStore({ sqlitePath: join(dataDir, 'events.sqlite'), ...(config.KURRENTDB_URL ? { kurrentdbUrl: config.KURRENTDB_URL } : {}) });
  try {
    const source = (after: number) => store.readAll({ after });
    const headPosition = () => store.headPosition();
    const audit = new AuditProjection({ client, source, headPosition });
    await audit.refreshLag();
    const head = audit.metrics.head;
    const timer = options.onProgress ? setInterval(() => options.onProgress!(audit.metrics.checkpoint + 1, head + 1), 500) : undefined;
    try {
      // A start retries the quarantined events, so `ledger quarantine list` runs it when any are held.
      if (audit.metrics.lag > 0 || (await listQuarantined(client, audit.name)).length > 0) await audit.run();
      const intervals = new AccessIntervalProjection({ client, source, headPosition, foldedFacts: () => foldedFactsOf(accessSnapshotPath(dataDir)) });
      if ((await intervals.lag()) > 0 || (await listQuarantined(client, intervals.name)).length > 0) await intervals.run();
      options.onProgress?.(audit.metrics.checkpoint + 1, head + 1);
    } finally {
      if (timer) clearInterval(timer);
    }
  } finally {
    await store.close();
  }
}

export interface ReadModelRebuildOptions {
  /** Only this tenant's rows are deleted and projected again; every other tenant's rows stay as they are. */
  readonly tenantId?: string;
  /** Progress of each stage: the projection's checkpoint (+1) against the head (+1) it rebuilds up to. */
  readonly onProgress?: (stage: string, done: number, total: number) => void;
}

export interface ReadModelRebuild {
  readonly head: number;
  readonly tenantId?: string;
  readonly stages: ReadonlyArray<{ readonly name: string; readonly ms: number }>;
  /** Interval tombstones (rows with is_deleted) removed after the rebuild (none is left). */
  readonly tombstonesPurged: number;
  readonly ms: number;
}

/**
 * `ledger rebuild --read-model` (the server stopped): the audit trail and the access intervals projected again from
 * the event store.
 *
 * - Every tenant: both projections' `rebuild()` (a new generation, the tables emptied, then everything projected
 *   again from position 0, the access intervals from a fresh fold rather than the access snapshot).
 * - One tenant (`tenantId`): both projections are first caught up to the head H (so they will never project an
 *   event ≤ H again), then only that tenant's rows are deleted (`ALTER TABLE … DELETE WHERE tenant_id = …`, waited
 *   for) and its events ≤ H are projected again by projections of their own name and generation (own checkpoints,
 *   own insert deduplication tokens). The other tenants' rows are not touched.
 *
 * Then the interval tombstones (docs/read-model.md) are purged: `OPTIMIZE … FINAL` keeps only each key's last
 * version, after which deleting the rows whose last version is a tombstone cannot bring an older version back.
 */
export async function rebuildReadModelOnDisk(
  config: Pick<LedgerConfig, 'dataDir' | 'CLICKHOUSE_URL' | 'KURRENTDB_URL'>,
  options: ReadModelRebuildOptions = {},
): Promise<ReadModelRebuild> {
  const started = performance.now();
  const { tenantId, onProgress } = options;
  const stages: { name: string; ms: number }[] = [];
  const stage = async <T>(name: string, progress: (() => number) | undefined, total: number, work: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const timer = progress && onProgress ? setInterval(() => onProgress(name, progress() + 1, total + 1), 500) : undefined;
    try {
      return await work();
    } finally {
      if (timer) clearInterval(timer);
      if (progress) onProgress?.(name, progress() + 1, total + 1);
      stages.push({ name, ms: Math.round(performance.now() - t0) });
    }
  };
  const { dataDir } = config;
  const body = async (client: ClickHouseClient) => {
    const store = openEventStore({ sqlitePath: join(dataDir, 'events.sqlite'), ...(config.KURRENTDB_URL ? { kurrentdbUrl: config.KURRENTDB_URL } : {}) });
    try {
      const head = await store.headPosition();
      const headPosition = () => store.headPosition();
      if (tenantId === undefined) {
        const source = (after: number) => store.readAll({ after });
        const audit = new AuditProjection({ client, source, headPosition });
        await audit.rebuild();
        await stage(
          'audit_events',
          () => audit.metrics.checkpoint,
          head,
          () => audit.run(),
        );
        const intervals = new AccessIntervalProjection({ client, source, headPosition });
        await intervals.rebuild();
        await stage(
          'access_intervals',
          () => intervals.metrics.checkpoint,
          head,
          () => intervals.run(),
        );
      } else {
        const tenantOnly = (after: number) => eventsOfTenant(store.readAll({ after }), tenantId, head);
        await client.command({
          query: 'ALTER TABLE audit_events DELETE WHERE tenant_id = {tenantId:String}',
          query_params: { tenantId },
          clickhouse_settings: { mutations_sync: '2' },
        });
        await client.command({
          query: 'ALTER TABLE access_intervals DELETE WHERE tenant_id = {tenantId:String}',
          query_params: { tenantId },
          clickhouse_settings: { mutations_sync: '2' },
        });
        const audit = new AuditProjection({ client, source: tenantOnly, name: `audit_events:rebuild:${tenantId}` });
        await restartFromZero(new CheckpointStore(client, audit.name));
        await stage(
          `audit_events (${tenantId})`,
          () => audit.metrics.checkpoint,
          head,
          () => audit.run(),
        );
        const intervals = new AccessIntervalProjection({ client, source: tenantOnly, name: `access_intervals:rebuild:${tenantId}` });
        await restartFromZero(new CheckpointStore(client, intervals.name));
        await stage(
          `access_intervals (${tenantId})`,
          () => intervals.metrics.checkpoint,
          head,
          () => intervals.run(),
        );
      }
      const tombstonesPurged = await stage('purge interval tombstones', undefined, 0, () => purgeIntervalTombstones(client));
      return { head, ...(tenantId !== undefined ? { tenantId } : {}), stages, tombstonesPurged, ms: Math.round(performance.now() - started) };
    } finally {
      await store.close();
    }
  };
  // Every tenant: nothing to catch up first (both tables are emptied); one tenant: caught up first (see above).
  if (tenantId === undefined) {
    if (!config.CLICKHOUSE_URL) assertReadModelFree(dataDir, 'stop it first');
    const client = openClickHouse(config.CLICKHOUSE_URL ? { url: config.CLICKHOUSE_URL } : { dataPath: join(dataDir, 'clickhouse') });
    try {
      await migrate(client);
      return await body(client);
    } finally {
      await client.close();
    }
  }
  return withReadModelOnDisk(config, body, { onProgress: (done, total) => onProgress?.('catch up', done, total) });
}

/** The tenant's events after `after` and up to `head` (a tenant rebuild stops at the head the others reached). */
async function* eventsOfTenant(events: AsyncIterable<RecordedEvent>, tenantId: string, head: number): AsyncIterable<RecordedEvent> {
  for await (const event of events) {
    if (event.position > head) return;
    if ((event.metadata as { tenantId?: unknown }).tenantId === tenantId) yield event;
  }
}

/** A rebuild projection of its own name starts from position 0 in a new generation (fresh deduplication tokens). */
async function restartFromZero(checkpoints: CheckpointStore): Promise<void> {
  const { generation } = await checkpoints.load();
  await checkpoints.save({ position: -1, pendingThrough: -1, generation: generation + 1 });
}

/**
 * Removes the interval tombstones: after `OPTIMIZE TABLE … FINAL` each key has only its last version, so deleting
 * the rows that are tombstones leaves no older version of their key behind. Returns how many were removed. Only
 * while nothing else writes the table (the server stopped).
 */
export async function purgeIntervalTombstones(client: ClickHouseClient): Promise<number> {
  const count = async () => {
    const [row] = await (await client.query({ query: 'SELECT count() AS n FROM access_intervals WHERE is_deleted', format: 'JSONEachRow' })).json<{
      n: number | string;
    }>();
    return Number(row?.n ?? 0);
  };
  const before = await count();
  if (before === 0) return 0;
  await client.command({ query: 'OPTIMIZE TABLE access_intervals FINAL' });
  await client.command({ query: 'ALTER TABLE access_intervals DELETE WHERE is_deleted', clickhouse_settings: { mutations_sync: '2' } });
  return before;
}
