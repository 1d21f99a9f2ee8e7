import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { ClickHouseClient } from '@clickhouse/client';
import { accessAt, viewAt, type LedgerEvent } from '@access-ledger/access-model';
import {
  AccessChangesQuery,
  type AccessIntervalChange,
  AccessIntervalWriter,
  AccessReviewQuery,
  PermissionHoldersQuery,
  PrivilegedAccessQuery,
  SodViolationsQuery,
  accessChanges,
  accessReview,
  permissionHolders,
  privilegedAccess,
  roleSets,
  sodViolations,
} from '@access-ledger/read-model';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessIntervalProjection, TenantIntervals, intervalChangesOfHistory, intervalPermissionsOf } from '../src/access-intervals.js';
import { AccessProjection, foldedFactsOf } from '../src/access-projection.js';
import {
  deliveredLate,
  effectiveRows,
  event,
  generatedHistory,
  heldAt,
  intervalRows,
  lateEventsOf,
  liveSourceOf,
  openDb,
  recorded,
  sourceOf,
  tombstones,
  withoutTenant,
  type IntervalRow,
} from './access-intervals-fixture.js';

const OPEN = '2299-12-31T23:59:59.999Z';
let db: { client: ClickHouseClient; close(): Promise<void> };

beforeAll(async () => {
  db = await openDb();
});
afterAll(async () => db?.close());

/** A small organization: an owner, a user, two custom members, a group whose role grants claude_code. */
function acme(tenantId: string): LedgerEvent[] {
  let p = 0;
  const e = (type: Parameters<typeof event>[1], at: string, data: Record<string, unknown>) => event(++p, type, `2026-${at}T00:00:00.000Z`, data, tenantId);
  const orgId = 'acme';
  return [
    e('OrganizationCreated', '01-01', { orgId, name: 'Acme', dualSeat: false, usageBased: false, provisioningMode: 'invite_only' }), // ev-1
    e('MemberAdded', '01-02', { orgId, userId: 'u-owner', email: 'o@acme.test', role: 'owner' }), // ev-2
    e('MemberAdded', '01-02', { orgId, userId: 'u-user', email: 'u@acme.test', role: 'user' }), // ev-3
    e('MemberAdded', '01-03', { orgId, userId: 'u-custom', email: 'c@acme.test', role: 'custom' }), // ev-4
    e('MemberAdded', '01-03', { orgId, userId: 'u-late', email: 'l@acme.test', role: 'custom' }), // ev-5
    e('GroupCreated', '01-03', { groupId: 'g-eng', name: 'Eng', source: 'manual' }), // ev-6
    e('RoleCreated', '01-04', { orgId, roleId: 'r-cc', name: 'Claude Code' }), // ev-7 (R7: chat)
    e('RoleCapabilitySet', '01-04', { orgId, roleId: 'r-cc', capability: 'claude_code', granted: true }), // ev-8
    e('RoleAssignedToGroup', '01-05', { orgId, groupId: 'g-eng', roleId: 'r-cc' }), // ev-9
    e('UserAddedToGroup', '01-06', { groupId: 'g-eng', userId: 'u-custom' }), // ev-10
    e('OrganizationCapabilitySet', '02-01', { orgId, capability: 'claude_code', enabled: false }), // ev-11
    e('UserRemovedFromGroup', '03-01', { groupId: 'g-eng', userId: 'u-custom' }), // ev-12
    e('ConsoleRoleSet', '03-02', { orgId, userId: 'u-user', role: 'admin' }), // ev-13
  ];
}

const of = (rows: IntervalRow[], userId: string, permission: string) => rows.filter((r) => r.user_id === userId && r.permission === permission);
const d = (day: string) => `2026-${day}T00:00:00.000Z`;

async function project(tenantId: string, events: LedgerEvent[], options: { maxBatchEvents?: number } = {}): Promise<IntervalRow[]> {
  const projection = new AccessIntervalProjection({ client: db.client, source: sourceOf(events), name: `ai-${tenantId}`, ...options });
  await projection.run();
  return intervalRows(db.client, tenantId);
}

/** The rebuild path (every event in (occurredAt, position) order over the whole history): the exact table. */
async function rebuilt(tenantId: string, events: LedgerEvent[]): Promise<IntervalRow[]> {
  const t = new TenantIntervals(tenantId);
  for (const e of events) t.fold(e);
  await new AccessIntervalWriter(db.client).write(intervalChangesOfHistory(tenantId, t.facts, events));
  return intervalRows(db.client, tenantId);
}

/** A late event (R61): position 14, after everything acme() stored, with an earlier occurredAt. */
const lateEvent = (tenantId: string, type: Parameters<typeof event>[1], day: string, data: Record<string, unknown>) =>
  event(14, type, `2026-${day}T00:00:00.000Z`, data, tenantId);

