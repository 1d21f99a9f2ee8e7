import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ledger } from '@access-ledger/ledger';
import { ComplianceApiClient, SourcesStore, startFakeComplianceApi, syncOnce } from '@access-ledger/sources';

/**
 * Compliance API source (issue 13): backfill of ACTIVITIES (default 1 000 000) activities from the fake Compliance
 * API on loopback into the embedded store, end to end (pages fetched, staged with their checkpoint, mapped, imported
 * through the ledger's import path with the activity's digest as evidence, folded into the access projection).
 * Same-run baseline: the same feed paged alone by the same client (fetch + JSON parse, nothing stored). Targets:
 * ≥ 20 000 activities/s and ≥ 50 % of the bare paging rate. The CPU time per activity is printed beside each rate.
 *
 * The mix: one organization, 5 000 members added, then group memberships added and removed over 100 groups, role
 * changes, custom roles assigned, 30 % non-access activities (chats) and 1 % of an unknown type.
 */
const N = Number(process.env.ACTIVITIES ?? process.argv[2] ?? 1_000_000);
const ORG = 'abcdef01-2345-6789-abcd-ef0123456789';
const KEY = 'sk-ant-api01-bench';
const actor = { type: 'user_actor', user_id: 'u0', email_address: 'u0@acme.test', ip_address: '192.0.2.1', user_agent: 'bench' };

function history(n: number): Record<string, unknown>[] {
  const base = Date.parse('2026-01-01T00:00:00Z');
  const out: Record<string, unknown>[] = [];
  const members = Math.min(5_000, Math.max(10, Math.floor(n / 50)));
  const groups = 100;
  let i = 0;
  const push = (type: string, fields: Record<string, unknown>) => {
    out.push({
      id: `activity_${i}`,
      created_at: new Date(base + i * 1000).toISOString(),
      organization_id: 'org_bench',
      organization_uuid: ORG,
      actor,
      type,
      ...fields,
    });
    i++;
  };
  push('org_created', { organization_name: 'Bench' });
  for (let m = 0; m < members; m++) push('org_user_added', { user_id: `u${m}`, email_address: `u${m}@acme.test`, role: m === 0 ? 'primary_owner' : 'user' });
  for (let g = 0; g < groups; g++) push('group_created', { group_id: `g${g}`, group_name: `Group ${g}` });
  for (let r = 0; r < 10; r++) push('custom_role_created', { role_id: `r${r}`, role_name: `Role ${r}`, capabilities: ['claude_code'] });
  for (let g = 0; g < groups; g++) push('role_assigned_to_group', { group_id: `g${g}`, role_id: `r${g % 10}` });
  const inGroup = new Set<string>();
  let k = 0;
  while (out.length < n) {
    k++;
    const roll = k % 100;
    if (roll < 30) push('claude_chat_created', { claude_chat_id: `claude_chat_${k}` });
    else if (roll < 31) push('org_unknown_bench_type', { n: k });
    else if (roll < 33) push('org_user_role_changed', { user_id: `u${1 + (k % (members - 1))}`, role: k % 2 ? 'admin' : 'user' });
    else {
      const user = `u${1 + ((k * 7919) % (members - 1))}`;
      const group = `g${(k * 31) % groups}`;
      const key = `${group}/${user}`;
      if (inGroup.has(key)) {
        inGroup.delete(key);
        push('group_member_removed', { group_id: group, user_id: user });
      } else {
        inGroup.add(key);
        push('group_member_added', { group_id: group, user_id: user });
      }
    }
  }
  return out;
}

/**
 * CPU time of this process (every thread: the fake server, the client, the sync, the append workers) since `from`,
 * per activity: on a shared machine the wall-clock rates move with the other work, this much less.
 */
function cpuOf(from: NodeJS.CpuUsage, activities: number, wallS: number): string {
  const used = process.cpuUsage(from);
  const s = (used.user + used.system) / 1e6;
  return `CPU ${s.toFixed(1)} s = ${((s * 1e6) / activities).toFixed(0)} µs per activity, ${((100 * s) / wallS).toFixed(0)} % of the wall time`;
}

async function main() {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  log(
    `load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (shared machine)`,
  );
  const api = await startFakeComplianceApi({ keys: { [KEY]: ['read:compliance_activities'] } });
  api.add(history(N));
  const client = new ComplianceApiClient({ baseUrl: api.url, apiKey: KEY });
  // Baseline: the feed paged alone.
  let t = performance.now();
  let cpu = process.cpuUsage();
  let cursor: string | null = null;
  let paged = 0;
  do {
    const page = await client.page(cursor, 1000);
    paged += page.activities.length;
    cursor = page.next;
  } while (cursor !== null);
  const bareS = (performance.now() - t) / 1000;
  const bareRate = paged / bareS;
  log(`bare paging: ${paged} activities in ${bareS.toFixed(1)} s = ${Math.round(bareRate)} activities/s (${cpuOf(cpu, paged, bareS)})`);

  const dir = mkdtempSync(join(tmpdir(), 'bench-sources-'));
  try {
    const ledger = await Ledger.open({ dataDir: dir, verifyWholeChains: false });
    const store = new SourcesStore(join(dir, 'sources.sqlite'));
    store.add({ name: 'bench', kind: 'compliance-api', tenantId: 'bench', baseUrl: api.url, keyFile: '-' });
    t = performance.now();
    cpu = process.cpuUsage();
    let stagedAt = 0;
    const report = await syncOnce(store, 'bench', client, ledger, {
      pageSize: 1000,
      onProgress: (p) => {
        if (p.phase !== 'apply' && stagedAt === 0 && p.fetched >= N) stagedAt = performance.now();
      },
    });
    const endS = (performance.now() - t) / 1000;
    const endCpu = cpuOf(cpu, report.fetched, endS);
    const rate = report.fetched / endS;
    const d = report.byDisposition;
    log(
      `backfill end to end: ${report.fetched} activities (${d.mapped} mapped → ${report.appended} events, ${d.audit} audit, ${d.unmapped} unmapped, ${d.rejected} rejected) in ${endS.toFixed(1)} s = ${Math.round(rate)} activities/s` +
        (stagedAt ? ` (staging ${((stagedAt - t) / 1000).toFixed(1)} s, applying ${((performance.now() - stagedAt) / 1000).toFixed(1)} s)` : ''),
    );
    log(`  ${endCpu}`);
    log(`ratio to bare paging: ${((100 * rate) / bareRate).toFixed(0)} % (target ≥ 50 %); target ≥ 20 000 activities/s: ${rate >= 20_000 ? 'met' : 'NOT met'}`);
    log(
      `load average after: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    store.close();
    await ledger.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await api.close();
  }
}

await main();
