import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { pathToFileURL } from 'node:url';
import { newEnforcer, newModelFromString } from 'casbin';
import {
  FactReader,
  INITIAL_CAPABILITIES,
  lookupKey,
  accessAt,
  availability,
  capabilityOf,
  holdersOf,
  memberCore,
  rolePaths,
  viewAt,
  type FactStore,
  type GroupFacts,
  type ProvisioningMode,
} from '@access-ledger/access-model';
import { SqliteEventStore } from '@access-ledger/event-store';
import { benchmarkHistory, generateHistory, type HistoryOptions } from '@access-ledger/history';
import { seedHistory, type SeedReport } from '@access-ledger/ledger';
import { AccessProjection, ProjectionRunner } from '@access-ledger/projections';

/**
 * The access projection's figures on a generated history (≈ 2 million events by default): full rebuild against a bare
 * read-and-JSON.parse of the same rows, one member's access with explanation at random instants, holders of a
 * capability across all members, resident memory of the state, and the same effective-access checks answered by
 * casbin loaded with today's state as policies. Every baseline is measured in the same run.
 */

export interface AccessBenchOptions {
  readonly history?: HistoryOptions;
  /** Where generated datasets are kept between runs (seeding 2 M events takes a while). */
  readonly cacheDir?: string;
  readonly accessSamples?: number;
  readonly holderSamples?: number;
  readonly casbinChecks?: number;
  readonly log?: (line: string) => void;
}

export interface AccessBenchResult {
  readonly events: number;
  readonly rebuildEventsPerSecond: number;
  readonly bareEventsPerSecond: number;
  readonly rebuildRatio: number;
  readonly accessP50Ms: number;
  readonly accessP99Ms: number;
  readonly holdersP50Ms: number;
  readonly stateHeapMB: number;
  readonly rssMB: number;
  readonly oursChecksPerSecond: number;
  readonly casbinChecksPerSecond: number;
  readonly casbinAgreement: number;
}