describe('access intervals, family by family', () => {
  test('R2: switching claude_code off closes capability:claude_code for every holder at that instant, closed by that event, and nothing else', async () => {
    await project('r2', acme('r2'));
    // Full members follow the organization's capability profile: their capabilities are derived as the reports read them.
    const rows = await effectiveRows(db.client, 'r2', 'acme');
    expect(of(rows, 'u-owner', 'capability:claude_code')).toEqual([
      expect.objectContaining({ level: 'granted', valid_from: d('01-02'), valid_to: d('02-01'), opened_by: 'ev-2', closed_by: 'ev-11' }),
    ]);
    expect(of(rows, 'u-user', 'capability:claude_code')).toEqual([
      expect.objectContaining({ valid_from: d('01-02'), valid_to: d('02-01'), opened_by: 'ev-3', closed_by: 'ev-11' }),
    ]);
    // R5: the custom member had it through the group's role, from joining the group.
    expect(of(rows, 'u-custom', 'capability:claude_code')).toEqual([
      expect.objectContaining({ valid_from: d('01-06'), valid_to: d('02-01'), opened_by: 'ev-10', closed_by: 'ev-11' }),
    ]);
    // R6: the custom member in no group never had it.
    expect(of(rows, 'u-late', 'capability:claude_code')).toEqual([]);
    expect(rows.filter((r) => r.closed_by === 'ev-11').map((r) => r.permission)).toEqual([
      'capability:claude_code',
      'capability:claude_code',
      'capability:claude_code',
    ]);
  });

  test('R5, R30: leaving the group closes the custom member’s role-derived permissions, not their built-in role', async () => {
    const rows = await project('leave', acme('leave'));
    expect(of(rows, 'u-custom', 'capability:chat')).toEqual([
      expect.objectContaining({ valid_from: d('01-06'), valid_to: d('03-01'), opened_by: 'ev-10', closed_by: 'ev-12' }),
    ]);
    expect(of(rows, 'u-custom', 'role:custom')).toEqual([
      expect.objectContaining({ level: 'custom', valid_from: d('01-03'), valid_to: OPEN, opened_by: 'ev-4', closed_by: '' }),
    ]);
    expect(rows.filter((r) => r.closed_by === 'ev-12').every((r) => r.user_id === 'u-custom')).toBe(true);
  });

  test('permissions carry the names and levels the reports match: role:owner, admin:<area>=manage, console:admin (R21, R50)', async () => {
    const rows = await project('names', acme('names'));
    expect(of(rows, 'u-owner', 'role:owner')).toEqual([expect.objectContaining({ level: 'owner', opened_by: 'ev-2', valid_to: OPEN })]);
    expect(of(rows, 'u-owner', 'admin:billing')).toEqual([expect.objectContaining({ level: 'manage' })]);
    expect(of(rows, 'u-user', 'console:admin')).toEqual([expect.objectContaining({ level: 'admin', valid_from: d('03-02'), opened_by: 'ev-13' })]);
    const buckets = await privilegedAccess(db.client, 'names', 'acme', PrivilegedAccessQuery.parse({ from: d('03-01'), to: d('04-01'), bucket: 'month' }));
    expect(buckets.filter((b) => b.permission === 'role:owner' || b.permission === 'console:admin').map((b) => [b.permission, b.userIds])).toEqual([
      ['console:admin', ['u-user']],
      ['role:owner', ['u-owner']],
    ]);
    // An owner manages billing and identity access at once: the default SoD pair reports it.
    const sod = await sodViolations(db.client, 'names', 'acme', SodViolationsQuery.parse({ from: d('01-01'), to: d('04-01') }));
    expect(sod.map((v) => v.userId)).toContain('u-owner');
  });

  test('start() / catchUp() / lag() / stop() on a live subscription: the batch timer writes the partial batch, no lag remains', async () => {
    const events = acme('live');
    // A live subscription never ends: only the batch timer can write the last partial batch.
    const projection = new AccessIntervalProjection({
      client: db.client,
      source: liveSourceOf(events),
      name: 'ai-live',
      headPosition: async () => events.length,
      maxBatchEvents: 1000,
      maxBatchDelayMs: 10,
    });
    const errors: unknown[] = [];
    projection.start((e) => errors.push(e));
    await projection.catchUp(10_000);
    expect(await projection.lag()).toBe(0);
    expect(projection.metrics).toEqual(expect.objectContaining({ checkpoint: events.length, eventsProjected: events.length, lateEvents: 0 }));
    await projection.stop();
    expect(errors).toEqual([]);
    expect((await intervalRows(db.client, 'live')).length).toBeGreaterThan(20);
  });
});

