import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import type { RowCursor } from '@access-ledger/exports';
import { ClickHouseAuditTable, HecSinkConfig, S3SinkConfig, HecDelivery, exportToHec, exportToS3, S3ObjectStore } from '@access-ledger/exports';
import { migrate, openClickHouse } from '@access-ledger/read-model';
import { startHecReceiver } from '../test/support/hec-receiver.js';
import { startS3rver } from '../test/support/s3rver-process.js';

/**
 * Export throughput on a 2-million-event audit trail, each figure next to a same-run baseline:
 * - S3: `exportToS3` (ClickHouse's s3() writing one Parquet object per day into s3rver in a separate
 *   process, then a read-back for each object's sha256) vs. ClickHouse rendering the very same rows as
 *   Parquet into memory (the raw read + encode, no S3).
 * - Splunk: `exportToHec` with indexer acknowledgement (gzip batches of 512 KiB, 4 in flight) to the
 *   strict local receiver in a separate process vs. paging the very same rows out of ClickHouse as
 *   the encoded HEC lines the delivery reads (and, for scale, as JS objects).
 * And, for scale, the plainest read of the same rows (FORMAT Null: read, decode, discard).
 * Without `client`, the history is 2 M synthetic rows of one tenant over three years, made in SQL;
 * pass the ClickHouse holding the generated benchmark history (and its tenant) to measure that instead.
 */
export interface ExportsBenchOptions {
  readonly events?: number;
  /** A ClickHouse whose `audit_events` already holds the history (then `events` is ignored). */
  readonly client?: ClickHouseClient;
  readonly tenantId?: string;
  readonly skip?: readonly ('s3' | 'hec')[];
  readonly log?: (line: string) => void;
}

export interface ThroughputFigure {
  readonly rows: number;
  readonly seconds: number;
  readonly rowsPerSecond: number;
  readonly baselineRowsPerSecond: number;
  /** sink / baseline */
  readonly ratio: number;
}

export interface ExportsBenchResult {
  readonly rows: number;
  /** ClickHouse reading and decoding the rows, output discarded. */
  readonly scanRowsPerSecond?: number;
  readonly s3?: ThroughputFigure & { readonly objects: number; readonly bytes: number };
  /** The same export with the upload writer (ClickHouse renders, the AWS SDK uploads). */
  readonly s3Upload?: ThroughputFigure;
  readonly hec?: ThroughputFigure & { readonly duplicates: number; readonly requests: number; readonly rowsAsObjectsPerSecond: number };
  readonly node: string;
}

const START = Date.parse('2023-03-01T00:00:00.000Z');
const YEARS3 = 3 * 365 * 86_400_000;

