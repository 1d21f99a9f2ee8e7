import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { asLedgerEvent } from '@access-ledger/access-model';
import { SqliteEventStore } from '@access-ledger/event-store';
import { TenantIntervals } from '@access-ledger/projections';
import { AccessIntervalWriter, migrate, openClickHouse, type AccessIntervalChange } from '@access-ledger/read-model';

/**
 * The access intervals on the cached generated history (≈ 2 million events, tenant `bench`, seeded by
 * `bench/access.bench.ts`): how long producing the intervals from the evaluator takes, against folding the same
 * events alone (the same run), and how fast the changes go into chDB through AccessIntervalWriter.
 *
 * `node dist/bench/access-intervals.bench.js` (after `npm run build`); BENCH_EVENTS limits the events read,
 * BENCH_DATASET points at another events.sqlite, BENCH_INGEST=0 skips the chDB part, BENCH_SKIP_FOLD=1 skips the
 * fold-only baseline. The producer's rate is printed per window of BENCH_WINDOW events (default 100 000), so a cost
 * that grows with the history shows as a falling rate. BENCH_PROFILE=FROM-TO[:file] takes a CPU profile of the
 * producer between those positions (`.cpuprofile`, default `access-intervals-FROM-TO.cpuprofile`).
 */

export interface AccessIntervalsBenchResult {
  readonly events: number;
  readonly changes: number;
  readonly foldOnlyEventsPerSecond: number;
  readonly producerEventsPerSecond: number;
  readonly ingestChangesPerSecond: number | null;
}

