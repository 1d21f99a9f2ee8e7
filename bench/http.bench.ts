import { startServerProcess } from '../test/support/server-process.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ApiKeyStore } from '../apps/api/src/keys/api-key-store.js';
import { openApiDatabase } from '../apps/api/src/storage/api-database.js';

/**
 * Commands over HTTP: autocannon on loopback against the real server (compiled `apps/api/src/main.js`) in a
 * child process with a fresh data directory, so the load generator does not share the server's event loop.
 * Load: AddUserToGroup / RemoveUserFromGroup on a seeded organization, every request a distinct body, sent
 * by an owner (so R22 is decided on each). Same-run baseline: `GET /health` on the same server and
 * connections, the HTTP stack's ceiling. Targets: ≥ 2 000 commands/s, p99 ≤ 20 ms.
 * Then the same command load again with 1 000 idle keep-alive connections held open beside it
 * (idle connections must cost descriptors, not throughput), and once more without them; the ratio is against the mean
 * of the two runs without.
 */

export interface HttpBenchOptions {
  readonly durationSeconds?: number; // default 10
  readonly connections?: number; // default 16
  readonly users?: number; // seeded members (default 1 000)
  readonly groups?: number; // seeded groups (default 50)
  /** Idle keep-alive connections held open during the second command run (default 1 000). */
  readonly idleConnections?: number;
  /** Send an idempotencyKey with every command (one more SQLite write each; default false). */
  readonly idempotencyKeys?: boolean;
  readonly log?: (line: string) => void;
}

export interface HttpBenchRow {
  readonly name: string;
  readonly requests: number;
  readonly ok: number;
  readonly errors: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface HttpBenchResult {
  readonly commands: HttpBenchRow;
  /** The same load with `idleConnections` idle keep-alive connections open, then again without them. */
  readonly commandsWithIdle: HttpBenchRow;
  readonly commandsAfter: HttpBenchRow;
  readonly baseline: HttpBenchRow;
  /** The same command load on `Ledger.executeCommand` in this process, without HTTP: the Ledger's own ceiling. */
  readonly inProcess: HttpBenchRow;
  readonly node: string;
}

interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (req: AutocannonRequest, context: Record<string, unknown>) => AutocannonRequest;
}
interface AutocannonResult {
  duration: number;
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latency: { p50: number; p99: number };
  statusCodeStats?: Record<string, { count: number }>;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const TENANT = 'bench';
const ORG = 'bench-org';
const OWNER = 'u-owner';

function seedNdjson(users: number, groups: number): string {
  const at = '2026-01-01T00:00:00.000Z';
  const line = (id: string, type: string, data: Record<string, unknown>) =>
    JSON.stringify({ id, type, occurredAt: at, actor: { kind: 'system' }, source: 'seed', data });
  return [
    line('seed-org', 'OrganizationCreated', { orgId: ORG, name: 'Bench Org', dualSeat: false, provisioningMode: 'invite_only', usageBased: false }),
    line('seed-owner', 'MemberAdded', { orgId: ORG, userId: OWNER, email: 'owner@bench.test', role: 'primary_owner' }),
    ...Array.from({ length: users }, (_, i) => line(`seed-u${i}`, 'MemberAdded', { orgId: ORG, userId: `u-${i}`, email: `u${i}@bench.test`, role: 'user' })),
    ...Array.from({ length: groups }, (_, i) => line(`seed-g${i}`, 'GroupCreated', { groupId: `g-${i}`, name: `Group ${i}`, source: 'manual' })),
  ].join('\n');
}

/**
 * Request 2k adds pair k; request 2k+1 removes pair k - LAG, added long enough ago to be stored whatever the
 * interleaving of connections (before that, it adds a pair from the far end). Pairs cycle through
 * users × groups, so every body differs.
 */
function commandBodies(users: number, groups: number, connections: number, idempotencyKeys: boolean): () => string {
  const LAG = 50 * connections;
  let n = 0;
  const pair = (k: number) => ({ groupId: `g-${Math.floor(k / users) % groups}`, userId: `u-${k % users}` });
  return () => {
    const i = n++;
    const k = Math.floor(i / 2);
    const remove = i % 2 === 1 && k >= LAG;
    return JSON.stringify({
      type: remove ? 'RemoveUserFromGroup' : 'AddUserToGroup',
      actor: { kind: 'member', orgId: ORG, userId: OWNER },
      payload: pair(remove ? k - LAG : i % 2 === 1 ? users * groups - 1 - k : k),
      ...(idempotencyKeys ? { idempotencyKey: `bench-${i}` } : {}),
    });
  };
}

/** The same load without HTTP: `connections` concurrent callers of Ledger.executeCommand for `duration` s. */
async function benchInProcess(users: number, groups: number, connections: number, duration: number, idempotencyKeys: boolean): Promise<HttpBenchRow> {
  const { createLedger } = await import('@access-ledger/ledger');
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-inproc-bench-'));
  const ledger = await createLedger({ dataDir });
  try {
    const seeded = await ledger.importEvents(TENANT, seedNdjson(users, groups));
    if (seeded.kind !== 'imported') throw new Error(`seeding failed: ${JSON.stringify(seeded)}`);
    const next = commandBodies(users, groups, connections, idempotencyKeys);
    const latencies: number[] = [];
    let errors = 0;
    const end = performance.now() + duration * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < end) {
          const t = performance.now();
          const outcome = await ledger.executeCommand(TENANT, JSON.parse(next()));
          latencies.push(performance.now() - t);
          if (outcome.kind !== 'appended') errors++;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]! * 100) / 100;
    return {
      name: 'Ledger.executeCommand in-process',
      requests: latencies.length,
      ok: latencies.length - errors,
      errors,
      perSecond: Math.round((latencies.length - errors) / seconds),
      p50Ms: at(0.5),
      p99Ms: at(0.99),
    };
  } finally {
    await ledger.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * `count` keep-alive connections, each having had one `GET /health` answered and then left idle: what a crowd of
 * pooled but quiet clients holds on the server.
 */
async function openIdleConnections(url: string, count: number): Promise<Socket[]> {
  const { hostname, port } = new URL(url);
  const open = (): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(`GET /health HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`));
      let seen = '';
      const onData = (chunk: Buffer): void => {
        seen += chunk.toString('latin1');
        if (/\r\n\r\n[\s\S]*\}/.test(seen)) {
          socket.off('data', onData);
          resolve(socket);
        }
      };
      socket.on('data', onData);
      socket.once('error', reject);
    });
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i += 100) sockets.push(...(await Promise.all(Array.from({ length: Math.min(100, count - i) }, open))));
  return sockets;
}