export async function benchExports(opts: ExportsBenchOptions = {}): Promise<ExportsBenchResult> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const tenantId = opts.tenantId ?? 'bench';
  const dir = mkdtempSync(join(tmpdir(), 'exports-bench-'));
  const client = opts.client ?? openClickHouse({ dataPath: join(dir, 'clickhouse') });
  const cleanup: (() => Promise<void> | void)[] = [];
  try {
    if (!opts.client) {
      await migrate(client);
      const n = opts.events ?? 2_000_000;
      const t = Date.now();
      await fillSynthetic(client, tenantId, n);
      log(`exports bench: ${n.toLocaleString('en')} synthetic audit rows made in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    }
    const table = new ClickHouseAuditTable(client);
    const upToPosition = await table.headPosition(tenantId);
    const bounds = await client.query({
      query: `SELECT toUnixTimestamp64Milli(min(occurred_at)) AS lo, toUnixTimestamp64Milli(max(occurred_at)) AS hi FROM audit_events WHERE tenant_id = {t:String}`,
      query_params: { t: tenantId },
      format: 'JSONEachRow',
    });
    const [{ lo, hi }] = await bounds.json<{ lo: string | number; hi: string | number }>();
    const from = new Date(Math.floor(Number(lo) / 86_400_000) * 86_400_000).toISOString();
    const to = new Date(Number(hi) + 1).toISOString();
    const range = { tenantId, from, to, upToPosition };
    const rows = await table.countRange(range);
    log(`exports bench: tenant ${tenantId}, ${rows.toLocaleString('en')} rows from ${from} to ${to}`);
    const result: { -readonly [K in keyof ExportsBenchResult]: ExportsBenchResult[K] } = { rows, node: process.version };

    // The plainest read: the same rows, same filter and order, decoded by ClickHouse and discarded (FORMAT Null).
    const scan = await timed(async () => {
      await client.command({
        query: `SELECT * FROM audit_events WHERE tenant_id = {t:String} AND position <= {upTo:UInt64} ORDER BY occurred_at, position FORMAT Null`,
        query_params: { t: tenantId, upTo: upToPosition },
      });
      return rows;
    });
    result.scanRowsPerSecond = Math.round(rows / scan.seconds);
    log(`raw ClickHouse scan (FORMAT Null): ${fmt(rows / scan.seconds)} rows/s (${scan.seconds.toFixed(1)} s)`);

    if (!opts.skip?.includes('s3')) {
      const baseline = await timed(async () => (await table.render(range, 'parquet')).length);
      const s3 = await startS3rver({ buckets: ['bench-exports'], directory: join(dir, 's3rver') });
      cleanup.push(() => s3.stop());
      const config = S3SinkConfig.parse({
        kind: 's3',
        uri: 's3://bench-exports/audit',
        endpoint: s3.endpoint,
        forcePathStyle: true,
        credentials: s3.credentials,
      });
      const store = new S3ObjectStore(config);
      cleanup.push(() => store.destroy());
      const run = await timed(() => exportToS3({ table, store, config }, { exportId: 'bench', tenantId, from, to, upToPosition }));
      const rps = run.value.rows / run.seconds;
      const base = rows / baseline.seconds;
      result.s3 = {
        rows: run.value.rows,
        seconds: run.seconds,
        rowsPerSecond: Math.round(rps),
        baselineRowsPerSecond: Math.round(base),
        ratio: rps / base,
        objects: run.value.objects.length,
        bytes: run.value.objects.reduce((b, o) => b + o.bytes, 0),
      };
      const uploadConfig = S3SinkConfig.parse({ ...config, uri: 's3://bench-exports/upload', writer: 'upload' });
      const upload = await timed(() => exportToS3({ table, store, config: uploadConfig }, { exportId: 'bench-upload', tenantId, from, to, upToPosition }));
      const ups = upload.value.rows / upload.seconds;
      result.s3Upload = {
        rows: upload.value.rows,
        seconds: upload.seconds,
        rowsPerSecond: Math.round(ups),
        baselineRowsPerSecond: Math.round(base),
        ratio: ups / base,
      };
      log(
        `S3 Parquet export: ${fmt(rps)} rows/s (${run.value.objects.length} objects, ${(result.s3.bytes / 1e6).toFixed(1)} MB, ${run.seconds.toFixed(1)} s)` +
          ` | raw ClickHouse Parquet read ${fmt(base)} rows/s (${(baseline.value / 1e6).toFixed(1)} MB, ${baseline.seconds.toFixed(1)} s) | ratio ${(rps / base).toFixed(2)}`,
      );
      log(`S3 Parquet export, upload writer: ${fmt(ups)} rows/s (${upload.seconds.toFixed(1)} s) | ratio ${(ups / base).toFixed(2)}`);
    }

    if (!opts.skip?.includes('hec')) {
      // Two same-run reads of the very rows the delivery sends: as JS objects (JSONEachRow, what a
      // generic consumer does) and as ready HEC lines (TabSeparatedRaw, what exportToHec reads).
      const page = async (read: (after: RowCursor | null) => Promise<{ n: number; last: RowCursor | null }>) => {
        let after: RowCursor | null = null;
        let count = 0;
        for (;;) {
          const { n, last } = await read(after);
          if (n === 0) return count;
          count += n;
          after = last;
        }
      };
      const q = (after: RowCursor | null) => ({ tenantId, from, to, upToPosition, after, limit: 5000 });
      const rowsRead = await timed(() =>
        page(async (after) => {
          const p = await table.readRangePage(q(after));
          return { n: p.length, last: p.length ? { occurredAt: p.at(-1)!.occurred_at, position: p.at(-1)!.position } : null };
        }),
      );
      const envelope = { source: 'access-ledger', sourcetype: 'access-ledger:audit' };
      const baseline = await timed(() =>
        page(async (after) => {
          const p = await table.readRangeEncoded(q(after), envelope);
          return { n: p.length, last: p.length ? { occurredAt: p.at(-1)!.occurredAt, position: p.at(-1)!.position } : null };
        }),
      );
      log(
        `raw ClickHouse paging: ${fmt(rowsRead.value / rowsRead.seconds)} rows/s as JS objects, ${fmt(baseline.value / baseline.seconds)} rows/s as encoded HEC lines`,
      );
      const token = '00000000-0000-4000-8000-000000000000';
      const receiver = await startReceiver({ token, ack: true, retainEvents: false });
      cleanup.push(() => receiver.stop());
      const config = HecSinkConfig.parse({ kind: 'splunk', url: receiver.url, token, ack: true, ackPollIntervalMs: 100 });
      const delivery = new HecDelivery(config);
      cleanup.push(() => delivery.close());
      const run = await timed(() => exportToHec(table, delivery, { tenantId, from, to, after: null, upToPosition }));
      const stats = await receiver.stats();
      const eps = run.value.delivered / run.seconds;
      const base = baseline.value / baseline.seconds;
      result.hec = {
        rows: run.value.delivered,
        seconds: run.seconds,
        rowsPerSecond: Math.round(eps),
        baselineRowsPerSecond: Math.round(base),
        ratio: eps / base,
        duplicates: stats.indexed - stats.unique,
        rowsAsObjectsPerSecond: Math.round(rowsRead.value / rowsRead.seconds),
        requests: delivery.stats.requests,
      };
      log(
        `Splunk HEC delivery (ack on): ${fmt(eps)} events/s (${delivery.stats.requests} requests, ${stats.unique.toLocaleString('en')} distinct events indexed, ${stats.indexed - stats.unique} duplicates, ${run.seconds.toFixed(1)} s)` +
          ` | raw ClickHouse read of the same lines ${fmt(base)} rows/s (${baseline.seconds.toFixed(1)} s) | ratio ${(eps / base).toFixed(2)}`,
      );
    }
    return result;
  } finally {
    for (const c of cleanup.reverse()) await c();
    if (!opts.client) await client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** 2 M rows shaped like the audit trail (ids, JSON payloads, 64-hex hashes), spread evenly over three years. */
async function fillSynthetic(client: ClickHouseClient, tenantId: string, n: number): Promise<void> {
  await client.command({
    // The columns named: those added since (auth) take their defaults, as for events stored before them.
    query: `INSERT INTO audit_events (tenant_id, org_id, event_id, position, revision, type, actor_kind, actor_org_id, actor_user_id,
        subject, occurred_at, recorded_at, source, correlation_id, causation_id, payload, hash)
      SELECT
        {tenant:String} AS tenant_id,
        ['acme-eng', 'acme-sales', 'acme-ops', 'acme-research'][1 + number % 4] AS org_id,
        concat('evt-', leftPad(toString(number), 9, '0')) AS event_id,
        number AS position,
        number AS revision,
        ['MemberAdded', 'UserAddedToGroup', 'UserRemovedFromGroup', 'RoleAssignedToGroup', 'RoleCapabilitySet', 'MemberRoleChanged', 'ApiKeyCreated', 'OrgToolPolicySet'][1 + (number * 7919) % 8] AS type,
        if(number % 10 = 0, 'scim', 'member') AS actor_kind,
        if(number % 10 = 0, '', ['acme-eng', 'acme-sales', 'acme-ops', 'acme-research'][1 + number % 4]) AS actor_org_id,
        if(number % 10 = 0, '', concat('u-', toString((number * 31) % 25000))) AS actor_user_id,
        concat('u-', toString((number * 17) % 25000)) AS subject,
        fromUnixTimestamp64Milli(toInt64({start:Int64} + number * {step:Int64}), 'UTC') AS occurred_at,
        fromUnixTimestamp64Milli(toInt64({start:Int64} + number * {step:Int64} + 150), 'UTC') AS recorded_at,
        'api' AS source,
        toString(generateUUIDv4()) AS correlation_id,
        '' AS causation_id,
        concat('{"orgId":"acme-eng","userId":"u-', toString((number * 17) % 25000), '","groupId":"g-', toString(number % 600), '","email":"u', toString((number * 17) % 25000), '@acme.example"}') AS payload,
        lower(hex(SHA256(toString(number)))) AS hash
      FROM numbers({n:UInt64})`,
    query_params: { tenant: tenantId, n, start: START, step: Math.floor(YEARS3 / n) },
  });
}

/** The strict receiver in its own process (when compiled), so its gunzip and parsing do not share the client's event loop. */
async function startReceiver(options: { token: string; ack: boolean; retainEvents: boolean }): Promise<{
  url: string;
  stats(): Promise<{ indexed: number; unique: number }>;
  stop(): Promise<void>;
}> {
  const moduleUrl = new URL('../test/support/hec-receiver.js', import.meta.url);
  if (!import.meta.url.endsWith('.js')) {
    const r = await startHecReceiver(options);
    return { url: r.url, stats: async () => ({ indexed: r.indexed(), unique: r.arrivals().size }), stop: () => r.stop() };
  }
  const script = `
    const { startHecReceiver } = await import(process.argv[1]);
    const r = await startHecReceiver(JSON.parse(process.argv[2]));
    process.stdout.write(JSON.stringify({ url: r.url }) + '\\n');
    process.stdin.on('data', () => process.stdout.write(JSON.stringify({ indexed: r.indexed(), unique: r.arrivals().size }) + '\\n'));
    process.stdin.on('end', () => r.stop().then(() => process.exit(0)));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, moduleUrl.href, JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = lineReader(child);
  const { url } = JSON.parse(await lines.next()) as { url: string };
  return {
    url,
    async stats() {
      child.stdin!.write('stats\n');
      return JSON.parse(await lines.next()) as { indexed: number; unique: number };
    },
    async stop() {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.stdin!.end();
      await exited;
    },
  };
}

function lineReader(child: ChildProcess): { next(): Promise<string> } {
  let buffer = '';
  const waiting: ((line: string) => void)[] = [];
  const ready: string[] = [];
  child.stdout!.on('data', (d: Buffer) => {
    buffer += d.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      const w = waiting.shift();
      if (w) w(line);
      else ready.push(line);
    }
  });
  return { next: () => (ready.length ? Promise.resolve(ready.shift()!) : new Promise((resolve) => waiting.push(resolve))) };
}

async function timed<T>(f: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const t = process.hrtime.bigint();
  const value = await f();
  return { value, seconds: Number(process.hrtime.bigint() - t) / 1e9 };
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en');
}

// `node dist/bench/exports.bench.js [events]` runs it alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  await benchExports({ ...(process.argv[2] ? { events: Number(process.argv[2]) } : {}) });
}
