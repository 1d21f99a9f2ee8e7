/**
 * The interval projection: an event it cannot fold (an old data shape no upcaster takes, data
 * `evolve` throws on halfway) is quarantined in `quarantined_events` (projection `access_intervals`), nothing of it
 * stays in the tenant's facts, the checkpoint passes it and every tenant goes on; a start after a fix takes it.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { ClickHouseClient } from '@clickhouse/client';
import { internKey, UPCASTERS, type LedgerEvent } from '@access-ledger/access-model';
import { listQuarantined } from '@access-ledger/read-model';
import { AccessIntervalProjection } from '../src/access-intervals.js';
import { event, intervalRows, openDb, sourceOf, withoutTenant } from './access-intervals-fixture.js';

let db: { client: ClickHouseClient; close(): Promise<void> };
beforeAll(async () => {
  db = await openDb();
});
afterAll(async () => db?.close());

/** An org whose group grants claude_code; u-1 joins it on 01-06 and u-2 on 01-07 (`join`: how u-2's join is stored). */
function history(tenantId: string, join: (e: LedgerEvent) => LedgerEvent = (e) => e, base = 0): LedgerEvent[] {
  let p = base;
  const id = (e: LedgerEvent): LedgerEvent => ({ ...e, id: `${tenantId}-${e.position}` });
  const e = (type: Parameters<typeof event>[1], at: string, data: Record<string, unknown>) => id(event(++p, type, `2026-${at}T00:00:00.000Z`, data, tenantId));
  const orgId = 'org';
  return [
    e('OrganizationCreated', '01-01', { orgId, name: 'Org', dualSeat: false, usageBased: false, provisioningMode: 'invite_only' }),
    e('MemberAdded', '01-02', { orgId, userId: 'u-1', email: '1@org.test', role: 'custom' }),
    e('MemberAdded', '01-02', { orgId, userId: 'u-2', email: '2@org.test', role: 'custom' }),
    e('GroupCreated', '01-03', { groupId: 'g', name: 'G', source: 'manual' }),
    e('RoleCreated', '01-04', { orgId, roleId: 'r', name: 'R' }),
    e('RoleCapabilitySet', '01-04', { orgId, roleId: 'r', capability: 'claude_code', granted: true }),
    e('RoleAssignedToGroup', '01-05', { orgId, groupId: 'g', roleId: 'r' }),
    e('UserAddedToGroup', '01-06', { groupId: 'g', userId: 'u-1' }),
    join(e('UserAddedToGroup', '01-07', { groupId: 'g', userId: 'u-2' })),
    e('UserRemovedFromGroup', '02-01', { groupId: 'g', userId: 'u-1' }),
    e('UserRemovedFromGroup', '03-01', { groupId: 'g', userId: 'u-2' }),
  ];
}
/** Stored in a shape of schema version 0, for which this build has no upcaster. */
const oldShape = (e: LedgerEvent): LedgerEvent => ({ ...e, meta: { ...e.meta, schemaVersion: 0 } });
/** Passes the store, but `evolve` throws halfway through it (after the connector is added, at its missing tools). */
const toolless = (tenantId: string, position: number): LedgerEvent => ({
  ...event(position, 'ConnectorAdded', '2026-01-08T00:00:00.000Z', { orgId: 'org', connectorId: 'c-bad', name: 'Bad' }, tenantId),
  id: `${tenantId}-bad`,
});

describe('access_intervals quarantine', () => {
  test('events it cannot fold are quarantined and skipped, for their tenant only; the other tenant is projected whole', async () => {
    const poisoned = [...history('p1', oldShape), toolless('p1', 12)];
    const clean = history('c1', (e) => e, 12);
    const projection = new AccessIntervalProjection({ client: db.client, source: sourceOf([...poisoned, ...clean]), name: 'aiq-1' });
    await projection.run(); // before: the first poisoned event stopped it, for both tenants

    expect(projection.metrics.checkpoint).toBe(clean.at(-1)!.position);
    expect(projection.metrics.quarantined).toBe(2);
    expect(projection.quarantine.byTenant()).toEqual({ p1: 2 });
    const held = await listQuarantined(db.client, 'aiq-1');
    expect(held.map((h) => [h.position, h.tenantId, h.eventId, h.type])).toEqual([
      [9, 'p1', 'p1-9', 'UserAddedToGroup'],
      [12, 'p1', 'p1-bad', 'ConnectorAdded'],
    ]);
    expect(held[0]!.error).toContain('no upcaster for UserAddedToGroup from schema version 0');
    expect(held[1]!.error).toContain('not iterable');
    // All or nothing: the connector the folder added before it threw is not in the facts.
    expect(projection.tenant('p1')!.facts.written(internKey.connector('org', 'c-bad'))).toBe(false);
    // The other tenant has everything; the poisoned one everything but u-2's membership.
    const cleanRows = await intervalRows(db.client, 'c1');
    expect(cleanRows.some((r) => r.user_id === 'u-2' && r.permission === 'capability:claude_code')).toBe(true);
    const poisonedRows = await intervalRows(db.client, 'p1');
    expect(poisonedRows.some((r) => r.user_id === 'u-1' && r.permission === 'capability:claude_code')).toBe(true);
    expect(poisonedRows.some((r) => r.user_id === 'u-2' && r.permission === 'capability:claude_code')).toBe(false);
  });

  test('a start after a fix (an upcaster for the old shape) takes the quarantined event: the intervals become those of the history without poison', async () => {
    const poisoned = history('p2', oldShape);
    const name = 'aiq-2';
    await new AccessIntervalProjection({ client: db.client, source: sourceOf(poisoned), name }).run();
    expect((await listQuarantined(db.client, name)).map((h) => h.eventId)).toEqual(['p2-9']);

    UPCASTERS.UserAddedToGroup = { 0: (data) => data };
    try {
      // A replay slow enough for a batch timer to fire in the middle of it: the retried event's rewrite must still
      // wait for the facts through the checkpoint (u-2's removal on 03-01 comes after it).
      const slowly = (after: number) =>
        (async function* () {
          for await (const e of sourceOf(poisoned)(after)) {
            await new Promise((resume) => setTimeout(resume, 2));
            yield e;
          }
        })();
      const restarted = new AccessIntervalProjection({ client: db.client, source: slowly, name, maxBatchDelayMs: 1 });
      await restarted.run();
      expect(restarted.metrics.quarantined).toBe(0);
    } finally {
      delete UPCASTERS.UserAddedToGroup;
    }
    expect(await listQuarantined(db.client, name)).toEqual([]);
    await new AccessIntervalProjection({ client: db.client, source: sourceOf(history('r2')), name: 'aiq-2-reference' }).run();
    expect(withoutTenant(await intervalRows(db.client, 'p2'), 'p2')).toEqual(withoutTenant(await intervalRows(db.client, 'r2'), 'r2'));
  });
});