describe('R61: late events, projected live, exact at every instant', () => {
  test('a late group join: the custom member holds the role’s permissions from the join’s own instant, not from the frontier', async () => {
    const join = (t: string) => lateEvent(t, 'UserAddedToGroup', '02-15', { groupId: 'g-eng', userId: 'u-late' });
    const rows = await project('late-join', [...acme('late-join'), join('late-join')]);
    expect(of(rows, 'u-late', 'capability:chat')).toEqual([
      expect.objectContaining({ level: 'granted', valid_from: d('02-15'), valid_to: OPEN, opened_by: 'ev-14', closed_by: '' }),
    ]);
    // claude_code was already switched off for the organization on 02-01 (R2): the late join cannot grant it.
    expect(of(rows, 'u-late', 'capability:claude_code')).toEqual([]);
    expect(rows).toEqual(await rebuilt('late-join-exact', [...acme('late-join-exact'), join('late-join-exact')]));
  });

  test('a late removal from the group (R5, R30): the role-derived intervals end at the removal, the later closes that no longer happen are gone', async () => {
    const leave = (t: string) => lateEvent(t, 'UserRemovedFromGroup', '01-20', { groupId: 'g-eng', userId: 'u-custom' });
    const rows = await project('late-leave', [...acme('late-leave'), leave('late-leave')]);
    expect(of(rows, 'u-custom', 'capability:claude_code')).toEqual([
      expect.objectContaining({ valid_from: d('01-06'), valid_to: d('01-20'), opened_by: 'ev-10', closed_by: 'ev-14' }),
    ]);
    expect(of(rows, 'u-custom', 'capability:chat')).toEqual([
      expect.objectContaining({ valid_from: d('01-06'), valid_to: d('01-20'), opened_by: 'ev-10', closed_by: 'ev-14' }),
    ]);
    expect(of(rows, 'u-custom', 'role:custom')).toEqual([expect.objectContaining({ valid_from: d('01-03'), valid_to: OPEN, opened_by: 'ev-4' })]);
    // The organization toggle (ev-11) closes only the full members' claude_code now; the removal of 03-01 (ev-12) closes nothing.
    const effective = await effectiveRows(db.client, 'late-leave', 'acme');
    expect(effective.filter((r) => r.closed_by === 'ev-11').map((r) => r.user_id)).toEqual(['u-owner', 'u-user']);
    expect(rows.filter((r) => r.closed_by === 'ev-12')).toEqual([]);
    expect(rows).toEqual(await rebuilt('late-leave-exact', [...acme('late-leave-exact'), leave('late-leave-exact')]));
    // Between the late removal and the frontier the reports say what the evaluator says.
    const review = await accessReview(db.client, 'late-leave', 'acme', AccessReviewQuery.parse({ at: d('01-25'), userId: 'u-custom' }));
    expect(review[0]!.permissions.map((p) => p.permission)).toEqual(['role:custom']);
  });

  test('a late join before an earlier-stored one: the intervals the stored join opened disappear (tombstones), the reports no longer show them', async () => {
    const early = (t: string) => event(14, 'UserAddedToGroup', '2026-01-04T12:00:00.000Z', { groupId: 'g-eng', userId: 'u-custom' }, t);
    const rows = await project('late-early', [...acme('late-early'), early('late-early')]);
    // In the group before the role was assigned to it: the role's permissions start with the assignment (ev-9).
    expect(of(rows, 'u-custom', 'capability:chat')).toEqual([
      expect.objectContaining({ valid_from: d('01-05'), valid_to: d('03-01'), opened_by: 'ev-9', closed_by: 'ev-12' }),
    ]);
    expect(rows.filter((r) => r.opened_by === 'ev-10')).toEqual([]);
    expect(await tombstones(db.client, 'late-early')).toBeGreaterThan(0);
    expect(rows).toEqual(await rebuilt('late-early-exact', [...acme('late-early-exact'), early('late-early-exact')]));
    const changes = await accessChanges(
      db.client,
      'late-early',
      'acme',
      AccessChangesQuery.parse({ from: d('01-01'), to: d('02-01'), userId: 'u-custom', permissionPrefix: 'capability:chat' }),
    );
    expect(changes).toEqual([expect.objectContaining({ at: d('01-05'), change: 'gained', eventId: 'ev-9' })]);
    const holders = await permissionHolders(
      db.client,
      'late-early',
      'acme',
      PermissionHoldersQuery.parse({ from: d('01-01'), to: d('04-01'), permission: 'capability:chat' }),
    );
    expect(holders.find((h) => h.userId === 'u-custom')!.intervals).toEqual([expect.objectContaining({ validFrom: d('01-05'), openedBy: 'ev-9' })]);
  });

  test('a late event at an instant stored events share: what they opened and closed then stays theirs, also when a crash replays the rewrite', async () => {
    const history = (t: string) => {
      const e = (position: number, type: Parameters<typeof event>[1], day: string, data: Record<string, unknown>) => event(position, type, d(day), data, t);
      return [
        e(1, 'OrganizationCreated', '01-01', { orgId: 'acme', name: 'Acme', dualSeat: false, usageBased: false, provisioningMode: 'invite_only' }),
        e(2, 'MemberAdded', '01-02', { orgId: 'acme', userId: 'u-a', email: 'a@acme.test', role: 'owner' }),
        // Three events at 01-03: u-b's first intervals open and close at once (empty), then open again.
        e(3, 'MemberAdded', '01-03', { orgId: 'acme', userId: 'u-b', email: 'b@acme.test', role: 'custom' }),
        e(4, 'MemberSuspended', '01-03', { orgId: 'acme', userId: 'u-b' }),
        e(5, 'MemberReactivated', '01-03', { orgId: 'acme', userId: 'u-b' }),
        e(6, 'MemberAdded', '02-01', { orgId: 'acme', userId: 'u-c', email: 'c@acme.test', role: 'user' }),
        // Late, and at 01-03 too: after the three above in (occurredAt, position) order.
        e(7, 'MemberRoleChanged', '01-03', { orgId: 'acme', userId: 'u-b', role: 'user' }),
      ];
    };
    const crashing = new AccessIntervalProjection({
      client: db.client,
      source: sourceOf(history('same')),
      name: 'ai-same',
      afterInsert: (b) => {
        if (b.last === 7) throw new Error('crash after insert, before checkpoint');
      },
    });
    await expect(crashing.run()).rejects.toThrow('crash after insert');
    // The restart (same projection name) replays the late event over the table its rewrite already changed.
    const rows = await project('same', history('same'));
    expect(of(rows, 'u-b', 'role:custom')).toEqual([
      expect.objectContaining({ valid_from: d('01-03'), valid_to: d('01-03'), opened_by: 'ev-3', closed_by: 'ev-4' }),
      expect.objectContaining({ valid_from: d('01-03'), valid_to: d('01-03'), opened_by: 'ev-5', closed_by: 'ev-7' }),
    ]);
    expect(of(rows, 'u-b', 'role:user')).toEqual([expect.objectContaining({ valid_from: d('01-03'), valid_to: OPEN, opened_by: 'ev-7' })]);
    expect(rows).toEqual(await rebuilt('same-exact', history('same-exact')));
  });

  test('a late organization toggle (R2): only capability:claude_code is rewritten, for every member, from its instant', async () => {
    const off = (t: string) => lateEvent(t, 'OrganizationCapabilitySet', '01-20', { orgId: 'acme', capability: 'claude_code', enabled: false });
    const inOrder = await project('late-off-base', acme('late-off-base'));
    const rows = await project('late-off', [...acme('late-off'), off('late-off')]);
    const claude = (r: IntervalRow) => r.permission === 'capability:claude_code';
    const effective = await effectiveRows(db.client, 'late-off', 'acme');
    expect(effective.filter(claude).map((r) => [r.user_id, r.valid_from, r.valid_to, r.closed_by])).toEqual([
      ['u-custom', d('01-06'), d('01-20'), 'ev-14'],
      ['u-owner', d('01-02'), d('01-20'), 'ev-14'],
      ['u-user', d('01-02'), d('01-20'), 'ev-14'],
    ]);
    expect(rows.filter((r) => !claude(r))).toEqual(inOrder.filter((r) => !claude(r)));
    expect(rows).toEqual(await rebuilt('late-off-exact', [...acme('late-off-exact'), off('late-off-exact')]));
  });
});

