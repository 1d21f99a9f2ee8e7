import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { ClickHouseClient } from '@clickhouse/client';
import type { LedgerEvent } from '../../access-model/src/index.js';
import { AccessIntervalWriter, PrivilegedAccessQuery, SodViolationsQuery, privilegedAccess, sodViolations } from '../../read-model/src/index.js';
import { AccessIntervalProjection, TenantIntervals, intervalChangesOfHistory } from '../src/access-intervals.js';
import { event, generatedHistory, intervalRows, liveSourceOf, openDb, sourceOf, type IntervalRow } from './access-intervals-fixture.js';

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

/** R61: u-late joins the group on 02-15, imported after everything above. */
function lateJoin(tenantId: string): LedgerEvent {
  return event(14, 'UserAddedToGroup', '2026-02-15T00:00:00.000Z', { groupId: 'g-eng', userId: 'u-late' }, tenantId);
}

const of = (rows: IntervalRow[], userId: string, permission: string) => rows.filter((r) => r.user_id === userId && r.permission === permission);
const d = (day: string) => `2026-${day}T00:00:00.000Z`;

async function project(tenantId: string, events: LedgerEvent[], options: { maxBatchEvents?: number } = {}): Promise<IntervalRow[]> {
  const projection = new AccessIntervalProjection({ client: db.client, source: sourceOf(events), name: `ai-${tenantId}`, ...options });
  await projection.run();
  return intervalRows(db.client, tenantId);
}

describe('access intervals, family by family', () => {
  test('R2: switching claude_code off closes capability:claude_code for every holder at that instant, closed by that event, and nothing else', async () => {
    const rows = await project('r2', acme('r2'));
    expect(of(rows, 'u-owner', 'capability:claude_code')).toEqual([
      expect.objectContaining({ level: 'granted', valid_from: d('01-02'), valid_to: d('02-01'), opened_by: 'ev-2', closed_by: 'ev-11' }),
    ]);
    expect(of(rows, 'u-user', 'capability:claude_code')).toEqual([expect.objectContaining({ valid_from: d('01-02'), valid_to: d('02-01'), opened_by: 'ev-3', closed_by: 'ev-11' })]);
    // R5: the custom member had it through the group's role, from joining the group.
    expect(of(rows, 'u-custom', 'capability:claude_code')).toEqual([expect.objectContaining({ valid_from: d('01-06'), valid_to: d('02-01'), opened_by: 'ev-10', closed_by: 'ev-11' })]);
    // R6: the custom member in no group never had it.
    expect(of(rows, 'u-late', 'capability:claude_code')).toEqual([]);
    expect(rows.filter((r) => r.closed_by === 'ev-11').map((r) => r.permission)).toEqual(['capability:claude_code', 'capability:claude_code', 'capability:claude_code']);
  });

  test('R5, R30: leaving the group closes the custom member’s role-derived permissions, not their built-in role', async () => {
    const rows = await project('leave', acme('leave'));
    expect(of(rows, 'u-custom', 'capability:chat')).toEqual([expect.objectContaining({ valid_from: d('01-06'), valid_to: d('03-01'), opened_by: 'ev-10', closed_by: 'ev-12' })]);
    expect(of(rows, 'u-custom', 'role:custom')).toEqual([expect.objectContaining({ level: 'custom', valid_from: d('01-03'), valid_to: OPEN, opened_by: 'ev-4', closed_by: '' })]);
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

  test('R61: a late group join — live, recorded at the frontier with the late event; the rebuild path puts it at its own instant', async () => {
    const events = [...acme('late'), lateJoin('late')];
    const rows = await project('late', events);
    expect(of(rows, 'u-late', 'capability:chat')).toEqual([expect.objectContaining({ valid_from: d('03-02'), valid_to: OPEN, opened_by: 'ev-14' })]);

    const exact = [...acme('late-exact'), lateJoin('late-exact')];
    const t = new TenantIntervals('late-exact');
    for (const e of exact) t.fold(e);
    await new AccessIntervalWriter(db.client).write(intervalChangesOfHistory('late-exact', t.facts, exact));
    const rebuilt = await intervalRows(db.client, 'late-exact');
    expect(of(rebuilt, 'u-late', 'capability:chat')).toEqual([expect.objectContaining({ valid_from: d('02-15'), valid_to: OPEN, opened_by: 'ev-14' })]);
    // claude_code was already switched off for the organization on 02-01 (R2): the late join cannot grant it.
    expect(of(rebuilt, 'u-late', 'capability:claude_code')).toEqual([]);
  });

  test('start() / catchUp() / lag() / stop() on a live subscription: the batch timer writes the partial batch, no lag remains', async () => {
    const events = acme('live');
    // A live subscription never ends: only the batch timer can write the last partial batch.
    const projection = new AccessIntervalProjection({ client: db.client, source: liveSourceOf(events), name: 'ai-live', headPosition: async () => events.length, maxBatchEvents: 1000, maxBatchDelayMs: 10 });
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
        client: db.client, source: sourceOf(crash.events), name: 'ai-crash', maxBatchEvents: batch,
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

  test('rebuild() empties the table and the next run writes it again, identical', async () => {
    const events = acme('rebuild');
    const projection = new AccessIntervalProjection({ client: db.client, source: sourceOf(events), name: 'ai-rebuild' });
    await projection.run();
    const before = await intervalRows(db.client, 'rebuild');
    await projection.rebuild();
    expect(await intervalRows(db.client, 'rebuild')).toEqual([]);
    await projection.run();
    expect(await intervalRows(db.client, 'rebuild')).toEqual(before);
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
