import type { ClickHouseClient } from '@clickhouse/client';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LedgerConfig } from '@access-ledger/config';
import { openEventStore } from '@access-ledger/event-store';
import { AccessIntervalProjection, accessSnapshotPath, foldedFactsOf } from '@access-ledger/projections';
import { AuditProjection, listQuarantined, migrate, openClickHouse } from '@access-ledger/read-model';

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
