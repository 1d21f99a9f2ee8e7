import { afterAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SERVER_MAIN, startServerProcess, type ServerProcess } from './support/server-process.js';

/**
 * Idempotency keys survive a crash. The real server, in its own process, takes commands with
 * idempotency keys under load and is SIGKILLed mid-flight, several times; every key is retried after each restart
 * until answered. Then every key's events are stored exactly once, and every retry got the first answer — also for
 * a command that was committed but whose answer the kill swallowed.
 */
const KEYS = 3000;
const ROUNDS = 12;
const CONCURRENCY = 64;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Key i: a group to create (201), or every third an organization the platform may not create (403 R24, AccessChangeDenied). */
function commandOf(i: number): Record<string, unknown> {
  const idempotencyKey = `crash-key-${i}`;
  if (i % 3 === 0) {
    return {
      type: 'CreateOrganization',
      actor: { kind: 'platform' },
      idempotencyKey,
      payload: { orgId: `org-${i}`, name: `Org ${i}`, dualSeat: false, provisioningMode: 'invite_only', usageBased: false },
    };
  }
  return { type: 'CreateGroup', actor: { kind: 'system' }, idempotencyKey, payload: { groupId: `g-${i}`, name: `Group ${i}`, source: 'manual' } };
}

interface Answered {
  readonly status: number;
  readonly body: unknown;
}

async function send(server: ServerProcess, i: number): Promise<{ answer: Answered; replayed: boolean } | undefined> {
  try {
    const response = await fetch(`${server.url}/v1/tenants/demo/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.key}` },
      body: JSON.stringify(commandOf(i)),
    });
    const body: unknown = await response.json();
    return { answer: { status: response.status, body }, replayed: response.headers.get('idempotent-replayed') === 'true' };
  } catch {
    return undefined; // the server died under this request: it is retried after the restart
  }
}

describe('idempotency keys survive SIGKILL of the server', () => {
  it(`${KEYS} keyed commands, ${ROUNDS} kills mid-flight, every key retried until answered: each key's events stored once, every retry answered the first answer`, async () => {
    if (!existsSync(SERVER_MAIN)) throw new Error(`${SERVER_MAIN} is missing: run \`npm run build\` (npm test does) before this suite`);
    const dataDir = mkdtempSync(join(tmpdir(), 'ledger-idem-crash-'));
    dirs.push(dataDir);
    const first = new Map<number, Answered>();
    let replayedFirst = 0;
    const unexpected: string[] = [];

    /** Sends the keys not answered yet; SIGKILLs the server once `killAfter` answers came back in this round. */
    const runRound = async (server: ServerProcess, killAfter: number | undefined): Promise<void> => {
      const pending = Array.from({ length: KEYS }, (_, i) => i).filter((i) => !first.has(i));
      let next = 0;
      let answers = 0;
      let killed = false;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < pending.length && !killed) {
            const i = pending[next++]!;
            const sent = await send(server, i);
            if (sent === undefined) continue;
            if (killAfter !== undefined && ++answers >= killAfter && !killed) {
              killed = true;
              server.child.kill('SIGKILL');
            }
            const { answer, replayed } = sent;
            if (answer.status !== 201 && answer.status !== 403) unexpected.push(`key ${i}: ${answer.status} ${JSON.stringify(answer.body)}`);
            else if (!first.has(i)) {
              first.set(i, answer);
              if (replayed) replayedFirst++; // committed before a kill, answered only now
            }
          }
        }),
      );
    };

    for (let round = 0; round < ROUNDS; round++) {
      const server = await startServerProcess(dataDir);
      await runRound(server, 100 + Math.floor(Math.random() * 200));
      server.child.kill('SIGKILL');
      expect(await server.exited).toBe('SIGKILL');
    }
    const server = await startServerProcess(dataDir);
    try {
      await runRound(server, undefined);
      expect(unexpected).toEqual([]);
      expect(first.size).toBe(KEYS);
      // Every key again: the first answer, marked replayed, nothing appended.
      for (let i = 0; i < KEYS; i += 7) {
        const again = await send(server, i);
        expect([i, again]).toEqual([i, { answer: first.get(i), replayed: true }]);
      }
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }

    const db = new DatabaseSync(join(dataDir, 'events.sqlite'), { readOnly: true });
    const perKey = new Map<string, number>();
    try {
      for (const row of db.prepare("SELECT type, data FROM events WHERE stream_id = 'tenant-demo'").all() as { type: string; data: string }[]) {
        const data = JSON.parse(row.data) as { groupId?: string; command?: { payload?: { orgId?: string } } };
        const id = row.type === 'GroupCreated' ? data.groupId : row.type === 'AccessChangeDenied' ? data.command?.payload?.orgId : undefined;
        if (id !== undefined) perKey.set(id, (perKey.get(id) ?? 0) + 1);
      }
    } finally {
      db.close();
    }
    const twice = [...perKey].filter(([, n]) => n !== 1);
    process.stdout.write(
      `idempotency crash: ${ROUNDS} kills, ${replayedFirst} keys committed before a kill and first answered after it, ${twice.length} keys stored more than once\n`,
    );
    expect(twice).toEqual([]);
    expect(perKey.size).toBe(KEYS);
  }, 240_000); // ≈ 20 s alone, ≈ 45 s beside the rest of the suite on 2 cores
});
