import type { ClickHouseClient } from '@clickhouse/client';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  chdbOf,
  openClickHouse,
  AccessIntervalWriter,
  type AccessIntervalChange,
  AuditProjection,
  AUDIT_COLUMNS,
  auditLineOf,
  migrate,
  accessChanges,
  accessReviewRows,
  AuditSearchQuery,
  searchAuditEvents,
  type AuditSearchQuery as AuditSearchInput,
} from '@access-ledger/read-model';
import { syntheticEvent, syntheticEvents } from '../libs/read-model/test/synthetic-history.js';

/**
 * The read model on embedded chDB (docs/read-model.md, "Figures"):
 * - ingestion: the audit projection (flatten, serialise, dedup token, announce + checkpoint per batch) against a
 *   bare `INSERT` of the very same rows, same batch size, into a table of the same schema, in the same run. The
 *   bare side gets the same JSONCompactEachRow lines (auditLineOf) built before the clock starts and goes straight to chDB's raw insert; the
 *   ratio is what the projection costs on top of the engine.
 *   Target ≥ 100 000 events/s.
 * - audit search p50/p95 over a mix of filters and deep cursor pages (target p50 ≤ 100 ms);
 * - access review of every member at an instant (target ≤ 2 s) and a quarter's access changes (≤ 1 s), over a
 *   synthetic interval history (members × permissions × years).
 * Synthetic events: libs/history generates commands, which would need the whole ledger to become events; the
 * synthetic history has the same flattened shape (see libs/read-model/test/synthetic-history.ts).
 */
export interface ReadModelBenchOptions {
  /** Events in the history (default 2 000 000). */
  readonly events?: number;
  /** Rows per insert, for both the projection and the bare insert (default 20 000). */
  readonly batchSize?: number;
  /** Audit searches to time (default 200). */
  readonly searches?: number;
  /** Members for the interval history (default 25 000) over 3 years, ~20 changes each. */
  readonly members?: number;
  readonly dir?: string;
  readonly log?: (line: string) => void;
}

export interface ReadModelBenchResult {
  readonly events: number;
  readonly batchSize: number;
  readonly projectionEventsPerSecond: number;
  readonly bareEventsPerSecond: number;
  /** projection / bare */
  readonly ratio: number;
  /** The synthetic event source alone (included in the projection's time). */
  readonly sourceEventsPerSecond: number;
  readonly auditSearchP50Ms: number;
  readonly auditSearchP95Ms: number;
  readonly intervals: number;
  readonly accessReviewMs: number;
  readonly accessReviewRows: number;
  readonly quarterlyChangesMs: number;
  readonly quarterlyChanges: number;
  readonly node: string;
}

const BARE_TABLE = 'audit_events_bare';

async function timeBareInsert(client: ClickHouseClient, count: number, batchSize: number): Promise<number> {
  // Same columns, indexes, projection and partitioning as audit_events: the engine does the same work.
  await client.command({ query: `CREATE TABLE ${BARE_TABLE} AS audit_events` });
  const chdb = chdbOf(client);
  if (!chdb) throw new Error('the read-model bench measures embedded chDB');
  let seconds = 0;
  for (let start = 0; start < count; start += batchSize) {
    const lines = [];
    for (let i = start; i < Math.min(count, start + batchSize); i++) lines.push(auditLineOf(syntheticEvent(i)));
    const body = Buffer.from(lines.join('\n'));
    const t0 = performance.now();
    await chdb.rawInsert({
      table: BARE_TABLE,
      values: body,
      format: 'JSONCompactEachRow',
      columns: AUDIT_COLUMNS,
      settings: { date_time_input_format: 'best_effort', input_format_json_read_objects_as_strings: 1 },
    });
    seconds += (performance.now() - t0) / 1000;
  }
  return seconds;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))]!;
}

/** Deterministic pseudo-random numbers, so every run asks the same questions. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

const SEARCH_KINDS = ['newest two pages', 'by type', 'by subject', 'org + period', 'actor before an instant'] as const;

async function timeSearches(client: ClickHouseClient, count: number, events: number): Promise<{ all: number[]; byKind: number[][] }> {
  const random = lcg(7);
  const first = Date.parse(syntheticEvent(0).metadata.occurredAt as string);
  const last = Date.parse(syntheticEvent(events - 1).metadata.occurredAt as string);
  const instant = (fraction: number) => new Date(first + Math.floor((last - first) * fraction)).toISOString();
  const timings: number[] = [];
  const byKind: number[][] = SEARCH_KINDS.map(() => []);
  for (let i = 0; i < count; i++) {
    const tenant = `t${i % 3}`;
    const kind = i % 5;
    const query: AuditSearchInput =
      kind === 0
        ? { limit: 100 }
        : kind === 1
          ? { type: 'MemberRoleChanged', limit: 100 }
          : kind === 2
            ? { subject: `u${Math.floor(random() * 5000)}`, limit: 100 }
            : kind === 3
              ? { from: instant(random() * 0.9), to: instant(0.95), orgId: `${tenant}-org1`, limit: 100 }
              : { actor: `u${i % 17}`, to: instant(random()), limit: 100 };
    const t0 = performance.now();
    const page = await searchAuditEvents(client, tenant, AuditSearchQuery.parse(query));
    if (page.nextCursor && kind === 0) await searchAuditEvents(client, tenant, AuditSearchQuery.parse({ ...query, cursor: page.nextCursor }));
    timings.push(performance.now() - t0);
    byKind[kind]!.push(performance.now() - t0);
  }
  return { all: timings.sort((a, b) => a - b), byKind: byKind.map((k) => k.sort((a, b) => a - b)) };
}

/** ~20 grant/revoke changes per member over three years, in time order, across 4 organizations. */
function* intervalChanges(members: number): Generator<AccessIntervalChange> {
  const random = lcg(11);
  const start = Date.parse('2023-03-01T00:00:00.000Z');
  const span = 3 * 365 * 86_400_000;
  const permissions = [
    'capability:chat',
    'capability:claude_code',
    'capability:cowork',
    'tool:jira/search',
    'tool:github/create_pr',
    'admin:billing',
    'admin:identity_access',
    'role:admin',
  ];
  const changes: AccessIntervalChange[] = [];
  for (let m = 0; m < members; m++) {
    const orgId = `org${m % 4}`;
    const held = new Set<string>();
    for (let k = 0; k < 20; k++) {
      const permission = permissions[Math.floor(random() * permissions.length)]!;
      const at = new Date(start + Math.floor(random() * span)).toISOString();
      const kind = held.has(permission) ? 'close' : 'open';
      if (kind === 'open') held.add(permission);
      else held.delete(permission);
      changes.push({
        tenantId: 'bench',
        orgId,
        userId: `u${m}`,
        permission,
        level: permission.startsWith('admin:') ? 'manage' : 'granted',
        at,
        eventId: `ev-${m}-${k}`,
        kind,
      });
    }
  }
  // Changes must arrive in time order per member; sorting the whole list keeps that and mixes members.
  changes.sort((a, b) => a.at.localeCompare(b.at));
  yield* changes;
}

