import { startServerProcess } from '../test/support/server-process.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ApiKeyStore } from '../apps/api/src/keys/api-key-store.js';
import { openApiDatabase } from '../apps/api/src/storage/api-database.js';

/**
 * Back-dated imports (R61): the real server (compiled `apps/api/src/main.js`, embedded SQLite and
 * chDB) in a child process with some history, then one NDJSON import of `lines` group-membership events whose
 * occurredAt are all earlier than that history, so every one is late for the access projection and the interval
 * projection. Same-run baseline: the same lines on an identical server, dated after the history (in order).
 * Figures: until the import answers, until both read-model projections have caught up, and `/health` probed every
 * 50 ms from this process throughout (max and p99). Targets: ≤ 10 s for 50 000 lines, `/health` ≤ 100 ms.
 */
export interface BackdatedBenchOptions {
  readonly lines?: number; // default 50 000
  readonly members?: number; // default 1 000
  readonly groups?: number; // default 50
  /** In-order events stored before the import (the history the lines are back-dated against); default 5 000. */
  readonly history?: number;
  readonly log?: (line: string) => void;
  /** Extra node flags for the server (e.g. --cpu-prof). */
  readonly serverFlags?: readonly string[];
}

export interface BackdatedRun {
  readonly name: string;
  readonly lines: number;
  readonly importSeconds: number;
  readonly caughtUpSeconds: number;
  readonly probes: number;
  readonly healthFailures: number;
  readonly healthMaxMs: number;
  readonly healthP99Ms: number;
}

const TENANT = 'bench';
const ORG = 'bench-org';
const HISTORY_START = Date.UTC(2026, 5, 1); // the history: June 2026 on
const BACKDATED_START = Date.UTC(2026, 0, 1); // back-dated lines: January 2026 on, all before the history
const AFTER_START = Date.UTC(2026, 8, 1); // baseline lines: September 2026 on, after the history

const line = (id: string, type: string, at: number, data: Record<string, unknown>) =>
  JSON.stringify({ id, type, occurredAt: new Date(at).toISOString(), actor: { kind: 'system' }, source: 'admin_api_import', data });

/** An organization, members, groups that grant a role with a capability, and `history` group changes, in order. */
function historyNdjson(members: number, groups: number, history: number): string {
  let at = HISTORY_START;
  const next = () => (at += 1000);
  const out = [
    line('h-org', 'OrganizationCreated', next(), { orgId: ORG, name: 'Bench Org', dualSeat: false, provisioningMode: 'invite_only', usageBased: false }),
    line('h-owner', 'MemberAdded', next(), { orgId: ORG, userId: 'u-owner', email: 'owner@bench.test', role: 'primary_owner' }),
    line('h-role', 'RoleCreated', next(), { orgId: ORG, roleId: 'r-cc', name: 'Claude Code' }),
    line('h-role-cc', 'RoleCapabilitySet', next(), { orgId: ORG, roleId: 'r-cc', capability: 'claude_code', granted: true }),
  ];
  for (let i = 0; i < members; i++)
    out.push(line(`h-u${i}`, 'MemberAdded', next(), { orgId: ORG, userId: `u-${i}`, email: `u${i}@bench.test`, role: 'custom' }));
  for (let g = 0; g < groups; g++) {
    out.push(line(`h-g${g}`, 'GroupCreated', next(), { groupId: `g-${g}`, name: `Group ${g}`, source: 'manual' }));
    out.push(line(`h-a${g}`, 'RoleAssignedToGroup', next(), { orgId: ORG, groupId: `g-${g}`, roleId: 'r-cc' }));
  }
  for (let i = 0; i < history; i++) out.push(line(`h-m${i}`, 'UserAddedToGroup', next(), { groupId: `g-${i % groups}`, userId: `u-${(i * 7) % members}` }));
  return out.join('\n');
}

/** `lines` adds and removes of members in groups, one second apart from `start`. */
function linesNdjson(lines: number, members: number, groups: number, start: number): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const k = Math.floor(i / 2);
    const data = { groupId: `g-${(k + 1) % groups}`, userId: `u-${(k * 13) % members}` };
    out.push(line(`l-${i}`, i % 2 === 0 ? 'UserAddedToGroup' : 'UserRemovedFromGroup', start + i * 1000, data));
  }
  return out.join('\n');
}