export async function benchAccessIntervals(options: {
  path: string;
  maxEvents?: number;
  ingest?: boolean;
  foldBaseline?: boolean;
  window?: number;
  profile?: { from: number; to: number; file: string };
  log?: (line: string) => void;
}): Promise<AccessIntervalsBenchResult> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const max = options.maxEvents ?? Number.POSITIVE_INFINITY;
  const read = async function* () {
    const store = SqliteEventStore.open(options.path);
    let n = 0;
    try {
      for await (const stored of store.readAll()) {
        if (n++ >= max) break;
        yield stored;
      }
    } finally {
      await store.close();
    }
  };

  // Baseline: fold only (what the effective-access projection does), same events, same process.
  let t0 = performance.now();
  let events = 0;
  if (options.foldBaseline !== false) {
    const tenants = new Map<string, TenantIntervals>();
    for await (const stored of read()) {
      const tenantId = String((stored.metadata as { tenantId?: string }).tenantId);
      let t = tenants.get(tenantId);
      if (!t) tenants.set(tenantId, (t = new TenantIntervals(tenantId)));
      t.fold(asLedgerEvent(stored));
      events++;
    }
  }
  const foldMs = Math.max(1, performance.now() - t0);
  log(
    `fold only: ${events.toLocaleString('en')} events in ${(foldMs / 1000).toFixed(1)} s = ${Math.round(events / (foldMs / 1000)).toLocaleString('en')} events/s`,
  );

  // Producing the intervals: fold + evaluate the affected members before and after each event.
  const tenants = new Map<string, TenantIntervals>();
  const byType = new Map<string, { n: number; ms: number; changes: number }>();
  const kept: AccessIntervalChange[] = [];
  const keep = options.ingest !== false ? 1_000_000 : 0;
  let changes = 0;
  let late = 0;
  /** Late events (R61): producing their rewrite (the affected members' stretch, recomputed), not the chDB part. */
  const rewrites = { n: 0, ms: 0, members: 0, changes: 0 };
  /** Role sets seen for the first time: their whole history, computed once (the projection writes it as a rewrite). */
  const roleSetHistories = { sets: 0, ms: 0, changes: 0 };
  const window = options.window ?? 100_000;
  const stopProfile = async (session: Session, at: number): Promise<undefined> => {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(options.profile!.file, JSON.stringify(profile));
    session.disconnect();
    log(`  profile of events ${options.profile!.from.toLocaleString('en')}–${at.toLocaleString('en')} written to ${options.profile!.file}`);
    return undefined;
  };
  let session: Session | undefined;
  t0 = performance.now();
  let lastLog = t0;
  let windowStart = t0;
  let windowChanges = 0;
  let i = 0;
  for await (const stored of read()) {
    if (options.profile !== undefined && i === options.profile.from) {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    if (session !== undefined && i === options.profile!.to) session = await stopProfile(session, i);
    const tenantId = String((stored.metadata as { tenantId?: string }).tenantId);
    let t = tenants.get(tenantId);
    if (!t) tenants.set(tenantId, (t = new TenantIntervals(tenantId)));
    const e = asLedgerEvent(stored);
    if (Date.parse(e.meta.occurredAt) < t.latest) late++;
    const s = performance.now();
    const effect = t.apply(e);
    // A late event's rewrite (R61, here one per event, as the projection did before merging a batch's) is counted by
    // its recomputed changes; only in-order changes are kept for chDB.
    const rewrite = effect.kind === 'late' ? await t.rewriteOf(effect.late) : undefined;
    const out = effect.kind === 'changes' ? effect.changes : rewrite!.changes;
    const stat = byType.get(e.type) ?? { n: 0, ms: 0, changes: 0 };
    const ms = performance.now() - s;
    stat.n++;
    stat.ms += ms;
    if (rewrite) {
      rewrites.n++;
      rewrites.ms += ms;
      rewrites.members += rewrite.members.length;
      rewrites.changes += out.length;
    }
    stat.changes += out.length;
    byType.set(e.type, stat);
    changes += out.length;
    if (effect.kind === 'changes') for (const c of out) if (kept.length < keep) kept.push(c);
    // New role sets' whole histories, as the projection writes them at the end of each batch (2 000 events).
    if (i % 2_000 === 1_999) {
      const h = performance.now();
      for (const t of tenants.values()) {
        const history = t.takeNewRoleSets();
        if (history === undefined) continue;
        roleSetHistories.sets += history.members.length;
        roleSetHistories.changes += history.changes.length;
        changes += history.changes.length;
      }
      roleSetHistories.ms += performance.now() - h;
    }
    if (++i % window === 0) {
      const now = performance.now();
      log(
        `  window ${(i - window).toLocaleString('en')}–${i.toLocaleString('en')}: ${((now - windowStart) / 1000).toFixed(1)} s = ${Math.round(window / ((now - windowStart) / 1000)).toLocaleString('en')} events/s, ${(changes - windowChanges).toLocaleString('en')} changes (${((now - t0) / 1000).toFixed(0)} s in all)`,
      );
      windowStart = now;
      windowChanges = changes;
      lastLog = now;
    } else if (i % 10_000 === 0 && performance.now() - lastLog > 30_000) {
      lastLog = performance.now();
      log(`  … ${i.toLocaleString('en')} events, ${changes.toLocaleString('en')} changes, ${((lastLog - t0) / 1000).toFixed(0)} s`);
    }
  }
  const produceMs = performance.now() - t0;
  if (session !== undefined) await stopProfile(session, i);
  log(
    `intervals: ${i.toLocaleString('en')} events → ${changes.toLocaleString('en')} open/close changes (${late} late events) in ${(produceMs / 1000).toFixed(1)} s = ${Math.round(i / (produceMs / 1000)).toLocaleString('en')} events/s (fold alone: ${Math.round(events / (foldMs / 1000)).toLocaleString('en')} events/s)`,
  );
  if (rewrites.n > 0)
    log(
      `  late events (R61): ${rewrites.n} rewrites in ${(rewrites.ms / 1000).toFixed(1)} s (${(rewrites.ms / rewrites.n).toFixed(1)} ms each), ${rewrites.members.toLocaleString('en')} members re-evaluated, ${rewrites.changes.toLocaleString('en')} changes recomputed`,
    );
  log(
    `  role sets: ${roleSetHistories.sets} seen, their histories ${roleSetHistories.changes.toLocaleString('en')} changes in ${(roleSetHistories.ms / 1000).toFixed(1)} s (included above)`,
  );
  const top = [...byType].sort((a, b) => b[1].ms - a[1].ms).slice(0, 8);
  log(
    `  costliest event types: ${top.map(([type, s]) => `${type} ${s.n.toLocaleString('en')}× ${(s.ms / 1000).toFixed(1)} s (${(s.ms / s.n).toFixed(2)} ms each, ${s.changes.toLocaleString('en')} changes)`).join('; ')}`,
  );

  let ingestChangesPerSecond: number | null = null;
  if (kept.length > 0) {
    const dataPath = mkdtempSync(join(tmpdir(), 'access-intervals-bench-'));
    const client = openClickHouse({ url: '', dataPath });
    try {
      await migrate(client);
      const writer = new AccessIntervalWriter(client);
      t0 = performance.now();
      let rows = 0;
      for (let k = 0; k < kept.length; k += 20_000) rows += await writer.write(kept.slice(k, k + 20_000));
      const ingestMs = performance.now() - t0;
      ingestChangesPerSecond = kept.length / (ingestMs / 1000);
      log(
        `chDB: ${kept.length.toLocaleString('en')} changes (the first ones) → ${rows.toLocaleString('en')} rows in ${(ingestMs / 1000).toFixed(1)} s = ${Math.round(ingestChangesPerSecond).toLocaleString('en')} changes/s (batches of 20 000)`,
      );
    } finally {
      await client.close();
      rmSync(dataPath, { recursive: true, force: true });
    }
  }
  return { events: i, changes, foldOnlyEventsPerSecond: events / (foldMs / 1000), producerEventsPerSecond: i / (produceMs / 1000), ingestChangesPerSecond };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const path = resolve(process.env['BENCH_DATASET'] ?? '.bench-data/history-20260301-28000u-3y/events.sqlite');
  if (!existsSync(path)) {
    process.stderr.write(`no dataset at ${path}: run the access benchmark first (it seeds it), or set BENCH_DATASET\n`);
    process.exit(2);
  }
  await benchAccessIntervals({
    path,
    ...(process.env['BENCH_EVENTS'] ? { maxEvents: Number(process.env['BENCH_EVENTS']) } : {}),
    ingest: process.env['BENCH_INGEST'] !== '0',
    foldBaseline: process.env['BENCH_SKIP_FOLD'] !== '1',
    ...(process.env['BENCH_WINDOW'] ? { window: Number(process.env['BENCH_WINDOW']) } : {}),
    ...(process.env['BENCH_PROFILE'] ? { profile: profileWindow(process.env['BENCH_PROFILE']) } : {}),
  });
}

function profileWindow(spec: string): { from: number; to: number; file: string } {
  const match = /^(\d+)-(\d+)(?::(.+))?$/.exec(spec);
  if (match === null) throw new Error(`BENCH_PROFILE=${spec}: expected FROM-TO or FROM-TO:file`);
  const [, from, to, file] = match;
  return { from: Number(from), to: Number(to), file: file ?? `access-intervals-${from}-${to}.cpuprofile` };
}
