import type { ClickHouseClient } from '@clickhouse/client';
import { join } from 'node:path';
import type { LedgerConfig } from '@access-ledger/config';
import { openEventStore } from '@access-ledger/event-store';
import { AccessIntervalProjection, accessSnapshotPath, foldedFactsOf } from '@access-ledger/projections';
import { AuditProjection, listQuarantined, migrate, openClickHouse } from '@access-ledger/read-model';

/** The read model's data directory is held by another process (the running server): chDB locks it. */
export class ReadModelInUseError extends Error {
  override readonly name = 'ReadModelInUseError';
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
  let client: ClickHouseClient;
  try {
    client = openClickHouse(clickhouseUrl ? { url: clickhouseUrl } : { dataPath: join(dataDir, 'clickhouse') });
    await migrate(client);
  } catch (error) {
    if (/Cannot lock file|another server instance|Failed to create connection/i.test(String((error as Error).message) + String((error as Error).cause ?? ''))) {
      throw new ReadModelInUseError(
        `the read model in ${dataDir}/clickhouse is in use by another process (is the server running?); ask the server instead with --url and --key`,
      );
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
