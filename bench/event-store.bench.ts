import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { pathToFileURL } from 'node:url';
import { canonicalJson, eventHash, GENESIS_HASH, SqliteEventStore } from '@access-ledger/event-store';
import type { EventToAppend } from '@access-ledger/event-store';

/**
 * Append throughput of the SQLite event store against a same-run baseline: a bare `node:sqlite`
 * insert loop of the very same rows (same table, same pragmas: WAL + synchronous=FULL, one
 * transaction per batch), whose row values (JSON text, hashes) are computed before the clock starts.
 * The ratio is what the store's work costs on top of SQLite: the expected-revision and idempotency
 * look-ups, canonical JSON and SHA-256 per event. Target: batch 1000 at ≥ 50 % of bare.
 */

export interface EventStoreBenchOptions {
  /** Batch sizes to measure (default 1, 100, 1000). */
  readonly batchSizes?: readonly number[];
  /** Events appended per batch size; default scales so each run takes a few seconds at most. */
  readonly eventsFor?: (batchSize: number) => number;
  /** Measurements per batch size and side, alternating store and bare; the best of each is kept (default 3). */
  readonly rounds?: number;
  /** Where the temporary SQLite files go (default: the OS temp dir). */
  readonly dir?: string;
  readonly log?: (line: string) => void;
}

export interface EventStoreBenchRow {
  readonly batchSize: number;
  readonly events: number;
  readonly storeEventsPerSecond: number;
  readonly bareEventsPerSecond: number;
  /** store / bare */
  readonly ratio: number;
}

export interface EventStoreBenchResult {
  readonly rows: readonly EventStoreBenchRow[];
  readonly synchronous: 'FULL';
  readonly node: string;
}

const defaultEventsFor = (batchSize: number): number => (batchSize === 1 ? 500 : batchSize <= 100 ? 20_000 : 50_000);

function makeEvents(prefix: string, count: number): EventToAppend[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${i}`,
    type: 'RoleAssignedToGroup',
    data: { orgId: 'acme-eng', groupId: `g-${i % 50}`, roleId: `r-${i % 7}` },
    metadata: {
      tenantId: 'bench',
      occurredAt: '2026-03-01T09:00:00.000Z',
      recordedAt: '2026-03-01T09:00:00.123Z',
      actor: { kind: 'member', orgId: 'acme-eng', userId: `u-${i % 300}` },
      source: 'api',
      correlationId: `corr-${i}`,
      schemaVersion: 1,
    },
  }));
}

function removeDatabase(path: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
}

async function timeStore(path: string, stream: string, events: EventToAppend[], batchSize: number): Promise<number> {
  const store = SqliteEventStore.open(path);
  try {
    const started = process.hrtime.bigint();
    let expectedRevision: number | 'no_stream' = 'no_stream';
    for (let i = 0; i < events.length; i += batchSize) {
      const result = await store.append(stream, events.slice(i, i + batchSize), { expectedRevision });
      expectedRevision = result.nextRevision;
    }
    return Number(process.hrtime.bigint() - started) / 1e9;
  } finally {
    await store.close();
    removeDatabase(path);
  }
}

function timeBare(path: string, stream: string, events: EventToAppend[], batchSize: number): number {
  // Same schema and pragmas as the store: open it once through the store, then write around it.
  SqliteEventStore.open(path).close();
  const rows: [string, number, string, string, string, string, string, string][] = [];
  let prevHash = GENESIS_HASH;
  events.forEach((e, revision) => {
    const hash = eventHash(prevHash, { ...e, streamId: stream, revision });
    rows.push([stream, revision, e.id, e.type, canonicalJson(e.data), canonicalJson(e.metadata), prevHash, hash]);
    prevHash = hash;
  });
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = FULL');
  const insert = db.prepare('INSERT INTO events (stream_id, revision, id, type, data, metadata, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const started = process.hrtime.bigint();
  for (let i = 0; i < rows.length; i += batchSize) {
    db.exec('BEGIN IMMEDIATE');
    for (let j = i; j < Math.min(i + batchSize, rows.length); j++) insert.run(...rows[j]!);
    db.exec('COMMIT');
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  db.close();
  removeDatabase(path);
  return seconds;
}

export async function benchEventStore(opts: EventStoreBenchOptions = {}): Promise<EventStoreBenchResult> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const eventsFor = opts.eventsFor ?? defaultEventsFor;
  const dir = mkdtempSync(join(opts.dir ?? tmpdir(), 'bench-event-store-'));
  const rows: EventStoreBenchRow[] = [];
  try {
    // Warm-up: JIT and page cache, not measured.
    await timeStore(join(dir, 'warm-store.sqlite'), 'tenant-warm', makeEvents('warm-s', 2_000), 100);
    timeBare(join(dir, 'warm-bare.sqlite'), 'tenant-warm', makeEvents('warm-b', 2_000), 100);

    log(`event store append throughput (SQLite, WAL, synchronous=FULL; best of ${opts.rounds ?? 3})`);
    log('batch   events   store ev/s    bare ev/s   store/bare');
    for (const batchSize of opts.batchSizes ?? [1, 100, 1000]) {
      const count = eventsFor(batchSize);
      const events = makeEvents(`b${batchSize}`, count);
      // Best of N, alternating sides, so that a burst of load from elsewhere on the machine does not
      // land on one side only.
      let bareSeconds = Number.POSITIVE_INFINITY;
      let storeSeconds = Number.POSITIVE_INFINITY;
      for (let round = 0; round < (opts.rounds ?? 3); round++) {
        bareSeconds = Math.min(bareSeconds, timeBare(join(dir, `bare-${batchSize}-${round}.sqlite`), 'tenant-bench', events, batchSize));
        storeSeconds = Math.min(storeSeconds, await timeStore(join(dir, `store-${batchSize}-${round}.sqlite`), 'tenant-bench', events, batchSize));
      }
      const row: EventStoreBenchRow = {
        batchSize,
        events: count,
        storeEventsPerSecond: Math.round(count / storeSeconds),
        bareEventsPerSecond: Math.round(count / bareSeconds),
        ratio: Math.round((bareSeconds / storeSeconds) * 100) / 100,
      };
      rows.push(row);
      log(
        `${String(batchSize).padStart(5)} ${String(count).padStart(8)} ${String(row.storeEventsPerSecond).padStart(12)} ${String(
          row.bareEventsPerSecond,
        ).padStart(12)} ${`${Math.round(row.ratio * 100)} %`.padStart(12)}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { rows, synchronous: 'FULL', node: process.version };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchEventStore();
}
