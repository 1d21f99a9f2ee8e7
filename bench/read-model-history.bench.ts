import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SqliteEventStore } from '@access-ledger/event-store';
import { AccessIntervalProjection, AccessProjection } from '@access-ledger/projections';
import {
  AccessReviewQuery,
  AuditProjection,
  ORG_TOOLS_USER,
  REVIEW_CSV_MEMBERS_PER_QUERY,
  PermissionHoldersQuery,
  PROFILE_USER_SQL,
  PrivilegedAccessQuery,
  SodViolationsQuery,
  accessReviewCsv,
  accessReviewPage,
  accessReviewRows,
  migrate,
  openClickHouse,
  projectedThrough,
  permissionHolderIntervals,
  privilegedAccess,
  sodViolations,
} from '@access-ledger/read-model';

/**
 * The whole read model (audit trail + access intervals) of the cached generated history (≈ 2 million events,
 * `.bench-data/history-20260301-28000u-3y/events.sqlite`, seeded by the access benchmark), produced from the event
 * store into a fresh chDB, next to the effective-access projection's rebuild of the same events in the same run
 * (issue 12: ≤ 120 s, ≤ 6× that rebuild); interval rows per event; peak RSS; then the period reports' p50.
 *
 * BENCH_EVENTS limits the events (the projections read the store up to that position), BENCH_DATASET names another
 * events.sqlite, BENCH_RUNS the runs per report (default 5). BENCH_REUSE_CHDB=dir keeps the read model in that
 * directory (not removed at the end); when it already holds both tables up to the head, the projections are not run
 * again and only the reports are measured.
 */
const log = (line: string) => process.stdout.write(`${line}\n`);
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<void> {
  const path = resolve(process.env['BENCH_DATASET'] ?? '.bench-data/history-20260301-28000u-3y/events.sqlite');
  if (!existsSync(path)) {
    process.stderr.write(`no dataset at ${path}: run the access benchmark first (it seeds it), or set BENCH_DATASET\n`);
    process.exit(2);
  }
  const store = SqliteEventStore.open(path);
  const storeHead = await store.headPosition();
  const head = process.env['BENCH_EVENTS'] ? Math.min(storeHead, Number(process.env['BENCH_EVENTS'])) : storeHead;
  const runs = Number(process.env['BENCH_RUNS'] ?? 5);

  const reuse = process.env['BENCH_REUSE_CHDB'] ? resolve(process.env['BENCH_REUSE_CHDB']) : undefined;
  if (reuse) mkdirSync(reuse, { recursive: true });
  const dataPath = reuse ?? mkdtempSync(join(tmpdir(), 'read-model-history-bench-'));
  const client = openClickHouse({ url: '', dataPath });
  try {
    await migrate(client);
    const reused =
      reuse !== undefined && (await projectedThrough(client, 'access_intervals')) >= head && (await projectedThrough(client, 'audit_events')) >= head;
    if (reused) log(`read model reused from ${reuse} (both tables hold the first ${head.toLocaleString('en')} positions): reports only`);
    else await produce(store, client, head);
    // Period reports on that history: the largest organization, the last full quarter / year of the history.
    const [org] = await (
      await client.query({
        query: `SELECT org_id AS orgId, max(valid_from) AS last FROM access_intervals WHERE permission = 'tools:org-policy' GROUP BY org_id ORDER BY uniqExact(user_id) DESC LIMIT 1`,
        format: 'JSONEachRow',
      })
    ).json<{ orgId: string; last: string }>();
    const [tool] = await (
      await client.query({
        // A tool the organization's policy still grants at the end of the history (the first row found could be a tool of a
        // connector removed years before, whose holders during the last quarter are rightly none).
        query: `SELECT permission FROM access_intervals FINAL WHERE org_id = {o:String} AND user_id = '${ORG_TOOLS_USER}' AND NOT is_deleted ORDER BY valid_to DESC, permission LIMIT 1`,
        query_params: { o: org!.orgId },
        format: 'JSONEachRow',
      })
    ).json<{ permission: string }>();
    // The last year and the last quarter of the history as far as it was projected, and an instant a day before its end.
    const last = Date.parse(org!.last);
    const yearStart = new Date(last - 365 * 86_400_000).toISOString();
    const yearEnd = new Date(last).toISOString();
    const quarterStart = new Date(last - 91 * 86_400_000).toISOString();
    const at = new Date(last - 86_400_000).toISOString();
    const tenantId = 'bench';
    const p50 = async (name: string, run: () => Promise<number>) => {
      const times: number[] = [];
      let size = 0;
      for (let i = 0; i < runs; i++) {
        const start = performance.now();
        size = await run();
        times.push(performance.now() - start);
      }
      times.sort((a, b) => a - b);
      const median = times[Math.floor(times.length / 2)]!;
      log(
        `  ${name}: p50 ${median.toFixed(0)} ms (max ${times[times.length - 1]!.toFixed(0)} ms, ${runs} runs, ${size.toLocaleString('en')} rows; target p50 ≤ 500 ms)`,
      );
      return median;
    };
    log(`period reports, organization ${org!.orgId}:`);
    await p50(
      `holders of ${tool!.permission} during ${quarterStart.slice(0, 10)}..${yearEnd.slice(0, 10)}`,
      async () =>
        (
          await permissionHolderIntervals(
            client,
            tenantId,
            org!.orgId,
            PermissionHoldersQuery.parse({ permission: tool!.permission, from: quarterStart, to: yearEnd }),
          )
        ).length,
    );
    await accessReviewFigures(client, tenantId, org!.orgId, at, runs, p50);
    await p50(
      `privileged access over ${yearStart.slice(0, 10)}..${yearEnd.slice(0, 10)} (monthly)`,
      async () => (await privilegedAccess(client, tenantId, org!.orgId, PrivilegedAccessQuery.parse({ from: yearStart, to: yearEnd, bucket: 'month' }))).length,
    );
    await p50(
      `SoD violations over ${yearStart.slice(0, 10)}..${yearEnd.slice(0, 10)} (default pairs)`,
      async () => (await sodViolations(client, tenantId, org!.orgId, SodViolationsQuery.parse({ from: yearStart, to: yearEnd }))).length,
    );
  } finally {
    await client.close();
    await store.close();
    if (!reuse) rmSync(dataPath, { recursive: true, force: true });
  }
}

