import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ledger } from '@access-ledger/ledger';
import { ComplianceApiClient, SourcesStore, syncOnce } from '@access-ledger/sources';

/**
 * Compliance API source (issue 13): backfill of ACTIVITIES (default 1 000 000) activities from the fake Compliance
 * API on loopback into the embedded store, end to end (pages fetched, staged with their checkpoint, mapped, imported
 * through the ledger's import path with the activity's digest as evidence, folded into the access projection).
 * Same-run baseline: the same feed paged alone by the same client (fetch + JSON parse, nothing stored). Targets:
 * ≥ 20 000 activities/s and ≥ 50 % of the bare paging rate. The CPU time per activity is printed beside each rate.
 * The fake server runs in a child process (compliance-fake-api.ts); the feed is compliance-history.ts.
 */
const N = Number(process.env.ACTIVITIES ?? process.argv[2] ?? 1_000_000);
const KEY = 'sk-ant-api01-bench';

/** CPU time (user + system) in seconds. */
const seconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;

/** The fake Compliance API in a child process (compliance-fake-api.ts), serving `n` activities. */
async function forkFakeApi(n: number): Promise<{ url: string; cpu(): Promise<number>; close(): Promise<void> }> {
  const child = fork(join(dirname(fileURLToPath(import.meta.url)), 'compliance-fake-api.js'), [], {
    env: { ...process.env, ACTIVITIES: String(n), FAKE_API_KEY: KEY },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      child.once('message', (m) => resolve(m as Record<string, unknown>));
      child.once('exit', (code) => reject(new Error(`the fake Compliance API exited (${code})`)));
    });
  const { url } = (await next()) as { url: string };
  return {
    url,
    cpu: async () => {
      const answer = next();
      child.send('cpu');
      return seconds((await answer).cpu as NodeJS.CpuUsage);
    },
    close: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send('close');
      await exited;
    },
  };
}

async function main() {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  log(
    `load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (shared machine)`,
  );
  const api = await forkFakeApi(N);
  const client = new ComplianceApiClient({ baseUrl: api.url, apiKey: KEY });
  /**
   * CPU time since `from` per activity: this process (every thread: the client, the sync, the staging and append
   * workers) and the fake server's process. On a shared machine the wall-clock rates move with the other work, this
   * much less.
   */
  const mark = async () => ({ here: process.cpuUsage(), server: await api.cpu() });
  const cpuOf = async (from: { here: NodeJS.CpuUsage; server: number }, activities: number, wallS: number) => {
    const here = seconds(process.cpuUsage(from.here));
    const server = (await api.cpu()) - from.server;
    const us = (x: number) => ((x * 1e6) / activities).toFixed(0);
    return `CPU ${(here + server).toFixed(1)} s = ${us(here + server)} µs per activity (this process ${us(here)}, the fake server ${us(server)}), ${((100 * (here + server)) / wallS).toFixed(0)} % of the wall time`;
  };
  // Baseline: the feed paged alone.
  let cpu = await mark();
  let t = performance.now();
  let cursor: string | null = null;
  let paged = 0;
  do {
    const page = await client.page(cursor, 1000);
    paged += page.activities.length;
    cursor = page.next;
  } while (cursor !== null);
  const bareS = (performance.now() - t) / 1000;
  const bareRate = paged / bareS;
  log(`bare paging: ${paged} activities in ${bareS.toFixed(1)} s = ${Math.round(bareRate)} activities/s (${await cpuOf(cpu, paged, bareS)})`);

  const dir = mkdtempSync(join(tmpdir(), 'bench-sources-'));
  try {
    const ledger = await Ledger.open({ dataDir: dir, verifyWholeChains: false });
    const store = new SourcesStore(join(dir, 'sources.sqlite'));
    store.add({ name: 'bench', kind: 'compliance-api', tenantId: 'bench', baseUrl: api.url, keyFile: '-' });
    cpu = await mark();
    t = performance.now();
    let stagedAt = 0;
    const report = await syncOnce(store, 'bench', client, ledger, {
      pageSize: 1000,
      onProgress: (p) => {
        if (p.phase !== 'apply' && stagedAt === 0 && p.fetched >= N) stagedAt = performance.now();
      },
    });
    const endS = (performance.now() - t) / 1000;
    const endCpu = await cpuOf(cpu, report.fetched, endS);
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