describe('starting from the access snapshot’s facts', () => {
  const snapshotDir = mkdtempSync(join(tmpdir(), 'ai-snapshot-'));
  afterAll(() => rmSync(snapshotDir, { recursive: true, force: true }));

  /** The access projection's snapshot after the events up to `through`, as the server leaves it. */
  async function accessSnapshot(events: readonly LedgerEvent[], through: number, path: string): Promise<void> {
    const access = new AccessProjection();
    for (const e of events) if (e.position <= through) access.apply(recorded(e));
    expect(await access.saveSnapshot(path)).toBe(true);
  }

  test('a restart folds only the events after the snapshot, and ends in the table of an uninterrupted run — late events (R61) included', async () => {
    const history = (tenantId: string) => deliveredLate(generatedHistory(tenantId, 3, 4), 30, 3);
    const clean = history('fclean');
    await new AccessIntervalProjection({ client: db.client, source: sourceOf(clean.events), name: 'ai-fclean', maxBatchEvents: 250 }).run();
    const expected = withoutTenant(await intervalRows(db.client, 'fclean'), 'fclean');
    expect(expected.length).toBeGreaterThan(500);

    const events = history('fsnap').events;
    const half = events[Math.floor(events.length / 2)]!.position;
    const third = events[Math.floor(events.length / 3)]!.position;
    // First run: up to half the history (a server stopped there), then the access snapshot at a third of it.
    await new AccessIntervalProjection({
      client: db.client,
      source: sourceOf(events.filter((e) => e.position <= half)),
      name: 'ai-fsnap',
      maxBatchEvents: 250,
    }).run();
    const path = join(snapshotDir, 'fsnap.snapshot');
    await accessSnapshot(events, third, path);

    const asked: number[] = [];
    const source = sourceOf(events);
    const restarted = new AccessIntervalProjection({
      client: db.client,
      name: 'ai-fsnap',
      maxBatchEvents: 300,
      source: (after) => {
        asked.push(after);
        return source(after);
      },
      foldedFacts: () => foldedFactsOf(path),
    });
    await restarted.prepare();
    await restarted.run();
    expect(restarted.metrics.startedFrom).toBe(third);
    expect(asked).toEqual([third]);
    expect(withoutTenant(await intervalRows(db.client, 'fsnap'), 'fsnap')).toEqual(expected);

    // The first event after the facts is late: it is known to be late only from the facts' own latest instant.
    const lateOnes = history('flate').events;
    const late = lateEventsOf(lateOnes).find(({ event }) => event.position > half)!.event.position;
    await new AccessIntervalProjection({
      client: db.client,
      source: sourceOf(lateOnes.filter((e) => e.position < late)),
      name: 'ai-flate',
      maxBatchEvents: 250,
    }).run();
    const latePath = join(snapshotDir, 'flate.snapshot');
    await accessSnapshot(lateOnes, late - 1, latePath);
    const resumed = new AccessIntervalProjection({
      client: db.client,
      name: 'ai-flate',
      source: sourceOf(lateOnes),
      foldedFacts: () => foldedFactsOf(latePath),
    });
    await resumed.run();
    expect(resumed.metrics.startedFrom).toBe(late - 1);
    expect(resumed.metrics.lateEvents).toBeGreaterThan(0);
    expect(withoutTenant(await intervalRows(db.client, 'flate'), 'flate')).toEqual(expected);
  }, 60_000);

  test('facts that go past the checkpoint, or no snapshot at all: the whole store is folded again, as before', async () => {
    const events = acme('fahead');
    const four = events[3]!.position;
    await new AccessIntervalProjection({ client: db.client, source: sourceOf(events.slice(0, 4)), name: 'ai-fahead' }).run();
    const path = join(snapshotDir, 'fahead.snapshot');
    await accessSnapshot(events, four + 2, path);
    for (const foldedFacts of [() => foldedFactsOf(path), () => foldedFactsOf(join(snapshotDir, 'missing.snapshot'))]) {
      const asked: number[] = [];
      let loads = 0;
      const source = sourceOf(events);
      const projection = new AccessIntervalProjection({
        client: db.client,
        name: 'ai-fahead',
        source: (after) => {
          asked.push(after);
          return source(after);
        },
        foldedFacts: () => {
          loads++;
          return foldedFacts();
        },
      });
      await projection.prepare();
      await projection.run();
      expect(loads).toBe(1); // an unusable snapshot is not loaded a second time when the run starts
      expect(projection.metrics.startedFrom).toBe(-1);
      expect(asked).toEqual([-1]);
    }
    const expected = withoutTenant(await project('fahead-clean', acme('fahead-clean')), 'fahead-clean');
    expect(expected.length).toBeGreaterThan(10);
    expect(withoutTenant(await intervalRows(db.client, 'fahead'), 'fahead')).toEqual(expected);
  }, 60_000);
});