/**
 * The access review of the whole organization at `at`: the JSON form's first page and a page from the middle (by
 * member), every page walked once, the complete CSV streamed (time, bytes, rows, the process's RSS growth while
 * streaming), and — as this run's baseline — the unpaged rows in one answer as the route gave them before paging
 * (BENCH_REVIEW_BASELINE=0 skips it: ≈ 30 s on the first 250 000 events).
 */
async function accessReviewFigures(
  client: ReturnType<typeof openClickHouse>,
  tenantId: string,
  orgId: string,
  at: string,
  runs: number,
  p50: (name: string, run: () => Promise<number>) => Promise<number>,
): Promise<void> {
  const pageOf = async (cursor?: string) => accessReviewPage(client, tenantId, orgId, AccessReviewQuery.parse({ at, ...(cursor ? { cursor } : {}) }));
  const rowsOf = (page: Awaited<ReturnType<typeof pageOf>>) => page.members.reduce((n, m) => n + m.permissions.length, 0);
  // Every page once, in order: the number of members, and the cursor of the page in the middle.
  let start = performance.now();
  const cursors: (string | undefined)[] = [undefined];
  let members = 0;
  let rows = 0;
  for (let page = await pageOf(); ; page = await pageOf(cursors[cursors.length - 1])) {
    members += page.members.length;
    rows += rowsOf(page);
    if (!page.nextCursor) break;
    cursors.push(page.nextCursor);
  }
  const walkMs = performance.now() - start;
  log(
    `  access review at ${at}: ${members.toLocaleString('en')} members, ${rows.toLocaleString('en')} rows; JSON pages of 200 members walked end to end: ${cursors.length} pages in ${s(walkMs)}`,
  );
  const middle = cursors[Math.floor(cursors.length / 2)];
  const firstMs = await p50('access review, JSON first page (200 members)', async () => rowsOf(await pageOf()));
  const middleMs = await p50(`access review, JSON page ${Math.floor(cursors.length / 2) + 1} of ${cursors.length} (200 members)`, async () =>
    rowsOf(await pageOf(middle)),
  );
  let rssGrowth = 0;
  let bytes = 0;
  const csvTimes: number[] = [];
  for (let i = 0; i < Math.min(runs, 3); i++) {
    (globalThis as { gc?: () => void }).gc?.();
    const before = process.memoryUsage.rss();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
    start = performance.now();
    bytes = 0;
    let lines = 0;
    for await (const chunk of await accessReviewCsv(client, tenantId, orgId, { at })) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      bytes += buffer.length;
      for (let i = buffer.indexOf(0x0a); i !== -1; i = buffer.indexOf(0x0a, i + 1)) lines++;
    }
    csvTimes.push(performance.now() - start);
    clearInterval(sampler);
    rssGrowth = Math.max(rssGrowth, Math.max(peak, process.memoryUsage.rss()) - before);
    if (lines - 1 !== rows) throw new Error(`the CSV has ${lines - 1} rows, the JSON pages ${rows}`);
  }
  csvTimes.sort((a, b) => a - b);
  const csvMs = csvTimes[Math.floor(csvTimes.length / 2)]!;
  log(
    `  access review, complete CSV streamed (${REVIEW_CSV_MEMBERS_PER_QUERY} members per query): p50 ${s(csvMs)} (max ${s(csvTimes[csvTimes.length - 1]!)}, ${csvTimes.length} runs, ${mb(bytes)}, ${rows.toLocaleString('en')} rows = the JSON pages'), RSS growth while streaming ≤ ${mb(rssGrowth)}`,
  );
  if (process.env['BENCH_REVIEW_BASELINE'] === '0') return;
  start = performance.now();
  const unpaged = await accessReviewRows(client, tenantId, orgId, { at });
  const unpagedMs = performance.now() - start;
  log(
    `  baseline, same run: the unpaged review as one JSON answer (the route before paging): ${s(unpagedMs)}, ${unpaged.length.toLocaleString('en')} rows; first page ${(unpagedMs / firstMs).toFixed(0)}×, middle page ${(unpagedMs / middleMs).toFixed(0)}×, complete CSV ${(unpagedMs / csvMs).toFixed(1)}× faster than it`,
  );
}