/** A seeded random number generator (mulberry32): the same samples every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** The generated history in a SQLite event store, seeded once and kept in the cache directory. */
export async function benchmarkDataset(history: HistoryOptions, cacheDir: string, log: (line: string) => void): Promise<{ path: string; report: SeedReport }> {
  const dir = join(cacheDir, `history-${history.seed}-${history.users}u-${history.years}y`);
  const marker = join(dir, 'dataset.json');
  const path = join(dir, 'events.sqlite');
  if (existsSync(marker)) return { path, report: JSON.parse(readFileSync(marker, 'utf8')).report as SeedReport };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  log(`seeding ${dir} with a generated history (done once, kept for later runs)…`);
  const started = performance.now();
  const store = SqliteEventStore.open(path);
  let last = 0;
  const report = await seedHistory(store, 'bench', generateHistory(history), {
    batchSize: 5000,
    onProgress: (r) => {
      if (r.events - last >= 250_000) {
        last = r.events;
        log(`  ${r.events.toLocaleString('en')} events (${((performance.now() - started) / 1000).toFixed(0)} s)`);
      }
    },
  });
  await store.close();
  writeFileSync(marker, JSON.stringify({ history, report, seconds: (performance.now() - started) / 1000 }, null, 2));
  log(`  seeded ${report.events.toLocaleString('en')} events in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return { path, report };
}

/** The baseline: read every row and JSON.parse its data and metadata, nothing else. */
function bareReadAndParse(path: string): { events: number; ms: number } {
  const db = new DatabaseSync(path, { readOnly: true });
  const page = db.prepare('SELECT position, data, metadata FROM events WHERE position > ? ORDER BY position LIMIT 1000');
  const started = performance.now();
  let after = -1;
  let events = 0;
  let sink = 0;
  for (;;) {
    const rows = page.all(after) as { position: number; data: string; metadata: string }[];
    if (rows.length === 0) break;
    for (const row of rows) {
      sink += Object.keys(JSON.parse(row.data) as object).length + Object.keys(JSON.parse(row.metadata) as object).length;
    }
    events += rows.length;
    after = rows[rows.length - 1]!.position;
  }
  const ms = performance.now() - started;
  db.close();
  if (sink < 0) throw new Error('unreachable');
  return { events, ms };
}

function membersOf(facts: FactStore): { orgId: string; userId: string }[] {
  const out: { orgId: string; userId: string }[] = [];
  const now = viewAt(Number.POSITIVE_INFINITY);
  for (const orgId of facts.items(lookupKey.orgs, now)) for (const userId of facts.items(lookupKey.members(orgId), now)) out.push({ orgId, userId });
  return out;
}

const CASBIN_MODEL = `
[request_definition]
r = sub, dom, obj
[policy_definition]
p = sub, dom, obj
[role_definition]
g = _, _, _
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && r.obj == p.obj
`;

/**
 * Today's state as casbin RBAC-with-domains policies: members → groups (per organization) → custom roles → the
 * available capabilities they grant; full members → a `builtin:full` role holding every available capability.
 * What casbin cannot express is left out and reported: history (it has only today), explanations, seats (R8).
 */
async function casbinOfToday(facts: FactStore) {
  const r = new FactReader(facts, viewAt(Number.POSITIVE_INFINITY));
  const policies: string[][] = [];
  const groupings: string[][] = [];
  for (const orgId of facts.items(lookupKey.orgs, r.view)) {
    const available = INITIAL_CAPABILITIES.filter((c) => availability(r, orgId, c).granted);
    for (const c of available) policies.push(['builtin:full', orgId, c]);
    for (const roleId of r.items(lookupKey.roles(orgId))) {
      if (r.value(lookupKey.role(orgId, roleId)) !== true) continue;
      for (const c of available) if (r.value(lookupKey.roleCapability(orgId, roleId, c)) === true) policies.push([`role:${roleId}`, orgId, c]);
    }
    const mode = r.value<ProvisioningMode>(lookupKey.orgMode(orgId));
    const groupsInOrg = new Set<string>();
    for (const userId of r.items(lookupKey.members(orgId))) {
      const m = memberCore(r, orgId, userId);
      if (m?.status !== 'active') continue;
      if (m.role !== 'custom') {
        groupings.push([userId, 'builtin:full', orgId]);
        continue;
      }
      for (const groupId of r.items(lookupKey.groupsOfUser(userId))) {
        if (r.value(lookupKey.inGroup(groupId, userId)) !== true) continue;
        const group = r.value<GroupFacts | null>(lookupKey.group(groupId));
        if (!group || (group.source === 'scim' && mode !== 'scim')) continue;
        groupings.push([userId, `group:${groupId}`, orgId]);
        groupsInOrg.add(groupId);
      }
    }
    for (const groupId of groupsInOrg) {
      for (const roleId of r.items(lookupKey.rolesOfGroup(orgId, groupId))) {
        if (r.value(lookupKey.assigned(orgId, groupId, roleId)) === true && r.value(lookupKey.role(orgId, roleId)) === true)
          groupings.push([`group:${groupId}`, `role:${roleId}`, orgId]);
      }
    }
  }
  const enforcer = await newEnforcer(newModelFromString(CASBIN_MODEL));
  await enforcer.addPolicies(policies);
  await enforcer.addGroupingPolicies(groupings);
  return { enforcer, policies: policies.length, groupings: groupings.length };
}

export async function benchAccess(options: AccessBenchOptions = {}): Promise<AccessBenchResult> {
  const log = options.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const history = options.history ?? ACCESS_BENCH_HISTORY;
  const { path, report } = await benchmarkDataset(history, options.cacheDir ?? resolve('.bench-data'), log);
  log(
    `history: ${report.events.toLocaleString('en')} events (${report.commands.toLocaleString('en')} commands, ${report.refused} refused, ${report.imported} imported late)`,
  );

  // Baseline and rebuild, same run, same rows.
  const bare = bareReadAndParse(path);
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const store = SqliteEventStore.open(path);
  const projection = new AccessProjection();
  const started = performance.now();
  await new ProjectionRunner(store, projection).catchUp();
  const rebuildMs = performance.now() - started;
  gc();
  const stateHeapMB = (process.memoryUsage().heapUsed - heapBefore) / 1e6;
  const rssMB = process.memoryUsage().rss / 1e6;
  const rebuildEventsPerSecond = projection.applied / (rebuildMs / 1000);
  const bareEventsPerSecond = bare.events / (bare.ms / 1000);
  log(
    `rebuild: ${projection.applied.toLocaleString('en')} events in ${(rebuildMs / 1000).toFixed(1)} s = ${Math.round(rebuildEventsPerSecond).toLocaleString('en')} events/s; bare read+JSON.parse ${Math.round(bareEventsPerSecond).toLocaleString('en')} events/s; ratio ${(rebuildEventsPerSecond / bareEventsPerSecond).toFixed(2)} (target ≥ 200 000 events/s)`,
  );
  log(`state: ${stateHeapMB.toFixed(0)} MB of heap (process RSS ${rssMB.toFixed(0)} MB; target ≤ 1 GB)`);

  const facts = projection.factsOf('bench');
  const members = membersOf(facts);
  const start = Date.parse(history.start);
  const end = start + history.years * 365 * 24 * 3600 * 1000;
  const rand = random(7);

  // One member's full access with explanation at a random instant.
  const accessTimes: number[] = [];
  const byThird: number[][] = [[], [], []];
  for (let i = 0; i < (options.accessSamples ?? 2000); i++) {
    const m = members[Math.floor(rand() * members.length)]!;
    const at = start + rand() * (end - start);
    const t0 = performance.now();
    const answer = accessAt(facts, viewAt(at), m.orgId, m.userId);
    const ms = performance.now() - t0;
    accessTimes.push(ms);
    if (answer !== undefined) byThird[Math.min(2, Math.floor(((at - start) / (end - start)) * 3))]!.push(ms);
  }
  accessTimes.sort((a, b) => a - b);
  log(
    `member access with explanation at a random instant: p50 ${percentile(accessTimes, 50).toFixed(2)} ms, p99 ${percentile(accessTimes, 99).toFixed(2)} ms (target p50 ≤ 5 ms)`,
  );
  // The cost does not grow with how far back the instant is (docs/access.md, "Complexity"): p50 by year of the
  // history, over the samples where the member existed at that instant (the others answer 404 at once).
  const thirds = byThird.map(
    (t) =>
      `${percentile(
        t.sort((a, b) => a - b),
        50,
      ).toFixed(2)} ms (${t.length})`,
  );
  log(`  p50 by year of the instant, members who existed then (samples): first ${thirds[0]}, second ${thirds[1]}, third ${thirds[2]}`);

  // Holders of a capability across all members of an organization.
  const orgs = [...new Set(members.map((m) => m.orgId))];
  const holderTimes: number[] = [];
  for (let i = 0; i < (options.holderSamples ?? 40); i++) {
    const orgId = orgs[Math.floor(rand() * orgs.length)]!;
    const capability = INITIAL_CAPABILITIES[Math.floor(rand() * INITIAL_CAPABILITIES.length)]!;
    const at = start + rand() * (end - start);
    const t0 = performance.now();
    holdersOf(facts, viewAt(at), orgId, { capability });
    holderTimes.push(performance.now() - t0);
  }
  holderTimes.sort((a, b) => a - b);
  const perOrg = Math.round(members.length / orgs.length);
  log(
    `holders of a capability at a random instant (≈ ${perOrg.toLocaleString('en')} members an organization): p50 ${percentile(holderTimes, 50).toFixed(1)} ms (target ≤ 200 ms)`,
  );

  // The same checks, today, against casbin.
  const { enforcer, policies, groupings } = await casbinOfToday(facts);
  const checks: { orgId: string; userId: string; capability: string }[] = [];
  for (let i = 0; i < (options.casbinChecks ?? 100_000); i++) {
    const m = members[Math.floor(rand() * members.length)]!;
    checks.push({ ...m, capability: INITIAL_CAPABILITIES[Math.floor(rand() * INITIAL_CAPABILITIES.length)]! });
  }
  const now = new FactReader(facts, viewAt(Number.POSITIVE_INFINITY));
  const ours: boolean[] = [];
  let t0 = performance.now();
  for (const c of checks) {
    const m = memberCore(now, c.orgId, c.userId);
    ours.push(
      m !== undefined &&
        m.status === 'active' &&
        capabilityOf(now, m, c.capability, m.role === 'custom' ? rolePaths(now, c.orgId, c.userId) : { paths: [], excluded: [] }).granted,
    );
  }
  const oursMs = performance.now() - t0;
  const theirs: boolean[] = [];
  t0 = performance.now();
  for (const c of checks) theirs.push(enforcer.enforceSync(c.userId, c.orgId, c.capability));
  const casbinMs = performance.now() - t0;
  const agree = ours.filter((x, i) => x === theirs[i]).length / checks.length;
  const oursChecksPerSecond = checks.length / (oursMs / 1000);
  const casbinChecksPerSecond = checks.length / (casbinMs / 1000);
  log(
    `effective-access checks today: ours ${Math.round(oursChecksPerSecond).toLocaleString('en')}/s, casbin ${Math.round(casbinChecksPerSecond).toLocaleString('en')}/s (ratio ${(oursChecksPerSecond / casbinChecksPerSecond).toFixed(2)}; casbin loaded with ${policies.toLocaleString('en')} policies and ${groupings.toLocaleString('en')} groupings); answers agree on ${(agree * 100).toFixed(2)} % (the rest: R8 chat seats, which casbin's model here cannot express). casbin cannot answer at an instant in the past, as known at another, nor say why.`,
  );
  await store.close();
  return {
    events: projection.applied,
    rebuildEventsPerSecond,
    bareEventsPerSecond,
    rebuildRatio: rebuildEventsPerSecond / bareEventsPerSecond,
    accessP50Ms: percentile(accessTimes, 50),
    accessP99Ms: percentile(accessTimes, 99),
    holdersP50Ms: percentile(holderTimes, 50),
    stateHeapMB,
    rssMB,
    oursChecksPerSecond,
    casbinChecksPerSecond,
    casbinAgreement: agree,
  };
}

/**
 * The issue asks for at least 2 million events with about 25 000 users: the generator's benchmark preset yields
 * 1.8 million commands at 25 000 users, so the benchmark runs it at 28 000 (BENCH_USERS to change).
 */
export const ACCESS_BENCH_HISTORY: HistoryOptions = { ...benchmarkHistory, users: Number(process.env['BENCH_USERS'] ?? 28_000) };

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await benchAccess({ history: ACCESS_BENCH_HISTORY });
}