async function caughtUp(url: string): Promise<boolean> {
  const ready = (await (await fetch(`${url}/ready`)).json()) as { readModelLag?: Record<string, number> };
  return ready.readModelLag !== undefined && Object.values(ready.readModelLag).every((lag) => lag === 0);
}

async function waitCaughtUp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await caughtUp(url))) {
    if (Date.now() > deadline) throw new Error(`read model not caught up after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function run(name: string, history: string, body: string, lines: number, flags: readonly string[], log: (l: string) => void): Promise<BackdatedRun> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-backdated-bench-'));
  const db = openApiDatabase(dataDir);
  const key = new ApiKeyStore(db).create({ tenantId: TENANT, scopes: ['events:import'], name: 'bench' }).key;
  db.close();
  const { child, url } = await startServerProcess(dataDir, {}, flags);
  const post = (ndjson: string) =>
    fetch(`${url}/v1/tenants/${TENANT}/events:import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-ndjson' },
      body: ndjson,
    });
  try {
    const seeded = await post(history);
    if (seeded.status !== 200) throw new Error(`history import failed: ${seeded.status} ${await seeded.text()}`);
    await waitCaughtUp(url, 300_000);

    // /health every 50 ms from here until the projections have caught up; a probe waits at most 5 s.
    const latencies: number[] = [];
    let failures = 0;
    let probing = true;
    const prober = (async () => {
      while (probing) {
        const t = performance.now();
        try {
          const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) });
          await res.arrayBuffer();
          if (res.status !== 200) failures++;
        } catch {
          failures++;
        }
        const ms = performance.now() - t;
        latencies.push(ms);
        await new Promise((r) => setTimeout(r, Math.max(0, 50 - ms)));
      }
    })();
    const started = performance.now();
    const imported = await post(body);
    const importSeconds = (performance.now() - started) / 1000;
    if (imported.status !== 200) throw new Error(`import failed: ${imported.status} ${(await imported.text()).slice(0, 500)}`);
    await waitCaughtUp(url, 1_800_000);
    const caughtUpSeconds = (performance.now() - started) / 1000;
    probing = false;
    await prober;
    latencies.sort((a, b) => a - b);
    const result: BackdatedRun = {
      name,
      lines,
      importSeconds: round(importSeconds),
      caughtUpSeconds: round(caughtUpSeconds),
      probes: latencies.length,
      healthFailures: failures,
      healthMaxMs: round(latencies.at(-1) ?? 0),
      healthP99Ms: round(latencies[Math.min(latencies.length - 1, Math.floor(0.99 * latencies.length))] ?? 0),
    };
    log(
      `${name.padEnd(34)} ${String(lines).padStart(6)} lines: import ${result.importSeconds} s, read model caught up ${result.caughtUpSeconds} s; /health ${result.probes} probes, max ${result.healthMaxMs} ms, p99 ${result.healthP99Ms} ms, ${failures} failed`,
    );
    return result;
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const round = (n: number) => Math.round(n * 100) / 100;

export async function benchBackdatedImport(opts: BackdatedBenchOptions = {}): Promise<{ backdated: BackdatedRun; inOrder: BackdatedRun }> {
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const lines = opts.lines ?? 50_000;
  const members = opts.members ?? 1000;
  const groups = opts.groups ?? 50;
  const history = historyNdjson(members, groups, opts.history ?? 5000);
  log(
    `back-dated import: ${lines} lines (group adds/removes over ${members} members × ${groups} groups) after ${opts.history ?? 5000} events of history, one import request`,
  );
  const inOrder = await run('in order (baseline)', history, linesNdjson(lines, members, groups, AFTER_START), lines, opts.serverFlags ?? [], log);
  const backdated = await run('back-dated (R61)', history, linesNdjson(lines, members, groups, BACKDATED_START), lines, opts.serverFlags ?? [], log);
  log(
    `targets: back-dated import ≤ 10 s → ${backdated.importSeconds <= 10 ? 'met' : 'NOT met'}; /health ≤ 100 ms throughout → ${backdated.healthMaxMs <= 100 && backdated.healthFailures === 0 ? 'met' : 'NOT met'}`,
  );
  return { backdated, inOrder };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const lines = process.argv[2] ? Number(process.argv[2]) : undefined;
  const flags = process.env.BENCH_SERVER_FLAGS ? process.env.BENCH_SERVER_FLAGS.split(' ') : [];
  await benchBackdatedImport({ ...(lines ? { lines } : {}), serverFlags: flags });
}
