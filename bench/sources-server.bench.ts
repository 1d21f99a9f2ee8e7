import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startFakeComplianceApi } from '@access-ledger/sources';
import { loadConfig } from '@access-ledger/config';
import { composeServer, type ServerOverrides } from '../apps/api/src/compose.js';

/**
 * A Compliance API source synced by the server (LEDGER_SOURCES_FILE, docs/sources.md § Operation): how long the
 * server's answers wait while it backfills ACTIVITIES (default 50 000) activities from the fake API on loopback.
 * Figures: the backfill time (until /ready shows the first pass done), and, meanwhile, `/health` probed every 50 ms
 * from this process (p50, p99, max) and the event loop's delay (perf_hooks, p99 and max). Same-run baseline: the same
 * server without a source, probed for 5 s. Three batch sizes: 200, 500 (the server's default) and 2 000 (the CLI's).
 */
const N = Number(process.env.ACTIVITIES ?? process.argv[2] ?? 50_000);
const ORG = 'abcdef01-2345-6789-abcd-ef0123456789';
const KEY = 'sk-ant-api01-bench';
const actor = { type: 'user_actor', user_id: 'u0', email_address: 'u0@acme.test', ip_address: '192.0.2.1', user_agent: 'bench' };

function history(n: number): Record<string, unknown>[] {
  const base = Date.parse('2026-01-01T00:00:00Z');
  const out: Record<string, unknown>[] = [];
  const members = Math.min(2_000, Math.max(10, Math.floor(n / 25)));
  const push = (type: string, fields: Record<string, unknown>) => {
    const i = out.length;
    out.push({ id: `activity_${i}`, created_at: new Date(base + i * 1000).toISOString(), organization_uuid: ORG, actor, type, ...fields });
  };
  push('org_created', { organization_name: 'Bench' });
  for (let m = 0; m < members; m++) push('org_user_added', { user_id: `u${m}`, email_address: `u${m}@acme.test`, role: m === 0 ? 'primary_owner' : 'user' });
  for (let g = 0; g < 50; g++) push('group_created', { group_id: `g${g}`, group_name: `Group ${g}` });
  const inGroup = new Set<string>();
  for (let k = 0; out.length < n; k++) {
    if (k % 3 === 0) {
      push('claude_chat_created', { claude_chat_id: `claude_chat_${k}` });
      continue;
    }
    const key = `g${(k * 31) % 50}/u${1 + ((k * 7919) % (members - 1))}`;
    const [group, user] = key.split('/') as [string, string];
    if (inGroup.delete(key)) push('group_member_removed', { group_id: group, user_id: user });
    else {
      inGroup.add(key);
      push('group_member_added', { group_id: group, user_id: user });
    }
  }
  return out;
}

const round = (x: number) => Math.round(x * 10) / 10;
const pct = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;

interface Probed {
  readonly seconds: number;
  readonly probes: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly loopP99: number;
  readonly loopMax: number;
}

/** /health every 50 ms and the event loop's delay, until `done()` says so. */
async function probe(url: string, done: () => Promise<boolean>): Promise<Probed> {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const started = performance.now();
  const latencies: number[] = [];
  while (!(await done())) {
    const t = performance.now();
    await (await fetch(`${url}/health`)).text();
    latencies.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 50));
  }
  loop.disable();
  latencies.sort((a, b) => a - b);
  return {
    seconds: round((performance.now() - started) / 1000),
    probes: latencies.length,
    p50: round(pct(latencies, 0.5)),
    p99: round(pct(latencies, 0.99)),
    max: round(latencies.at(-1) ?? 0),
    loopP99: round(loop.percentile(99) / 1e6),
    loopMax: round(loop.max / 1e6),
  };
}

async function main() {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  log(`load average before: ${load()} (shared machine); ${N} activities`);
  const api = await startFakeComplianceApi({ keys: { [KEY]: ['read:compliance_activities', 'read:compliance_org_data', 'read:compliance_user_data'] } });
  const feed = history(N);
  api.add(feed);
  // The directory agrees with the feed: the baseline records nothing, the figures are the backfill's.
  const users = feed
    .filter((a) => a.type === 'org_user_added')
    .map((a) => ({ id: a.user_id as string, email_address: a.email_address as string, role: a.role as string }));
  api.setDirectory({ organizations: [{ uuid: ORG, name: 'Bench' }], users: { [ORG]: users }, groups: [] });
  const quiet: ServerOverrides = { bootstrapKey: false, readSide: false, write: () => undefined, http: { logLevels: [] } };
  const results: { name: string; r: Probed }[] = [];
  // Baseline: the same server, no source.
  {
    const dir = mkdtempSync(join(tmpdir(), 'bench-sources-server-'));
    const server = await composeServer(loadConfig({ PORT: '0', ACCESS_LOG: 'false', RATE_LIMIT_ANON_PER_SECOND: '0', LEDGER_DATA_DIR: dir }, {}), quiet);
    const until = performance.now() + 5000;
    results.push({ name: 'baseline: no source', r: await probe(server.url, async () => performance.now() > until) });
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  for (const batchSize of [200, 500, 2000]) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-sources-server-'));
    const keyFile = join(dir, 'key');
    writeFileSync(keyFile, KEY, { mode: 0o600 });
    const file = join(dir, 'sources.json');
    writeFileSync(
      file,
      JSON.stringify({ sources: [{ name: 'bench', kind: 'compliance-api', tenantId: 't', keyFile, url: api.url, batchSize, intervalSeconds: 3600 }] }),
    );
    const server = await composeServer(
      loadConfig({ PORT: '0', ACCESS_LOG: 'false', RATE_LIMIT_ANON_PER_SECOND: '0', LEDGER_DATA_DIR: dir, LEDGER_SOURCES_FILE: file }, {}),
      quiet,
    );
    const r = await probe(server.url, async () => {
      const ready = (await (await fetch(`${server.url}/ready`)).json()) as { sources?: Record<string, { passes: number; lastError: string | null }> };
      const s = ready.sources?.bench;
      if (s?.lastError) throw new Error(s.lastError);
      return (s?.passes ?? 0) >= 1;
    });
    results.push({ name: `backfill in the server, batch ${batchSize}`, r });
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  await api.close();
  const base = results[0]!.r;
  for (const { name, r } of results) {
    const rate = name.startsWith('baseline') ? '' : `, ${Math.round(N / r.seconds)} activities/s`;
    log(
      `${name.padEnd(36)} ${String(r.seconds).padStart(6)} s${rate}; /health ${r.probes} probes p50 ${r.p50} ms, p99 ${r.p99} ms (×${round(r.p99 / base.p99)} baseline), max ${r.max} ms; event loop delay p99 ${r.loopP99} ms, max ${r.loopMax} ms`,
    );
  }
  log(`load average after: ${load()}`);
}

await main();
