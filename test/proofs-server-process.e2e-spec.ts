/**
 * The compiled server, where the Merkle tree follows the log in its own thread (under jest, from the sources, the
 * tree grows inside each append instead): commands over HTTP, the server's checkpointer signing what the tree has
 * taken, a SIGKILL in the middle of a burst, a restart that catches the tree up, then proofs served over HTTP that
 * the compiled CLI verifies offline with the published keys, and `ledger verify --against` the last checkpoint.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLedger } from './support/ledger-cli.js';
import { SERVER_MAIN, startServerProcess, type ServerProcess } from './support/server-process.js';

const dirs: string[] = [];
const servers: ServerProcess[] = [];
afterAll(async () => {
  for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  await Promise.all(servers.map((s) => s.exited));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Checkpoint {
  readonly treeSize: number;
}

const get = (server: ServerProcess, path: string, key: string | null = server.key) =>
  fetch(`${server.url}${path}`, { headers: key === null ? {} : { authorization: `Bearer ${key}` } });

/** Creates groups `from`…`to - 1` over HTTP, 16 at a time; the ids of the events stored (a request cut by a kill: none). */
async function createGroups(server: ServerProcess, from: number, to: number, onAnswer?: (answers: number) => void): Promise<string[]> {
  const ids: string[] = [];
  let next = from;
  let answers = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < to) {
        const i = next++;
        try {
          const response = await fetch(`${server.url}/v1/tenants/demo/commands`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${server.key}` },
            body: JSON.stringify({ type: 'CreateGroup', actor: { kind: 'system' }, payload: { groupId: `g-${i}`, name: `Group ${i}`, source: 'manual' } }),
          });
          const body = (await response.json()) as { events?: { id: string }[] };
          if (response.status === 201) for (const e of body.events ?? []) ids.push(e.id);
          onAnswer?.(++answers);
        } catch {
          return; // the server was killed under this request
        }
      }
    }),
  );
  return ids;
}

/** Polls the tenant's checkpoints until one covers `size` events (the tree has taken them and the checkpointer signed). */
async function checkpointOf(server: ServerProcess, size: number): Promise<number[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const response = await get(server, '/v1/tenants/demo/checkpoints');
    if (response.status === 200) {
      const sizes = ((await response.json()) as { checkpoints: Checkpoint[] }).checkpoints.map((c) => c.treeSize);
      if (sizes.includes(size)) return sizes;
    }
    if (Date.now() > deadline) throw new Error(`no checkpoint of ${size} events within 30 s`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

describe('Merkle tree following the log in the compiled server', () => {
  it('checkpoints and proofs over HTTP across a SIGKILL mid-burst; verified offline by the compiled CLI', async () => {
    if (!existsSync(SERVER_MAIN)) throw new Error(`${SERVER_MAIN} is missing: run \`npm run build\` (npm test does) before this suite`);
    const dataDir = mkdtempSync(join(tmpdir(), 'ledger-tree-process-'));
    dirs.push(dataDir);
    const env = { CHECKPOINT_EVERY_EVENTS: '25', CHECKPOINT_EVERY_SECONDS: '1' };

    let server = await startServerProcess(dataDir, env);
    servers.push(server);
    const key = server.key;
    const integrity = async (s: ServerProcess) => ((await (await get(s, '/v1/tenants/demo/integrity', key)).json()) as { events: number }).events;
    // Two stretches, each waited for until a checkpoint covers it (the checkpointer looks every second).
    const firstIds = await createGroups(server, 0, 40);
    await checkpointOf(server, await integrity(server));
    firstIds.push(...(await createGroups(server, 40, 120)));
    expect(firstIds.length).toBe(120);
    const before = await integrity(server);
    const sizesBefore = await checkpointOf(server, before);
    expect(sizesBefore.length).toBeGreaterThanOrEqual(2);

    // A burst, killed after 60 answers: events committed, the tree (in its thread) possibly behind them.
    await createGroups(server, 120, 400, (answers) => {
      if (answers === 60) server.child.kill('SIGKILL');
    });
    await server.exited;

    server = await startServerProcess(dataDir, env);
    servers.push(server);
    expect(server.key).toBe(key); // the same data directory, the same keys
    const lastIds = await createGroups(server, 1000, 1030);
    expect(lastIds.length).toBe(30);
    const total = await integrity(server);
    expect(total).toBeGreaterThanOrEqual(before + 60 + 30);
    const sizes = await checkpointOf(server, total);
    // Every checkpoint made before the kill is still there, and later ones only grow.
    expect(sizes.slice(0, sizesBefore.length)).toEqual(sizesBefore);
    for (let i = 1; i < sizes.length; i++) expect(sizes[i]!).toBeGreaterThan(sizes[i - 1]!);

    const keysFile = join(dataDir, 'published-keys.json');
    writeFileSync(keysFile, await (await get(server, '/checkpoints/keys', null)).text());
    const proofs = [
      `/v1/tenants/demo/events/${firstIds[3]}/proof?checkpoint=${sizesBefore[0]}`,
      `/v1/tenants/demo/events/${firstIds[3]}/proof?checkpoint=${total}`,
      `/v1/tenants/demo/events/${lastIds.at(-1)}/proof`,
      `/v1/tenants/demo/checkpoints/consistency?from=${sizesBefore[0]}&to=${total}`,
      `/v1/tenants/demo/checkpoints/consistency?from=${before}&to=${total}`,
    ];
    for (const path of proofs) {
      const response = await get(server, path);
      expect([path, response.status]).toEqual([path, 200]);
      const file = join(dataDir, 'proof.json');
      writeFileSync(file, await response.text());
      const run = await runLedger(dataDir, ['verify-proof', file, '--keys', keysFile]);
      expect([path, run.status, run.stdout]).toEqual([path, 0, expect.stringMatching(/proof valid/)]);
    }

    // The last checkpoint, as an auditor downloads it, against the store: the Merkle root rebuilt from the events.
    const checkpoints = (await (await get(server, '/v1/tenants/demo/checkpoints')).json()) as { checkpoints: (Checkpoint & Record<string, unknown>)[] };
    const last = checkpoints.checkpoints.find((c) => c.treeSize === total)!;
    const cpFile = join(dataDir, 'last-checkpoint.json');
    writeFileSync(cpFile, JSON.stringify(last));
    server.child.kill('SIGTERM');
    await server.exited;
    const verify = await runLedger(dataDir, ['verify', '--tenant', 'demo', '--against', cpFile, '--keys', keysFile]);
    expect([verify.status, verify.stdout]).toEqual([0, expect.stringMatching(/checkpoint/i)]);
  }, 120_000);
});
