/**
 * /ready during a catch-up (issue 12): the server must not say ready while a projection is still behind the head
 * it found at start (a restore, a rebuild, a restart far behind) — before, /ready said ready while access_intervals
 * was 3 401 events behind. The read model's projections run for real (SQLite store, chDB); the store's
 * subscription is held back until the test lets it go, so "behind" is observed deterministically.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore, tenantStream, type EventStore, type EventToAppend, type Subscription } from '@access-ledger/event-store';
import { ReadModel, StartCatchUp } from '../apps/api/src/read-model/read-model.js';
import { startTestServer } from '../apps/api/test/support/test-server.js';

function memberAdded(i: number): EventToAppend {
  const at = new Date(Date.parse('2026-03-01T09:00:00.000Z') + i * 1000).toISOString();
  return {
    id: `ready-${i}`,
    type: i === 0 ? 'OrganizationCreated' : 'MemberAdded',
    data:
      i === 0
        ? { orgId: 'acme-eng', name: 'Acme', dualSeat: false, provisioningMode: 'invite_only', usageBased: false }
        : { orgId: 'acme-eng', userId: `u-${i}`, email: `u${i}@acme.test`, role: 'user' },
    metadata: { tenantId: 'acme', occurredAt: at, recordedAt: at, actor: { kind: 'system' }, source: 'api', schemaVersion: 1 },
  };
}

/** The real store, except that every subscription delivers nothing until `gate` resolves. */
function heldBack(store: SqliteEventStore, gate: Promise<void>): EventStore {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'subscribeToAll')
        return (options: Parameters<EventStore['subscribeToAll']>[0]): Subscription => {
          const inner = target.subscribeToAll(options);
          return {
            close: () => inner.close(),
            poke: () => inner.poke?.(),
            async *[Symbol.asyncIterator]() {
              await gate;
              yield* inner;
            },
          };
        };
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as unknown as EventStore;
}

describe('StartCatchUp', () => {
  it('counts the events left to the head at start, and stays reached once reached (later writes are live lag)', () => {
    const c = new StartCatchUp(99);
    expect(c.behind(-1)).toBe(100);
    expect(c.behind(58)).toBe(41);
    expect(c.behind(99)).toBe(0);
    expect(c.behind(50)).toBe(0); // never goes back to "catching up"
    expect(new StartCatchUp(-1).behind(-1)).toBe(0); // an empty store: ready at once
  });
});

describe('the read model behind the head found at start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ready-catch-up-'));
  let store: SqliteEventStore;
  let readModel: ReadModel;
  let release!: () => void;

  beforeAll(async () => {
    store = SqliteEventStore.open(join(dir, 'events.sqlite'), { pollIntervalMs: 20 });
    await store.append(
      tenantStream('acme'),
      Array.from({ length: 40 }, (_, i) => memberAdded(i)),
    );
    const gate = new Promise<void>((resolve) => (release = resolve));
    readModel = await ReadModel.open(heldBack(store, gate), { dataDir: dir });
  });
  afterAll(async () => {
    release();
    await readModel?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists every projection behind the head at start with its lag, then none once each has reached it', async () => {
    const before = await readModel.health();
    expect(before.reachable).toBe(true);
    expect(before.startHead).toBe(40); // positions start at 1
    expect(before.catchingUp).toEqual({ audit_events: 41, access_intervals: 41 });
    expect(before.projections).toEqual({ audit_events: { checkpoint: -1, lag: 41 }, access_intervals: { checkpoint: -1, lag: 41 } });

    release();
    await readModel.caughtUp(20_000);
    const after = await readModel.health();
    expect(after.catchingUp).toEqual({});
    expect(after.projections).toEqual({ audit_events: { checkpoint: 40, lag: 0 }, access_intervals: { checkpoint: 40, lag: 0 } });
  });
});

describe('/ready', () => {
  it('answers 503 naming each projection still behind the head found at start, 200 once none is', async () => {
    const server = await startTestServer();
    const health = server.ledger.health.bind(server.ledger);
    server.ledger.health = async () => ({ ...(await health()), startHead: 41_000, catchingUp: { access_intervals: 3401 } });
    const response = await fetch(`${server.url}/ready`);
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = (await response.json()) as { detail: string; health: { catchingUp: Record<string, number> } };
    expect(body.detail).toContain('Catching up: access_intervals is 3401 event(s) behind the head found at start (position 41000).');
    expect(body.health.catchingUp).toEqual({ access_intervals: 3401 });
    server.ledger.health = async () => ({ ...(await health()), startHead: 41_000, catchingUp: {} });
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    await server.close();
  });
});
