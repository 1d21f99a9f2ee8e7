import { afterEach, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventStore } from '@access-ledger/event-store';
import { lookupKey, internKey, accessAt, viewAt, type FactStore } from '@access-ledger/access-model';
import { runLedger } from '../../../test/support/ledger-cli.js';
import { AccessProjection, ProjectionRunner } from '@access-ledger/projections';
import { Ledger } from '../src/index.js';

const dirs: string[] = [];
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ledger-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const system = { kind: 'system' } as const;
const owner = { kind: 'member', orgId: 'acme', userId: 'olivia' } as const;

async function orgWithOwner(ledger: Ledger) {
  const run = async (body: unknown) => {
    const outcome = await ledger.executeCommand('t1', body);
    if (outcome.kind !== 'appended') throw new Error(JSON.stringify(outcome));
    return outcome;
  };
  await run({
    type: 'CreateOrganization',
    actor: system,
    payload: { orgId: 'acme', name: 'Acme', dualSeat: false, provisioningMode: 'invite_only', usageBased: false },
  });
  await run({ type: 'AddMember', actor: system, payload: { orgId: 'acme', userId: 'olivia', email: 'olivia@acme.test', role: 'primary_owner' } });
  return run;
}

describe('Ledger', () => {
  test('commands append events that the access projection applies before the answer (read-your-writes)', async () => {
    const ledger = await Ledger.open({ dataDir: dataDir() });
    try {
      const run = await orgWithOwner(ledger);
      const added = await run({ type: 'AddMember', actor: owner, payload: { orgId: 'acme', userId: 'uma', email: 'uma@acme.test', role: 'user' } });
      expect(added.events).toEqual([{ id: expect.any(String), type: 'MemberAdded', position: expect.any(Number) }]);
      const access = await ledger.queries.memberAccess('t1', 'acme', 'uma', {});
      expect(access.builtInRole).toBe('user');
      expect(access.capabilities['chat']).toEqual({ granted: true });
    } finally {
      await ledger.close();
    }
  });

  test('R22, R62 — a refused command appends only AccessChangeDenied and changes no state (scenario 14)', async () => {
    const ledger = await Ledger.open({ dataDir: dataDir() });
    try {
      const run = await orgWithOwner(ledger);
      await run({ type: 'AddMember', actor: owner, payload: { orgId: 'acme', userId: 'adam', email: 'adam@acme.test', role: 'admin' } });
      const head = await ledger.store.headPosition();
      const outcome = await ledger.executeCommand('t1', {
        type: 'AddMember',
        actor: { kind: 'member', orgId: 'acme', userId: 'adam' },
        payload: { orgId: 'acme', userId: 'eve', email: 'eve@acme.test', role: 'owner' },
      });
      expect(outcome).toMatchObject({ kind: 'refused', rule: 'R22', events: [{ type: 'AccessChangeDenied' }] });
      expect(await ledger.store.headPosition()).toBe(head + 1);
      await expect(ledger.queries.memberAccess('t1', 'acme', 'eve', {})).rejects.toThrow(/member "eve" is not known in organization acme/);
    } finally {
      await ledger.close();
    }
  });

  test('a command key is stored with its events: the same key again, even after a reopen, answers the first answer and appends nothing', async () => {
    const dir = dataDir();
    let ledger = await Ledger.open({ dataDir: dir });
    const create = { type: 'CreateGroup', actor: system, idempotencyKey: 'k-1', payload: { groupId: 'g-1', name: 'G', source: 'manual' } };
    const refused = {
      type: 'CreateOrganization',
      actor: { kind: 'platform' },
      idempotencyKey: 'k-2',
      payload: { orgId: 'o-2', name: 'O', dualSeat: false, provisioningMode: 'invite_only', usageBased: false },
    };
    try {
      const first = await ledger.executeCommand('t1', create);
      const denied = await ledger.executeCommand('t1', refused);
      expect(first).toMatchObject({ kind: 'appended', events: [{ type: 'GroupCreated' }] });
      expect(denied).toMatchObject({ kind: 'refused', rule: 'R24', events: [{ type: 'AccessChangeDenied' }] });
      expect((await ledger.store.commandByKey('tenant-t1', 'k-1'))!.events[0]!.metadata['idempotencyKey']).toBe('k-1');
      await ledger.close();
      ledger = await Ledger.open({ dataDir: dir });
      const head = await ledger.store.headPosition();
      expect(await ledger.executeCommand('t1', create)).toEqual({ ...first, replayed: true });
      expect(await ledger.executeCommand('t1', refused)).toEqual({ ...denied, replayed: true });
      // Keys are per tenant.
      expect(await ledger.executeCommand('t2', create)).toMatchObject({ kind: 'appended' });
      expect(await ledger.store.headPosition()).toBe(head + 1);
    } finally {
      await ledger.close();
    }
  });

  test('R62 — an invariant violation appends nothing; a malformed body appends nothing and lists every field', async () => {
    const ledger = await Ledger.open({ dataDir: dataDir() });
    try {
      await orgWithOwner(ledger);
      const head = await ledger.store.headPosition();
      const violation = await ledger.executeCommand('t1', {
        type: 'ChangeMemberRole',
        actor: owner,
        payload: { orgId: 'acme', userId: 'ghost', role: 'user' },
      });
      expect(violation).toMatchObject({ kind: 'violation', rule: 'R62' });
      const invalid = await ledger.executeCommand('t1', {
        type: 'AddMember',
        actor: owner,
        payload: { orgId: 'acme', userId: 'bad id!', email: 'nope', role: 'king' },
      });
      expect(invalid.kind).toBe('invalid');
      expect(invalid.kind === 'invalid' && invalid.errors.map((e) => e.path).sort()).toEqual(['payload.email', 'payload.role', 'payload.userId']);
      expect(await ledger.store.headPosition()).toBe(head);
    } finally {
      await ledger.close();
    }
  });

  test('an explicit expected revision that is stale is a conflict, and nothing is appended', async () => {
    const ledger = await Ledger.open({ dataDir: dataDir() });
    try {
      await orgWithOwner(ledger);
      const body = (userId: string) => ({ type: 'AddMember', actor: owner, payload: { orgId: 'acme', userId, email: `${userId}@acme.test`, role: 'user' } });
      const [a, b] = await Promise.all([
        ledger.executeCommand('t1', body('a'), { expectedRevision: 1 }),
        ledger.executeCommand('t1', body('b'), { expectedRevision: 1 }),
      ]);
      expect([a.kind, b.kind].sort()).toEqual(['appended', 'conflict']);
    } finally {
      await ledger.close();
    }
  });

  test('imports: all-or-nothing per batch with errors by line, idempotent by id, late facts answer as of occurredAt (R61)', async () => {
    const ledger = await Ledger.open({ dataDir: dataDir() });
    try {
      await orgWithOwner(ledger);
      const line = (id: string, type: string, occurredAt: string, data: object) =>
        JSON.stringify({ id, type, occurredAt, actor: { kind: 'import' }, source: 'console_import', data });
      const good = [
        line('imp-1', 'GroupCreated', '2020-01-01T00:00:00.000Z', { groupId: 'g1', name: 'G1', source: 'manual' }),
        line('imp-2', 'MemberAdded', '2020-01-01T00:00:01.000Z', { orgId: 'acme', userId: 'carl', email: 'carl@acme.test', role: 'user' }),
      ].join('\n');
      const bad = [good, line('imp-3', 'UserAddedToGroup', '2020-01-01T00:00:02.000Z', { groupId: 'nope', userId: 'carl' }), '{not json'].join('\n');
      const head = await ledger.store.headPosition();
      const refused = await ledger.importEvents('t1', bad);
      expect(refused).toMatchObject({ kind: 'invalid', errors: [{ path: 'line 4' }] });
      const unknownRef = await ledger.importEvents(
        't1',
        [good, line('imp-3', 'UserAddedToGroup', '2020-01-01T00:00:02.000Z', { groupId: 'nope', userId: 'carl' })].join('\n'),
      );
      expect(unknownRef).toMatchObject({ kind: 'unknown-reference', errors: [{ path: 'line 3' }] });
      expect(await ledger.store.headPosition()).toBe(head);
      expect(await ledger.importEvents('t1', good)).toEqual({ kind: 'imported', appended: 2, skipped: 0 });
      expect(await ledger.importEvents('t1', good)).toEqual({ kind: 'imported', appended: 0, skipped: 2 });
      const then = await ledger.queries.memberAccess('t1', 'acme', 'carl', { at: Date.parse('2020-06-01T00:00:00.000Z') });
      expect(then.builtInRole).toBe('user');
    } finally {
      await ledger.close();
    }
  });

  test('importLines: objects held to what an NDJSON line is held to; batches written in call order; facts folded as the store folds them', async () => {
    const ledger = await Ledger.open({ dataDir: dataDir() });
    try {
      await orgWithOwner(ledger);
      const line = (id: string, type: string, occurredAt: string, data: Record<string, unknown>) => ({
        id,
        type,
        occurredAt,
        actor: { kind: 'import' },
        source: 'console_import',
        data,
      });
      const head = await ledger.store.headPosition();
      const member = (id: string, userId: string, role: string) =>
        line(id, 'MemberAdded', '2020-01-01T00:00:01.000Z', { orgId: 'acme', userId, email: `${userId}@acme.test`, role });
      // The same errors, at the same line numbers, as the text path gives.
      const invalid = await ledger.importLines('t1', [
        member('il-1', 'ada', 'user'),
        member('il-2', 'bob', 'emperor'),
        JSON.parse(
          '{"id":"il-3","type":"GroupCreated","occurredAt":"2020-01-01T00:00:00.000Z","actor":{"kind":"import"},"source":"console_import","data":{"groupId":"g","name":"G","source":"manual","__proto__":{"x":1}}}',
        ),
        member('il-4', 'x'.repeat(300_000), 'user'),
      ]);
      expect(invalid).toMatchObject({
        kind: 'invalid',
        errors: [
          { path: 'line 2: data.role' },
          { path: 'line 3: __proto__' },
          { path: 'line 4', message: expect.stringMatching(/bytes; one event may have at most/) },
        ],
      });
      expect(await ledger.store.headPosition()).toBe(head);
      const asText = await ledger.importEvents(
        't1',
        [member('il-1', 'ada', 'user'), member('il-2', 'bob', 'emperor')].map((l) => JSON.stringify(l)).join('\n'),
      );
      expect(invalid.kind === 'invalid' && invalid.errors[0]).toEqual(asText.kind === 'invalid' && asText.errors[0]);

      // A large batch then a small one referring to what the large one creates, handed over without waiting: the
      // small one's lines are checked first, yet it is written second.
      const groups = Array.from({ length: 3000 }, (_, i) =>
        line(`il-g${i}`, 'GroupCreated', '2020-01-01T00:00:00.000Z', { groupId: `g${i}`, name: `G${i}`, source: 'manual' }),
      );
      const large = ledger.importLines('t1', groups);
      const small = ledger.importLines('t1', [
        member('il-m', 'carl', 'user'),
        line('il-j', 'UserAddedToGroup', '2020-01-01T00:00:02.000Z', { groupId: 'g2999', userId: 'carl' }),
      ]);
      expect(await large).toEqual({ kind: 'imported', appended: 3000, skipped: 0 });
      expect(await small).toEqual({ kind: 'imported', appended: 2, skipped: 0 });
      expect(await ledger.importLines('t1', groups.slice(0, 10))).toEqual({ kind: 'imported', appended: 0, skipped: 10 });

      // Folded by the writer before the answer; the same facts as a projection folding the store from the start.
      const fresh = new AccessProjection();
      await new ProjectionRunner(ledger.store, fresh).catchUp();
      for (const at of [Date.parse('2020-01-01T00:00:01.500Z'), Number.POSITIVE_INFINITY]) {
        const answer = (facts: FactStore) => JSON.parse(JSON.stringify(accessAt(facts, viewAt(at), 'acme', 'carl'))) as unknown;
        expect(answer(ledger.projection.factsOf('t1'))).toEqual(answer(fresh.factsOf('t1')));
      }
      expect([...ledger.projection.factsOf('t1').items(lookupKey.usersOfGroup('g2999'), viewAt(Number.POSITIVE_INFINITY))]).toEqual(['carl']);
    } finally {
      await ledger.close();
    }
  });

  test('restart mid-stream: the projection resumes from its snapshot and neither loses nor duplicates an event', async () => {
    const dir = dataDir();
    let ledger = await Ledger.open({ dataDir: dir });
    const run = await orgWithOwner(ledger);
    for (let i = 0; i < 20; i++) await run({ type: 'CreateGroup', actor: system, payload: { groupId: `g${i}`, name: `G${i}`, source: 'manual' } });
    await ledger.runner.checkpointNow(); // a snapshot mid-stream …
    for (let i = 0; i < 20; i++) await run({ type: 'AddUserToGroup', actor: system, payload: { groupId: `g${i}`, userId: 'olivia' } });
    // … then a crash: no snapshot of the last 20 events. Close the store only (no final checkpoint).
    await ledger.store.close();
    ledger = await Ledger.open({ dataDir: dir });
    try {
      await ledger.runner.catchUp();
      const tenant = ledger.projection.tenant('t1')!;
      expect(tenant.events).toBe(42);
      expect(tenant.revision).toBe(41);
      expect(ledger.projection.position).toBe(await ledger.store.headPosition());
      const { intervals } = await ledger.queries.timeline('t1', 'acme', 'olivia', {});
      expect(intervals.filter((i) => i.permission === 'role')).toHaveLength(1);
    } finally {
      await ledger.close();
    }
  });

  test('a snapshot written by another process (its own fact-key numbering) answers like a fresh fold', async () => {
    // Names this process knows and the other does not, so that the two number the same names differently.
    for (let i = 0; i < 50; i++) internKey.memberRole(`elsewhere-${i}`, `someone-${i}`);
    const dir = dataDir();
    let ledger = await Ledger.open({ dataDir: dir });
    const run = await orgWithOwner(ledger);
    for (let i = 0; i < 6; i++) {
      await run({ type: 'CreateGroup', actor: system, payload: { groupId: `g${i}`, name: `G${i}`, source: 'manual' } });
      await run({ type: 'AddMember', actor: owner, payload: { orgId: 'acme', userId: `u${i}`, email: `u${i}@acme.test`, role: i % 2 ? 'custom' : 'user' } });
      await run({ type: 'AddUserToGroup', actor: system, payload: { groupId: `g${i}`, userId: `u${i}` } });
    }
    await ledger.close();
    // Another process rebuilds the projection and writes the snapshot, numbering fact keys its own way (without this
    // process's snapshot, which it would load first and so take this process's numbering).
    rmSync(join(dir, 'projections', 'access.snapshot'));
    const rebuilt = await runLedger(dir, ['rebuild']);
    expect(rebuilt.status).toBe(0);
    ledger = await Ledger.open({ dataDir: dir });
    try {
      // Loaded from that snapshot: nothing left to fold.
      expect(ledger.projection.position).toBe(await ledger.store.headPosition());
      const fresh = new AccessProjection();
      await new ProjectionRunner(ledger.store, fresh).catchUp();
      for (const userId of ['olivia', 'u0', 'u1', 'u5']) {
        const view = viewAt(Number.POSITIVE_INFINITY);
        // As the API serializes them (explanation links resolve to their events).
        const answer = (facts: FactStore) => JSON.parse(JSON.stringify(accessAt(facts, view, 'acme', userId))) as unknown;
        expect(answer(ledger.projection.factsOf('t1'))).toEqual(answer(fresh.factsOf('t1')));
      }
      expect([...ledger.projection.factsOf('t1').items(lookupKey.usersOfGroup('g3'), viewAt(Number.POSITIVE_INFINITY))]).toEqual(['u3']);
    } finally {
      await ledger.close();
    }
  });
});