/** The read model of the first `head` positions, produced as the server does, with the same-run baseline and figures. */
async function produce(store: SqliteEventStore, client: ReturnType<typeof openClickHouse>, head: number): Promise<void> {
  // Baseline: the effective-access projection's rebuild of the same events (what `ledger rebuild` folds).
  let t0 = performance.now();
  let events = 0;
  {
    const access = new AccessProjection();
    pages: for await (const page of store.readAllPages({ after: -1, chain: false })) {
      for (const event of page) {
        if (event.position > head) break pages;
        access.apply(event);
        events++;
      }
    }
  }
  const accessMs = performance.now() - t0;
  log(`access projection rebuild: ${events.toLocaleString('en')} events in ${s(accessMs)}`);
  (globalThis as { gc?: () => void }).gc?.();

  async function* upToHead(after: number) {
    for await (const event of store.readAll({ after })) {
      if (event.position > head) return;
      yield event;
    }
  }
  const headPosition = async () => head;
  const audit = new AuditProjection({ client, source: upToHead, headPosition });
  const intervals = new AccessIntervalProjection({ client, source: upToHead, headPosition });
  let rssPeak = 0;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage.rss())), 1000);
  // Where the RSS goes: V8's heap, buffers outside it, and what ClickHouse's memory tracker counts (chDB shares the process).
  const memory = async () => {
    const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
    const [tracked] = await (
      await client.query({ query: "SELECT value AS n FROM system.metrics WHERE metric = 'MemoryTracking'", format: 'JSONEachRow' })
    ).json<{ n: string }>();
    return `RSS ${mb(rss)}: heap ${mb(heapUsed)} of ${mb(heapTotal)}, external ${mb(external)}, ClickHouse ${mb(Number(tracked?.n ?? 0))}`;
  };
  const progress = setInterval(
    async () =>
      log(
        `  … audit_events at ${audit.metrics.checkpoint.toLocaleString('en')}, access_intervals at ${intervals.metrics.checkpoint.toLocaleString('en')} (${s(performance.now() - t0)}, ${await memory()})`,
      ),
    30_000,
  );
  t0 = performance.now();
  // Both at once, as the server runs them: the audit trail is mostly chDB's threads, the intervals the event loop.
  const timed = async (run: () => Promise<unknown>) => {
    const start = performance.now();
    await run();
    return performance.now() - start;
  };
  const [auditMs, intervalsMs] = await Promise.all([timed(() => audit.run()), timed(() => intervals.run())]);
  const readModelMs = performance.now() - t0;
  clearInterval(sampler);
  clearInterval(progress);
  rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  const count = async (query: string) => Number((await (await client.query({ query, format: 'JSONEachRow' })).json<{ n: string }>())[0]!.n);
  const rows = await count('SELECT count() AS n FROM access_intervals');
  const rowsFinal = await count('SELECT count() AS n FROM access_intervals FINAL WHERE NOT is_deleted');
  // The access profiles' pseudo-members (`*org-tools`, `*org-capabilities`, `*org-spend` …).
  const profileRows = await count(`SELECT count() AS n FROM access_intervals FINAL WHERE NOT is_deleted AND ${PROFILE_USER_SQL}`);
  const m = intervals.metrics;
  log(
    `read model: ${events.toLocaleString('en')} events in ${s(readModelMs)} (audit_events ${s(auditMs)}, access_intervals ${s(intervalsMs)}, both at once) = ${(readModelMs / accessMs).toFixed(1)}× the access projection rebuild (${s(accessMs)}; targets ≤ 120 s, ≤ 6×)`,
  );
  log(
    `  interval changes ${m.changesWritten.toLocaleString('en')} = ${(m.changesWritten / events).toFixed(2)} per event; rows inserted ${rows.toLocaleString('en')} = ${(rows / events).toFixed(2)} per event; intervals ${rowsFinal.toLocaleString('en')} (${profileRows.toLocaleString('en')} of them the organizations' access profiles); ${m.lateEvents} late events`,
  );
  log(`  peak RSS ${mb(rssPeak)} (the access baseline's facts collected before; target ≤ 1 GB for the server); at the end ${await memory()}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