describe('exactly once', () => {
  const strip = (rows: IntervalRow[], tenantId: string) =>
    rows.map((r) => ({ ...r, opened_by: r.opened_by.replace(`${tenantId}-`, ''), closed_by: r.closed_by.replace(`${tenantId}-`, '') }));

  test('a crash between a batch’s insert and its checkpoint, then a restart with other batch sizes, ends in exactly the table of an uninterrupted run', async () => {
    const clean = generatedHistory('clean', 3, 0);
    await new AccessIntervalProjection({ client: db.client, source: sourceOf(clean.events), name: 'ai-clean', maxBatchEvents: 250 }).run();

    const crash = generatedHistory('crash', 3, 0);
    const crashAt = (n: number, batch: number) => {
      let inserts = 0;
      return new AccessIntervalProjection({
        client: db.client,
        source: sourceOf(crash.events),
        name: 'ai-crash',
        maxBatchEvents: batch,
        afterInsert: () => {
          if (++inserts === n) throw new Error('crash after insert, before checkpoint');
        },
      });
    };
    await expect(crashAt(2, 250).run()).rejects.toThrow('crash after insert');
    await expect(crashAt(3, 400).run()).rejects.toThrow('crash after insert');
    const resumed = new AccessIntervalProjection({ client: db.client, source: sourceOf(crash.events), name: 'ai-crash', maxBatchEvents: 300 });
    await resumed.run();
    expect(resumed.metrics.checkpoint).toBe(crash.events.at(-1)!.position);

    const expected = strip(await intervalRows(db.client, 'clean'), 'clean');
    expect(expected.length).toBeGreaterThan(500);
    expect(strip(await intervalRows(db.client, 'crash'), 'crash')).toEqual(expected);
  }, 60_000);

  test('R61: crashes after late events’ rewrites and in the batch after one, then a restart, end in the uninterrupted run’s table — the rebuild path’s', async () => {
    const history = (tenantId: string) => deliveredLate(generatedHistory(tenantId, 3, 4), 40, 3);
    const clean = history('lclean');
    await new AccessIntervalProjection({ client: db.client, source: sourceOf(clean.events), name: 'ai-lclean', maxBatchEvents: 250 }).run();
    const expected = withoutTenant(await intervalRows(db.client, 'lclean'), 'lclean');
    expect(expected.length).toBeGreaterThan(500);

    const crash = history('lcrash');
    const late = lateEventsOf(crash.events).map(({ event }) => event.position);
    expect(late.length).toBeGreaterThan(40);
    const crashWhen = (batch: number, when: (b: { first: number; last: number; rows: number }) => boolean) =>
      new AccessIntervalProjection({
        client: db.client,
        source: sourceOf(crash.events),
        name: 'ai-lcrash',
        maxBatchEvents: batch,
        afterInsert: (b) => {
          if (when(b)) throw new Error('crash after insert, before checkpoint');
        },
      });
    // A batch's late events are rewritten together at its end: crash right after a batch with late
    // events whose insert changed rows (the 2nd, then the 3rd such), then in the batch that holds the last late event.
    const holdsLate = (b: { first: number; last: number }) => late.some((p) => p >= b.first && p <= b.last);
    let rewrites = 0;
    await expect(crashWhen(250, (b) => holdsLate(b) && b.rows > 0 && ++rewrites === 2).run()).rejects.toThrow('crash after insert');
    rewrites = 0;
    await expect(crashWhen(400, (b) => holdsLate(b) && b.rows > 0 && ++rewrites === 3).run()).rejects.toThrow('crash after insert');
    await expect(crashWhen(300, (b) => b.first <= late.at(-1)! && late.at(-1)! <= b.last).run()).rejects.toThrow('crash after insert');
    await new AccessIntervalProjection({ client: db.client, source: sourceOf(crash.events), name: 'ai-lcrash', maxBatchEvents: 300 }).run();
    expect(withoutTenant(await intervalRows(db.client, 'lcrash'), 'lcrash')).toEqual(expected);

    const exact = history('lexact');
    expect(withoutTenant(await rebuilt('lexact', exact.events), 'lexact')).toEqual(expected);

    // A lost checkpoint: replaying everything, late events included, over the full table leaves it as it was.
    await new AccessIntervalProjection({ client: db.client, source: sourceOf(crash.events), name: 'ai-lcrash-again', maxBatchEvents: 500 }).run();
    expect(withoutTenant(await intervalRows(db.client, 'lcrash'), 'lcrash')).toEqual(expected);
  }, 60_000);

  test('rebuild() empties the table and the next run writes it again, identical — exact with a late event (R61)', async () => {
    const history = (t: string) => [...acme(t), lateEvent(t, 'UserRemovedFromGroup', '01-20', { groupId: 'g-eng', userId: 'u-custom' })];
    const projection = new AccessIntervalProjection({ client: db.client, source: sourceOf(history('rebuild')), name: 'ai-rebuild' });
    await projection.run();
    const before = await intervalRows(db.client, 'rebuild');
    await projection.rebuild();
    expect(await intervalRows(db.client, 'rebuild')).toEqual([]);
    await projection.run();
    expect(await intervalRows(db.client, 'rebuild')).toEqual(before);
    expect(before).toEqual(await rebuilt('rebuild-exact', history('rebuild-exact')));
  });

  test('replaying everything from the start (a lost checkpoint) leaves the table as it was', async () => {
    const events = acme('again');
    await project('again', events);
    const before = await intervalRows(db.client, 'again');
    const projection = new AccessIntervalProjection({ client: db.client, source: sourceOf(events), name: 'ai-again-2' });
    await projection.run();
    expect(await intervalRows(db.client, 'again')).toEqual(before);
  });
});