describe('integrity', () => {
  test('requests that arrive while a chain walk runs share it; a later one walks the chain again (an old row edited since must show)', async () => {
    const dir = dataDir();
    const { SqliteEventStore } = await import('@access-ledger/event-store');
    const inner = SqliteEventStore.open(join(dir, 'events.sqlite'));
    let walks = 0;
    const store = new Proxy(inner, {
      get(target, key) {
        if (key === 'verifyChain')
          return (...a: Parameters<EventStore['verifyChain']>) => {
            walks++;
            return target.verifyChain(...a);
          };
        const value = Reflect.get(target, key, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as EventStore;
    const ledger = await Ledger.on(store, { dataDir: dir });
    try {
      await orgWithOwner(ledger);
      const answers = await Promise.all([ledger.integrity('t1'), ledger.integrity('t1'), ledger.integrity('t1')]);
      expect(walks).toBe(1);
      for (const a of answers) expect(a).toEqual({ events: 2, head: expect.stringMatching(/^[0-9a-f]{64}$/), valid: true });
      await Promise.all([ledger.integrity('t1'), ledger.integrity('other')]);
      expect(walks).toBe(3);
    } finally {
      await ledger.close();
    }
  });
});

describe('group commit', () => {
  test('concurrent commands, later ones depending on earlier ones of the same batch, end as if run one by one', async () => {
    const ledger = await Ledger.open({ dataDir: dataDir() });
    try {
      await orgWithOwner(ledger);
      const outcomes = await Promise.all(
        Array.from({ length: 60 }, (_, i) => [
          ledger.executeCommand('t1', { type: 'CreateGroup', actor: system, payload: { groupId: `g${i}`, name: `G${i}`, source: 'manual' } }),
          ledger.executeCommand('t1', { type: 'AddUserToGroup', actor: system, payload: { groupId: `g${i}`, userId: 'olivia' } }),
          // a duplicate of the first: violates R62 because the same batch created the group just before
          ledger.executeCommand('t1', { type: 'CreateGroup', actor: system, payload: { groupId: `g${i}`, name: `again`, source: 'manual' } }),
        ]).flat(),
      );
      expect(outcomes.filter((o) => o.kind === 'appended')).toHaveLength(120);
      expect(outcomes.filter((o) => o.kind === 'violation')).toHaveLength(60);
      const positions = outcomes.flatMap((o) => (o.kind === 'appended' ? o.events.map((e) => e.position) : []));
      expect(new Set(positions).size).toBe(120);
      expect(ledger.projection.tenant('t1')!.events).toBe(122);
      // What the speculative fold produced equals a fresh fold of what was stored.
      await ledger.rebuild();
      expect(ledger.projection.tenant('t1')!.events).toBe(122);
      const tl = await ledger.queries.timeline('t1', 'acme', 'olivia', {});
      expect(tl.intervals.length).toBeGreaterThan(0);
    } finally {
      await ledger.close();
    }
  });

  test('when another writer appends first, the provisional events vanish and the commands are decided again', async () => {
    const dir = dataDir();
    const { SqliteEventStore, tenantStream } = await import('@access-ledger/event-store');
    const inner = SqliteEventStore.open(join(dir, 'events.sqlite'));
    let interfere = false;
    // The real store, with a second writer slipping in just before the ledger's append, once.
    const store: EventStore = {
      readStream: (...a) => inner.readStream(...a),
      readAll: (...a) => inner.readAll(...a),
      readAllPages: (...a) => inner.readAllPages(...a),
      subscribeToAll: (...a) => inner.subscribeToAll(...a),
      knownIds: (...a) => inner.knownIds(...a),
      eventById: (...a) => inner.eventById(...a),
      streamRevision: (...a) => inner.streamRevision(...a),
      headPosition: () => inner.headPosition(),
      streamIds: () => inner.streamIds(),
      verifyChain: (...a) => inner.verifyChain(...a),
      commandByKey: (...a) => inner.commandByKey(...a),
      ping: () => inner.ping(),
      close: () => inner.close(),
      append: async (streamId, events, options) => {
        if (interfere) {
          interfere = false;
          const revision = (await inner.streamRevision(streamId)) ?? -1;
          await inner.append(
            streamId,
            [
              {
                id: 'foreign-1',
                type: 'GroupCreated',
                data: { groupId: 'foreign', name: 'Foreign', source: 'manual' },
                metadata: {
                  tenantId: 't1',
                  occurredAt: new Date().toISOString(),
                  recordedAt: new Date().toISOString(),
                  actor: { kind: 'system' },
                  source: 'api',
                  schemaVersion: 1,
                },
              },
            ],
            { expectedRevision: revision },
          );
        }
        return inner.append(streamId, events, options);
      },
    };
    const ledger = await Ledger.on(store, { dataDir: dir });
    try {
      await orgWithOwner(ledger);
      interfere = true;
      // The foreign writer creates group `foreign` first, so this CreateGroup must now be a violation (R62).
      const outcome = await ledger.executeCommand('t1', {
        type: 'CreateGroup',
        actor: system,
        payload: { groupId: 'foreign', name: 'Mine', source: 'manual' },
      });
      expect(outcome).toMatchObject({ kind: 'violation', rule: 'R62' });
      const added = await ledger.executeCommand('t1', { type: 'AddUserToGroup', actor: system, payload: { groupId: 'foreign', userId: 'olivia' } });
      expect(added.kind).toBe('appended');
      expect(ledger.projection.tenant('t1')!.events).toBe(4);
      expect(await inner.streamRevision(tenantStream('t1'))).toBe(3);
    } finally {
      await ledger.close();
    }
  });

  test('a command without If-Match is decided again as long as another writer wins (no conflict), then 503; one with If-Match gets its conflict', async () => {
    const dir = dataDir();
    const { SqliteEventStore, tenantStream } = await import('@access-ledger/event-store');
    const { WriteContentionError } = await import('../src/index.js');
    const inner = SqliteEventStore.open(join(dir, 'events.sqlite'));
    let interferences = 0;
    let foreign = 0;
    // A second writer that gets in before each of the ledger's next `interferences` appends.
    const append: EventStore['append'] = async (streamId, events, options) => {
      if (interferences > 0) {
        interferences--;
        const now = new Date().toISOString();
        await inner.append(streamId, [
          {
            id: `foreign-${++foreign}`,
            type: 'GroupCreated',
            data: { groupId: `foreign-${foreign}`, name: 'Foreign', source: 'manual' },
            metadata: { tenantId: 't1', occurredAt: now, recordedAt: now, actor: { kind: 'system' }, source: 'api', schemaVersion: 1 },
          },
        ]);
      }
      return inner.append(streamId, events, options);
    };
    const store = new Proxy(inner, {
      get: (target, name) => {
        if (name === 'append') return append;
        const value: unknown = Reflect.get(target, name, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as EventStore;
    const ledger = await Ledger.on(store, { dataDir: dir, contentionLimitMs: 500 });
    const group = (groupId: string) => ({ type: 'CreateGroup', actor: system, payload: { groupId, name: groupId, source: 'manual' } });
    try {
      await orgWithOwner(ledger);
      interferences = 12; // more than the 5 retries that used to end in 409
      expect(await ledger.executeCommand('t1', group('mine'))).toMatchObject({ kind: 'appended' });
      expect(interferences).toBe(0);

      const revision = (await inner.streamRevision(tenantStream('t1')))!;
      interferences = 1;
      expect(await ledger.executeCommand('t1', group('checked'), { expectedRevision: revision })).toMatchObject({ kind: 'conflict' });

      interferences = Number.POSITIVE_INFINITY;
      await expect(ledger.executeCommand('t1', group('starved'))).rejects.toBeInstanceOf(WriteContentionError);
    } finally {
      interferences = 0;
      await ledger.close();
    }
  });
});
