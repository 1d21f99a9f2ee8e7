import type { ClickHouseClient } from '@clickhouse/client';

/**
 * The read model's schema, as numbered migrations recorded in `schema_migrations` and applied at start.
 * Every statement is idempotent (IF NOT EXISTS), so two processes starting together, or a crash between a
 * statement and its record, only re-run harmless statements. Never edit a released migration: add one.
 * docs/read-model.md explains each engine, ordering key and partition choice.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
}

/** `valid_to` of an interval that is still open: the top of DateTime64's range, so overlap tests need no NULL case. */
export const OPEN_END = '2299-12-31T23:59:59.999Z';

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'audit trail',
    statements: [
      // Skip indexes only where a filter is selective (a subject, an actor, a type); org_id has few values per
      // tenant, so a bloom filter on it would cost inserts and skip nothing. The payload keeps the default LZ4:
      // ZSTD(3) halved the embedded insert rate in the benchmark.
      // Plain MergeTree + insert deduplication tokens (not ReplacingMergeTree): a replayed batch is dropped
      // at insert time, so every query is exact without FINAL. A non-replicated MergeTree only remembers
      // tokens when non_replicated_deduplication_window > 0; 1000 blocks is far more than one crash replays.
      `CREATE TABLE IF NOT EXISTS audit_events (
        tenant_id String,
        org_id String,
        event_id String,
        position UInt64,
        revision UInt64,
        type LowCardinality(String),
        actor_kind LowCardinality(String),
        actor_org_id String,
        actor_user_id String,
        subject String,
        occurred_at DateTime64(3, 'UTC'),
        recorded_at DateTime64(3, 'UTC'),
        source LowCardinality(String),
        correlation_id String,
        causation_id String,
        payload String,
        hash String,
        INDEX idx_type type TYPE set(256) GRANULARITY 4,
        INDEX idx_subject subject TYPE bloom_filter(0.01) GRANULARITY 4,
        INDEX idx_actor actor_user_id TYPE bloom_filter(0.01) GRANULARITY 4
      ) ENGINE = MergeTree
      PARTITION BY toYYYYMM(occurred_at)
      ORDER BY (tenant_id, occurred_at, position)
      SETTINGS non_replicated_deduplication_window = 1000`,
    ],
  },
  {
    version: 2,
    name: 'access intervals',
    statements: [
      // One row per interval during which a member held a permission at a level. Closing an interval is an
      // insert of the same key with valid_to/closed_by set and a higher version; ReplacingMergeTree keeps the
      // latest version, and queries read with FINAL so they never see the stale open row.
      `CREATE TABLE IF NOT EXISTS access_intervals (
        tenant_id String,
        org_id String,
        user_id String,
        permission LowCardinality(String),
        level LowCardinality(String),
        valid_from DateTime64(3, 'UTC'),
        valid_to DateTime64(3, 'UTC') DEFAULT '${OPEN_END}',
        opened_by String,
        closed_by String DEFAULT '',
        version UInt64
      ) ENGINE = ReplacingMergeTree(version)
      ORDER BY (tenant_id, org_id, permission, user_id, valid_from, opened_by)
      SETTINGS non_replicated_deduplication_window = 1000`,
    ],
  },
  {
    version: 3,
    name: 'projection checkpoints',
    statements: [
      // A checkpoint write is an insert; the row with the highest version is the checkpoint.
      // pending_through > position means a batch up to pending_through may have been inserted but not
      // checkpointed: the next run must rebuild exactly that batch (same rows, same dedup token).
      `CREATE TABLE IF NOT EXISTS projection_checkpoints (
        projection_name LowCardinality(String),
        tenant_id String,
        position Int64,
        pending_through Int64,
        generation UInt32,
        version UInt64,
        updated_at DateTime64(3, 'UTC')
      ) ENGINE = ReplacingMergeTree(version)
      ORDER BY (projection_name, tenant_id)`,
    ],
  },
  {
    version: 4,
    name: 'no subject projection',
    statements: [
      // Version 4 briefly added a narrow projection ordered by subject for subject searches. Measured on 2 million
      // events it did not beat the plain scan (reading the page's rows back by key cost as much as it saved), so it
      // is gone; this keeps the version number meaning the same thing on every data directory.
      'ALTER TABLE audit_events DROP PROJECTION IF EXISTS by_subject',
    ],
  },
  {
    version: 5,
    name: 'access interval tombstones',
    statements: [
      // A late event (R61) can make an interval that was written never have existed: the interval projection then
      // re-inserts its key with is_deleted = 1 and a higher version (docs/access-intervals.md). The engine cannot be
      // changed in place to ReplacingMergeTree(version, is_deleted) (that would need a copy and a swap, which is
      // not one idempotent statement), so the latest version stays the row and every reader of the table adds
      // `NOT is_deleted` after FINAL. Existing rows read 0: nothing written before this version is a tombstone.
      'ALTER TABLE access_intervals ADD COLUMN IF NOT EXISTS is_deleted UInt8 DEFAULT 0',
    ],
  },
  {
    version: 6,
    name: 'audit auth',
    statements: [
      // The authenticated key and principal beside the claimed actor, as the JSON text of the
      // event's `metadata.auth`. Rows projected before this version read '' (their events predate the field).
      "ALTER TABLE audit_events ADD COLUMN IF NOT EXISTS auth String DEFAULT ''",
    ],
  },
  {
    version: 7,
    name: 'quarantined events',
    statements: [
      // An event a projection cannot take is recorded here and skipped, so one event never stops
      // a projection. A retry that succeeds re-inserts the key with released = 1 and a higher version; readers use
      // FINAL. Per generation: a rebuild replays everything, so an older generation's quarantine no longer applies.
      `CREATE TABLE IF NOT EXISTS quarantined_events (
        projection_name String,
        generation UInt32,
        position UInt64,
        tenant_id String,
        event_id String,
        type String,
        error String,
        first_seen DateTime64(3, 'UTC'),
        released UInt8 DEFAULT 0,
        version UInt64
      ) ENGINE = ReplacingMergeTree(version)
      ORDER BY (projection_name, generation, position)`,
    ],
  },
];

const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version UInt32,
  name String,
  applied_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree ORDER BY version`;

export async function appliedMigrations(client: ClickHouseClient): Promise<number[]> {
  const result = await client.query({ query: 'SELECT DISTINCT version FROM schema_migrations ORDER BY version', format: 'JSONEachRow' });
  const rows = await result.json<{ version: number | string }>();
  return rows.map((row) => Number(row.version));
}

/** Applies every migration not yet recorded, in order. Returns the versions it applied. */
export async function migrate(client: ClickHouseClient, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  await client.command({ query: MIGRATIONS_TABLE });
  const done = new Set(await appliedMigrations(client));
  const applied: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.has(migration.version)) continue;
    for (const statement of migration.statements) await client.command({ query: statement });
    await client.insert({
      table: 'schema_migrations',
      values: [{ version: migration.version, name: migration.name, applied_at: new Date().toISOString() }],
      format: 'JSONEachRow',
    });
    applied.push(migration.version);
  }
  return applied;
}