describe('role-set profiles (R14–R16): custom members of an organization with connector permissions enabled', () => {
  /**
   * Two custom members share one set of roles (r-eng), a third has another (r-eng, r-ops), a fourth has none; the
   * organization enables connector permissions, then a role grants every connector, then a tool policy caps one tool.
   */
  function connectorOrg(tenantId: string): LedgerEvent[] {
    let p = 0;
    const e = (type: Parameters<typeof event>[1], at: string, data: Record<string, unknown>) => event(++p, type, `2026-${at}T00:00:00.000Z`, data, tenantId);
    const orgId = 'acme';
    return [
      e('OrganizationCreated', '01-01', { orgId, name: 'Acme', dualSeat: false, usageBased: false, provisioningMode: 'invite_only' }), // ev-1
      e('MemberAdded', '01-02', { orgId, userId: 'u-owner', email: 'o@acme.test', role: 'owner' }), // ev-2
      e('MemberAdded', '01-02', { orgId, userId: 'u-a', email: 'a@acme.test', role: 'custom' }), // ev-3
      e('MemberAdded', '01-02', { orgId, userId: 'u-b', email: 'b@acme.test', role: 'custom' }), // ev-4
      e('MemberAdded', '01-02', { orgId, userId: 'u-c', email: 'c@acme.test', role: 'custom' }), // ev-5
      e('MemberAdded', '01-02', { orgId, userId: 'u-none', email: 'n@acme.test', role: 'custom' }), // ev-6
      e('ConnectorAdded', '01-03', { orgId, connectorId: 'jira', name: 'Jira', tools: ['read', 'write', 'admin'] }), // ev-7
      e('GroupCreated', '01-03', { groupId: 'g-eng', name: 'Eng', source: 'manual' }), // ev-8
      e('GroupCreated', '01-03', { groupId: 'g-ops', name: 'Ops', source: 'manual' }), // ev-9
      e('RoleCreated', '01-04', { orgId, roleId: 'r-eng', name: 'Eng' }), // ev-10
      e('RoleCreated', '01-04', { orgId, roleId: 'r-ops', name: 'Ops' }), // ev-11
      e('RoleAssignedToGroup', '01-05', { orgId, groupId: 'g-eng', roleId: 'r-eng' }), // ev-12
      e('RoleAssignedToGroup', '01-05', { orgId, groupId: 'g-ops', roleId: 'r-ops' }), // ev-13
      e('UserAddedToGroup', '01-06', { groupId: 'g-eng', userId: 'u-a' }), // ev-14
      e('UserAddedToGroup', '01-06', { groupId: 'g-eng', userId: 'u-b' }), // ev-15
      e('UserAddedToGroup', '01-06', { groupId: 'g-eng', userId: 'u-c' }), // ev-16
      e('UserAddedToGroup', '01-06', { groupId: 'g-ops', userId: 'u-c' }), // ev-17
      e('RoleToolPermissionSet', '01-07', { orgId, roleId: 'r-ops', connectorId: 'jira', toolName: 'admin', level: 'needs_approval' }), // ev-18
      e('ConnectorPermissionsEnabled', '02-01', { orgId }), // ev-19
      e('RoleConnectorPermissionSet', '02-02', { orgId, roleId: 'r-eng', connectorId: '*', level: 'always_allow' }), // ev-20
      e('OrgToolPolicySet', '02-03', { orgId, connectorId: 'jira', toolName: 'write', level: 'needs_approval' }), // ev-21
      e('UserRemovedFromGroup', '03-01', { groupId: 'g-eng', userId: 'u-b' }), // ev-22
    ];
  }

  test('R41–R43: a ceiling caps own and group limits above it, and only those; lowered, lifted and removed, as the evaluator says at every event', async () => {
    const tenantId = 'ceilings';
    let p = 0;
    const e = (type: Parameters<typeof event>[1], at: string, data: Record<string, unknown>) => event(++p, type, `2026-${at}T00:00:00.000Z`, data, tenantId);
    const orgId = 'acme';
    const events = [
      e('OrganizationCreated', '01-01', { orgId, name: 'Acme', dualSeat: false, usageBased: true, provisioningMode: 'invite_only' }),
      e('MemberAdded', '01-02', { orgId, userId: 'u-own', email: 'own@acme.test', role: 'user' }),
      e('MemberAdded', '01-02', { orgId, userId: 'u-group', email: 'group@acme.test', role: 'user' }),
      e('MemberAdded', '01-02', { orgId, userId: 'u-free', email: 'free@acme.test', role: 'user' }),
      e('MemberAdded', '01-02', { orgId, userId: 'u-low', email: 'low@acme.test', role: 'user' }),
      e('GroupCreated', '01-03', { groupId: 'g-sales', name: 'Sales', source: 'manual' }),
      e('UserAddedToGroup', '01-03', { groupId: 'g-sales', userId: 'u-group' }),
      e('GroupSpendLimitSet', '01-04', { orgId, groupId: 'g-sales', cents: 800 }),
      e('MemberSpendLimitSet', '01-04', { orgId, userId: 'u-own', cents: 500 }),
      e('MemberSpendLimitSet', '01-04', { orgId, userId: 'u-low', cents: 100 }),
      e('OrgSpendCeilingSet', '01-05', { orgId, cents: 1000 }), // caps nobody
      e('OrgSpendCeilingSet', '01-06', { orgId, cents: 300 }), // caps u-own (500) and u-group (800), not u-low (100)
      e('OrgSpendCeilingSet', '01-07', { orgId, cents: 600 }), // u-own back to 500, u-group to 600
      e('MemberSpendLimitSet', '01-08', { orgId, userId: 'u-own', cents: 900 }), // now capped at 600
      e('OrgSpendCeilingSet', '01-09', { orgId, cents: null }), // no ceiling: every own limit as it is
      e('UserRemovedFromGroup', '01-10', { groupId: 'g-sales', userId: 'u-group' }), // no limit any more
      e('OrgSpendCeilingSet', '01-11', { orgId, cents: 200 }), // u-group follows the ceiling (the spend profile)
    ];
    // Taken event by event as the live projection takes them (members kept at the frontier between events).
    const t = new TenantIntervals(tenantId);
    const changesOf = new Map<string, AccessIntervalChange[]>();
    for (const ev of events) {
      const effect = t.apply(ev);
      if (effect.kind === 'changes') changesOf.set(ev.id, effect.changes);
    }
    const spendChanges = (id: string) =>
      changesOf
        .get(id)!
        .filter((c) => c.permission === 'spend' && !c.userId.startsWith('*'))
        .map((c) => `${c.userId} ${c.kind} ${c.level}`)
        .sort();
    expect(spendChanges('ev-11')).toEqual([]);
    expect(spendChanges('ev-12')).toEqual(['u-group close 800', 'u-group open 300', 'u-own close 500', 'u-own open 300']);
    expect(spendChanges('ev-13')).toEqual(['u-group close 300', 'u-group open 600', 'u-own close 300', 'u-own open 500']);
    expect(spendChanges('ev-14')).toEqual(['u-own close 500', 'u-own open 600']);
    expect(spendChanges('ev-15')).toEqual(['u-group close 600', 'u-group open 800', 'u-own close 600', 'u-own open 900']);

    // The table, live in batches of two and by the rebuild path, holds what the evaluator says at every event.
    const live = withoutTenant(await project(tenantId, events, { maxBatchEvents: 2 }), tenantId);
    const again = events.map((ev) => ({ ...ev, meta: { ...ev.meta, tenantId: `${tenantId}-rebuilt` } }));
    expect(live).toEqual(withoutTenant(await rebuilt(`${tenantId}-rebuilt`, again), `${tenantId}-rebuilt`));
    for (const ev of events) {
      const at = Date.parse(ev.meta.occurredAt);
      for (const userId of ['u-own', 'u-group', 'u-free', 'u-low']) {
        const evaluator = intervalPermissionsOf(accessAt(t.facts, viewAt(at), orgId, userId));
        const table = await heldAt(db.client, tenantId, orgId, userId, at);
        expect({ at: ev.meta.occurredAt, userId, held: Object.fromEntries([...table].sort()) }).toEqual({
          at: ev.meta.occurredAt,
          userId,
          held: Object.fromEntries([...evaluator].sort()),
        });
      }
    }
    expect((await heldAt(db.client, tenantId, orgId, 'u-group', Date.parse(d('01-11')))).get('spend')).toBe('200');
  });

  test('a role’s grant writes one change per role set holding it and per tool, not per member; the reports still answer per member, as the evaluator does', async () => {
    const tenantId = 'rolesets';
    const events = connectorOrg(tenantId);
    const t = new TenantIntervals(tenantId);
    const changesOf = new Map<string, AccessIntervalChange[]>();
    for (const e of events) {
      const effect = t.apply(e);
      if (effect.kind === 'changes') changesOf.set(e.id, effect.changes);
    }
    // The grant of every connector to r-eng: the tools of the two sets holding r-eng, no member's row.
    const grant = changesOf.get('ev-20')!;
    expect(new Set(grant.map((c) => c.userId))).toEqual(new Set(['*role-set:r-eng', '*role-set:r-eng,r-ops']));
    expect(
      grant
        .filter((c) => c.userId === '*role-set:r-eng')
        .map((c) => `${c.kind} ${c.permission}=${c.level}`)
        .sort(),
    ).toEqual(['open tool:jira/admin=always_allow', 'open tool:jira/read=always_allow', 'open tool:jira/write=always_allow']);
    // Enabling connector permissions moves each custom member with roles from the organization's tool profile to
    // their set's; the member without roles holds no tool (R15).
    const enabled = changesOf.get('ev-19')!.filter((c) => !c.userId.startsWith('*'));
    expect(enabled.map((c) => `${c.userId} ${c.kind} ${c.permission}=${c.level}`).sort()).toEqual([
      'u-a close tools:org-policy=org',
      'u-a open tools:role-set=r-eng',
      'u-b close tools:org-policy=org',
      'u-b open tools:role-set=r-eng',
      'u-c close tools:org-policy=org',
      'u-c open tools:role-set=r-eng,r-ops',
      'u-none close tools:org-policy=org',
    ]);
    // A tool policy: the organization's profile and each set, nobody else.
    expect(new Set(changesOf.get('ev-21')!.map((c) => c.userId))).toEqual(new Set(['*org-tools', '*role-set:r-eng', '*role-set:r-eng,r-ops']));

    // Projected live in small batches (sets appear in one batch, change in later ones) and by the rebuild path: the
    // same table, and every member's tools as the evaluator gives them at each event's instant.
    const live = withoutTenant(await project(tenantId, events, { maxBatchEvents: 3 }), tenantId);
    expect(live.filter((r) => r.user_id === '*role-set:r-eng').length).toBeGreaterThan(0);
    expect(live).toEqual(withoutTenant(await rebuilt(`${tenantId}-rebuilt`, connectorOrg(`${tenantId}-rebuilt`)), `${tenantId}-rebuilt`));
    const facts = t.facts;
    for (const e of events) {
      const at = Date.parse(e.meta.occurredAt);
      for (const userId of ['u-owner', 'u-a', 'u-b', 'u-c', 'u-none']) {
        const evaluator = intervalPermissionsOf(accessAt(facts, viewAt(at), 'acme', userId));
        const table = await heldAt(db.client, tenantId, 'acme', userId, at);
        expect({ at: e.meta.occurredAt, userId, held: Object.fromEntries([...table].sort()) }).toEqual({
          at: e.meta.occurredAt,
          userId,
          held: Object.fromEntries([...evaluator].sort()),
        });
      }
    }
    // The holders report names members, never a set's pseudo-member.
    const holders = await permissionHolders(
      db.client,
      tenantId,
      'acme',
      PermissionHoldersQuery.parse({ permission: 'tool:jira/read', from: d('02-02'), to: d('02-03') }),
    );
    expect(holders.map((h) => h.userId).sort()).toEqual(['u-a', 'u-b', 'u-c', 'u-owner']);
  });

  test('a restart knows the sets from the table (roleSets): a later grant reaches a set first seen before the restart', async () => {
    const tenantId = 'rolesets-restart';
    const events = connectorOrg(tenantId);
    const name = `ai-${tenantId}`;
    // The first run stops after the sets appeared (ev-19), before the grant.
    await new AccessIntervalProjection({ client: db.client, source: sourceOf(events.slice(0, 19)), name }).run();
    expect((await roleSets(db.client)).get(tenantId)?.get('acme')).toEqual(new Set(['r-eng', 'r-eng,r-ops']));
    await new AccessIntervalProjection({ client: db.client, source: sourceOf(events), name }).run();
    const rows = withoutTenant(await intervalRows(db.client, tenantId), tenantId);
    expect(rows).toEqual(withoutTenant(await rebuilt(`${tenantId}-rebuilt`, connectorOrg(`${tenantId}-rebuilt`)), `${tenantId}-rebuilt`));
  });
});
