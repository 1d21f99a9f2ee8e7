import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SqliteEventStore } from '@access-ledger/event-store';
import { AccessIntervalProjection, AccessProjection } from '@access-ledger/projections';
import {
  AccessReviewQuery,
  AuditProjection,
  ORG_TOOLS_USER,
  PermissionHoldersQuery,
  PrivilegedAccessQuery,
  SodViolationsQuery,
  accessReviewRows,
  migrate,
  openClickHouse,
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
 * events.sqlite, BENCH_RUNS the runs per report (default 5).
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

  const dataPath = mkdtempSync(join(tmpdir(), 'read-model-history-bench-'));
  const client = openClickHouse({ url: '', dataPath });
  try {
    await migrate(client);
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
    const progress = setInterval(
      () =>
        log(
          `  … audit_events at ${audit.metrics.checkpoint.toLocaleString('en')}, access_intervals at ${intervals.metrics.checkpoint.toLocaleString('en')} (${s(performance.now() - t0)}, RSS ${mb(process.memoryUsage.rss())})`,
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
    // The access profiles' pseudo-members (`*org-tools`, `*org-capabilities`, `*org-spend` …) have ids starting with `*`.
    const profileRows = await count(`SELECT count() AS n FROM access_intervals FINAL WHERE NOT is_deleted AND startsWith(user_id, '*')`);
    const m = intervals.metrics;
    log(
      `read model: ${events.toLocaleString('en')} events in ${s(readModelMs)} (audit_events ${s(auditMs)}, access_intervals ${s(intervalsMs)}, both at once) = ${(readModelMs / accessMs).toFixed(1)}× the access projection rebuild (${s(accessMs)}; targets ≤ 120 s, ≤ 6×)`,
    );
    log(
      `  interval changes ${m.changesWritten.toLocaleString('en')} = ${(m.changesWritten / events).toFixed(2)} per event; rows inserted ${rows.toLocaleString('en')} = ${(rows / events).toFixed(2)} per event; intervals ${rowsFinal.toLocaleString('en')} (${profileRows.toLocaleString('en')} of them the organizations' access profiles); ${m.lateEvents} late events`,
    );
    log(`  peak RSS ${mb(rssPeak)} (the access baseline's facts collected before; target ≤ 1 GB for the server)`);

    // Period reports on that history: the largest organization, the last full quarter / year of the history.
    const [org] = await (
      await client.query({
        query: `SELECT org_id AS orgId, max(valid_from) AS last FROM access_intervals WHERE permission = 'tools:org-policy' GROUP BY org_id ORDER BY uniqExact(user_id) DESC LIMIT 1`,
        format: 'JSONEachRow',
      })
    ).json<{ orgId: string; last: string }>();
    const [tool] = await (
      await client.query({
        query: `SELECT permission FROM access_intervals WHERE org_id = {o:String} AND user_id = '${ORG_TOOLS_USER}' LIMIT 1`,
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
      log(
        `  ${name}: p50 ${times[Math.floor(times.length / 2)]!.toFixed(0)} ms (max ${times[times.length - 1]!.toFixed(0)} ms, ${runs} runs, ${size.toLocaleString('en')} rows; target p50 ≤ 500 ms)`,
      );
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
    await p50(`access review at ${at}`, async () => (await accessReviewRows(client, tenantId, org!.orgId, AccessReviewQuery.parse({ at }))).length);
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
    rmSync(dataPath, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