export async function benchReadModel(opts: ReadModelBenchOptions = {}): Promise<ReadModelBenchResult> {
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const count = opts.events ?? 2_000_000;
  const batchSize = opts.batchSize ?? 20_000;
  const dir = mkdtempSync(join(opts.dir ?? tmpdir(), 'read-model-bench-'));
  const client = openClickHouse({ url: '', dataPath: dir });
  try {
    await migrate(client);
    log(`read model on embedded chDB: ${count} synthetic events, batches of ${batchSize}`);

    const bareSeconds = await timeBareInsert(client, count, batchSize);
    await client.command({ query: `DROP TABLE ${BARE_TABLE} SYNC` });
    const projection = new AuditProjection({ client, source: (after) => syntheticEvents(count, after), maxBatchSize: batchSize });
    const t0 = performance.now();
    await projection.run();
    const projectionSeconds = (performance.now() - t0) / 1000;
    const projectionEventsPerSecond = Math.round(count / projectionSeconds);
    // What producing the events costs by itself (it runs on the projection's clock, not on the bare one's).
    const s0 = performance.now();
    for await (const event of syntheticEvents(count)) if (event.position < 0) throw new Error('unreachable');
    const sourceEventsPerSecond = Math.round(count / ((performance.now() - s0) / 1000));
    const bareEventsPerSecond = Math.round(count / bareSeconds);
    const ratio = Math.round((bareSeconds / projectionSeconds) * 100) / 100;
    log(`ingestion: projection ${projectionEventsPerSecond} ev/s, bare INSERT ${bareEventsPerSecond} ev/s, projection/bare ${Math.round(ratio * 100)} %`);
    log(`  (the synthetic source alone, which the projection's figure includes: ${sourceEventsPerSecond} ev/s)`);

    await client.command({ query: 'OPTIMIZE TABLE audit_events FINAL' }).catch(() => undefined);
    const { all: timings, byKind } = await timeSearches(client, opts.searches ?? 200, count);
    const auditSearchP50Ms = Math.round(percentile(timings, 0.5) * 10) / 10;
    const auditSearchP95Ms = Math.round(percentile(timings, 0.95) * 10) / 10;
    log(`audit search over ${timings.length} queries: p50 ${auditSearchP50Ms} ms, p95 ${auditSearchP95Ms} ms`);
    log(`  p50 per kind: ${SEARCH_KINDS.map((kind, i) => `${kind} ${Math.round(percentile(byKind[i]!, 0.5))} ms`).join(', ')}`);

    const writer = new AccessIntervalWriter(client);
    let batch: AccessIntervalChange[] = [];
    let intervals = 0;
    for (const change of intervalChanges(opts.members ?? 25_000)) {
      batch.push(change);
      if (batch.length === 50_000) {
        intervals += await writer.write(batch);
        batch = [];
      }
    }
    intervals += await writer.write(batch);
    let t = performance.now();
    const review = await accessReviewRows(client, 'bench', 'org1', { at: '2025-06-15T12:00:00.000Z' });
    const accessReviewMs = Math.round(performance.now() - t);
    t = performance.now();
    const changes = await accessChanges(client, 'bench', 'org1', { from: '2025-04-01T00:00:00.000Z', to: '2025-07-01T00:00:00.000Z' });
    const quarterlyChangesMs = Math.round(performance.now() - t);
    log(
      `intervals: ${intervals} rows written; access review of every member of an org at an instant ${accessReviewMs} ms (${review.length} rows); quarterly changes ${quarterlyChangesMs} ms (${changes.length} rows)`,
    );

    return {
      events: count,
      batchSize,
      projectionEventsPerSecond,
      bareEventsPerSecond,
      ratio,
      sourceEventsPerSecond,
      auditSearchP50Ms,
      auditSearchP95Ms,
      intervals,
      accessReviewMs,
      accessReviewRows: review.length,
      quarterlyChangesMs,
      quarterlyChanges: changes.length,
      node: process.version,
    };
  } finally {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const events = process.env.BENCH_EVENTS ? Number(process.env.BENCH_EVENTS) : undefined;
  await benchReadModel(events ? { events } : {});
}