function row(name: string, r: AutocannonResult): HttpBenchRow {
  return {
    name,
    requests: r['2xx'] + r.non2xx,
    ok: r['2xx'],
    errors: r.non2xx + r.errors + r.timeouts,
    perSecond: Math.round(r['2xx'] / r.duration),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
  };
}

export async function benchHttp(opts: HttpBenchOptions = {}): Promise<HttpBenchResult> {
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const duration = opts.durationSeconds ?? 10;
  const connections = opts.connections ?? 16;
  const users = opts.users ?? 1000;
  const groups = opts.groups ?? 50;
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-http-bench-'));
  const db = openApiDatabase(dataDir);
  const key = new ApiKeyStore(db).create({
    tenantId: TENANT,
    scopes: ['commands:write', 'events:import'],
    // The commands are the owner's: the key speaks for the owner (a key acting as another member would need act-as-member).
    principal: { kind: 'member', orgId: ORG, userId: OWNER },
    name: 'bench',
  }).key;
  db.close();
  // A keep-alive timeout longer than a run, so the idle connections stay open through it.
  const { child, url } = await startServerProcess(dataDir, { HTTP_KEEP_ALIVE_TIMEOUT_MS: '120000', ACCESS_LOG: 'true' });
  try {
    const auth = { authorization: `Bearer ${key}` };
    const seeded = await fetch(`${url}/v1/tenants/${TENANT}/events:import`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/x-ndjson' },
      body: seedNdjson(users, groups),
    });
    if (seeded.status !== 200) throw new Error(`seeding failed: ${seeded.status} ${await seeded.text()}`);

    const commandBody = commandBodies(users, groups, connections, opts.idempotencyKeys ?? false);
    const common = { connections, pipelining: 1 };

    log(`HTTP commands: ${connections} connections, ${duration} s, ${users} members × ${groups} groups, server pid ${child.pid}`);
    await autocannon({ ...common, duration: 2, url: `${url}/health` }); // warm-up
    const baseline = row('GET /health (baseline)', await autocannon({ ...common, duration, url: `${url}/health` }));
    const commandLoad = () =>
      autocannon({
        ...common,
        url,
        duration,
        requests: [
          {
            method: 'POST',
            path: `/v1/tenants/${TENANT}/commands`,
            headers: { ...auth, 'content-type': 'application/json' },
            setupRequest: (req: AutocannonRequest) => ({ ...req, body: commandBody() }),
          },
        ],
      });
    const commandsResult = await commandLoad();
    const commands = row('POST commands (Add/RemoveUserFromGroup)', commandsResult);
    const idleCount = opts.idleConnections ?? 1000;
    const idle = await openIdleConnections(url, idleCount);
    let commandsWithIdle: HttpBenchRow;
    try {
      commandsWithIdle = row(`POST commands, ${idleCount} idle connections open`, await commandLoad());
      const stillOpen = idle.filter((s) => !s.destroyed && s.readyState === 'open').length;
      if (stillOpen < idleCount) log(`note: ${idleCount - stillOpen} of the idle connections were closed during the run`);
    } finally {
      for (const socket of idle) socket.destroy();
    }
    // Again without them: the store grows and the machine's load drifts between runs, so the idle run is compared
    // with the mean of the runs before and after it.
    const commandsAfter = row('POST commands, none open again', await commandLoad());
    child.kill('SIGTERM'); // the in-process run gets the cores to itself
    await new Promise((r) => child.once('exit', r));
    const inProcess = await benchInProcess(users, groups, connections, duration, opts.idempotencyKeys ?? false);
    log(`${'route'.padEnd(42)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'ok'.padStart(8)} ${'errors'.padStart(8)}`);
    for (const r of [baseline, commands, commandsWithIdle, commandsAfter, inProcess]) {
      log(
        `${r.name.padEnd(42)} ${String(r.perSecond).padStart(8)} ${String(r.p50Ms).padStart(8)} ${String(r.p99Ms).padStart(8)} ${String(r.ok).padStart(8)} ${String(r.errors).padStart(8)}`,
      );
    }
    if (commandsResult.statusCodeStats)
      log(`command statuses: ${JSON.stringify(Object.fromEntries(Object.entries(commandsResult.statusCodeStats).map(([s, v]) => [s, v.count])))}`);
    const none = (commands.perSecond + commandsAfter.perSecond) / 2;
    log(
      `commands/s with ${idleCount} idle connections open / with none (mean of the runs before and after): ${(commandsWithIdle.perSecond / Math.max(1, none)).toFixed(2)}`,
    );
    log(`targets: ≥ 2000 commands/s (${commands.perSecond >= 2000 ? 'met' : 'NOT met'}), p99 ≤ 20 ms (${commands.p99Ms <= 20 ? 'met' : 'NOT met'})`);
    return { commands, commandsWithIdle, commandsAfter, baseline, inProcess, node: process.version };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchHttp();
}
