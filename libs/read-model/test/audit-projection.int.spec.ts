import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { RecordedEvent } from '@access-ledger/event-store';
import { AuditProjection } from '../src/ingestion/audit-projection.js';
import { AUDIT_COLUMNS, auditLineOf, auditRowOf } from '../src/ingestion/audit-row.js';
import { CheckpointStore } from '../src/ingestion/checkpoint.js';
import { BACKENDS, openFixture, rows, type ClickHouseFixture } from './clickhouse-fixture.js';
import { fromArray, RecordedHistory } from './recorded-history.js';
import { syntheticEvent } from './synthetic-history.js';

const owner = { kind: 'member', orgId: 'acme-eng', userId: 'u-owner' } as const;

function history(): RecordedHistory {
  return new RecordedHistory('acme', '2026-03-01T09:00:00.000Z')
    .add('OrganizationCreated', { orgId: 'acme-eng', name: 'Engineering', dualSeat: false, provisioningMode: 'invite_only', usageBased: false })
    .by(owner)
    .add('MemberAdded', { orgId: 'acme-eng', userId: 'u-1', email: 'u1@acme.test', role: 'custom' })
    .add('GroupCreated', { groupId: 'g-eng', name: 'Eng', source: 'manual' })
    .add('RoleCapabilitySet', { orgId: 'acme-eng', roleId: 'r-cc', capability: 'claude_code', granted: true })
    .add('PrimaryOwnershipTransferred', { orgId: 'acme-eng', toUserId: 'u-2' })
    .by({ kind: 'scim' })
    .add('ApiKeyCreated', { orgId: 'acme-eng', workspaceId: 'w-1', apiKeyId: 'k-1', name: 'ci', createdBy: 'u-1' })
    .add('OrganizationCapabilitySet', { orgId: 'acme-eng', capability: 'cowork', enabled: true });
}

async function counts(db: ClickHouseFixture): Promise<{ n: number; ids: number; minPos: number; maxPos: number }> {
  const [row] = await rows<{ n: number; ids: number; minPos: number; maxPos: number }>(
    db.client,
    'SELECT count() AS n, uniqExact(event_id) AS ids, min(position) AS minPos, max(position) AS maxPos FROM audit_events',
  );
  return { n: Number(row!.n), ids: Number(row!.ids), minPos: Number(row!.minPos), maxPos: Number(row!.maxPos) };
}

describe.each(BACKENDS)('audit trail projection (%s)', (backend) => {
  let db: ClickHouseFixture;
  beforeAll(async () => {
    db = await openFixture(backend);
  });
  afterAll(async () => {
    await db.close();
  });
  beforeEach(async () => {
    await db.client.command({ query: 'TRUNCATE TABLE audit_events' });
    await db.client.command({ query: 'TRUNCATE TABLE projection_checkpoints' });
  });

  it('flattens events: org, actor, subject from the most specific id, payload as JSON', () => {
    const [created, added, , capability, transferred, key, toggle] = history().events;
    expect(auditRowOf(created!)).toMatchObject({ tenant_id: 'acme', org_id: 'acme-eng', actor_kind: 'system', actor_user_id: '', subject: '' });
    expect(auditRowOf(added!)).toMatchObject({
      subject: 'u-1',
      actor_kind: 'member',
      actor_org_id: 'acme-eng',
      actor_user_id: 'u-owner',
      occurred_at: '2026-03-01T09:01:00.000Z',
    });
    expect(auditRowOf(capability!).subject).toBe('r-cc');
    expect(auditRowOf(transferred!).subject).toBe('u-2');
    expect(auditRowOf(key!)).toMatchObject({ subject: 'k-1', actor_kind: 'scim' });
    expect(auditRowOf(toggle!).subject).toBe('cowork');
    expect(JSON.parse(auditRowOf(key!).payload)).toEqual({ orgId: 'acme-eng', workspaceId: 'w-1', apiKeyId: 'k-1', name: 'ci', createdBy: 'u-1' });
  });

  it('R62: an AccessChangeDenied is filed under the organization its refused command targeted, also when stored without data.orgId', () => {
    const denied = (data: Record<string, unknown>, actor: object) =>
      auditRowOf(
        new RecordedHistory('acme', '2026-03-01T09:00:00.000Z').by(actor as never).add('AccessChangeDenied', { reason: 'no', rule: 'R22', ...data }).events[0]!,
      ).org_id;
    expect(denied({ orgId: 'org-x', command: { type: 'CreateGroup', payload: {} } }, owner)).toBe('org-x');
    expect(denied({ command: { type: 'SetOrgSpendCeiling', payload: { orgId: 'org-y', cents: 1 } } }, { kind: 'scim' })).toBe('org-y');
    expect(denied({ command: { type: 'CreateGroup', payload: { groupId: 'g' } } }, owner)).toBe('acme-eng');
    expect(denied({ command: { type: 'CreateGroup', payload: { groupId: 'g' } } }, { kind: 'scim' })).toBe('');
  });

  it('records the authenticated key beside the actor as the JSON of metadata.auth, empty for older events', () => {
    const [event] = history().events;
    expect(auditRowOf(event!).auth).toBe('');
    const auth = { keyId: '0123456789abcdef', principal: { kind: 'scim' } };
    expect(JSON.parse(auditRowOf({ ...event!, metadata: { ...event!.metadata, auth } }).auth)).toEqual(auth);
  });

  it('the inserted line is the row, with the payload as the data object itself', () => {
    for (const event of history().events) {
      const row = auditRowOf(event);
      const line = JSON.parse(auditLineOf(event)) as unknown[];
      expect(line).toEqual(AUDIT_COLUMNS.map((column) => (column === 'payload' ? JSON.parse(row.payload) : row[column])));
    }
  });

  it('stores each payload byte for byte as JSON.stringify of the data, however awkward its strings', async () => {
    const names = ['quote " and backslash \\', 'tab\tnew\nline', 'ünïcödé ✓ 𝄞', '{"looks":"like json"}', '', '\u0000 nul'];
    let h = new RecordedHistory('awk', '2026-03-01T09:00:00.000Z');
    names.forEach((name, i) => {
      h = h.add('GroupCreated', { groupId: `g-${i}`, name, source: 'manual', nested: { list: [1, 'two', null] } });
    });
    const events = h.events;
    await new AuditProjection({ client: db.client, source: (after) => fromArray(events, after) }).run();
    const stored = await rows<{ position: number | string; payload: string }>(
      db.client,
      "SELECT position, payload FROM audit_events WHERE tenant_id = 'awk' ORDER BY position",
    );
    expect(stored.map((r) => r.payload)).toEqual(events.map((e) => JSON.stringify(e.data)));
  });

  it('projects every event once and a second run adds nothing', async () => {
    const events = history().events;
    const projection = new AuditProjection({ client: db.client, source: (after) => fromArray(events, after), maxBatchSize: 3 });
    await projection.run();
    expect(await counts(db)).toEqual({ n: events.length, ids: events.length, minPos: 0, maxPos: events.length - 1 });
    expect(projection.metrics).toMatchObject({ checkpoint: events.length - 1, eventsProjected: events.length, batchesInserted: 3, lag: 0 });
    const [stored] = await rows<Record<string, unknown>>(db.client, "SELECT * FROM audit_events WHERE type = 'ApiKeyCreated'");
    expect(stored).toMatchObject({ subject: 'k-1', actor_kind: 'scim', occurred_at: '2026-03-01T09:05:00.000Z', source: 'api' });

    await new AuditProjection({ client: db.client, source: (after) => fromArray(events, after), maxBatchSize: 2 }).run();
    expect((await counts(db)).n).toBe(events.length);
  });

  it('a batch inserted but not checkpointed is rebuilt with its old boundary, even with another batch size, and dropped', async () => {
    const events = Array.from({ length: 50 }, (_, i) => syntheticEvent(i));
    let calls = 0;
    const crashing = new AuditProjection({
      client: db.client,
      source: (after) => fromArray(events, after),
      maxBatchSize: 20,
      afterInsert: () => {
        if (++calls === 2) throw new Error('simulated crash between insert and checkpoint');
      },
    });
    await expect(crashing.run()).rejects.toThrow('simulated crash');
    expect((await counts(db)).n).toBe(40);
    expect(await new CheckpointStore(db.client, 'audit_events').load()).toMatchObject({ position: 19, pendingThrough: 39 });

    const restarted = new AuditProjection({ client: db.client, source: (after) => fromArray(events, after), maxBatchSize: 7 });
    await restarted.run();
    expect(await counts(db)).toEqual({ n: 50, ids: 50, minPos: 0, maxPos: 49 });
  });

  it('flushes a partial batch after maxBatchDelayMs while the source is quiet, and reports lag', async () => {
    const events = Array.from({ length: 5 }, (_, i) => syntheticEvent(i));
    let release: () => void = () => undefined;
    const gate = new Promise<void>((done) => (release = done));
    async function* slow(): AsyncIterable<RecordedEvent> {
      yield* events.slice(0, 3);
      await gate;
      yield* events.slice(3);
    }
    const projection = new AuditProjection({ client: db.client, source: () => slow(), maxBatchSize: 100, maxBatchDelayMs: 30, headPosition: async () => 4 });
    const running = projection.run();
    for (let i = 0; i < 100 && projection.metrics.checkpoint < 2; i++) await new Promise((done) => setTimeout(done, 20));
    expect((await counts(db)).n).toBe(3);
    expect(await projection.refreshLag()).toBe(2);
    release();
    await running;
    expect(projection.lag).toBe(0);
    expect((await counts(db)).n).toBe(5);
  });

  it('does not run more than two batches ahead of ClickHouse (backpressure)', async () => {
    let pulled = 0;
    let maxAhead = 0;
    const projection = new AuditProjection({
      client: db.client,
      source: async function* (after) {
        for (let i = after + 1; i < 400; i++) {
          pulled++;
          maxAhead = Math.max(maxAhead, pulled - projection.metrics.eventsProjected);
          yield syntheticEvent(i);
        }
      },
      maxBatchSize: 50,
    });
    await projection.run();
    expect(pulled).toBe(400);
    expect(maxAhead).toBeLessThanOrEqual(2 * 50);
  });

  it('rebuild empties the trail and replays from 0 in a new generation', async () => {
    const events = history().events;
    const projection = new AuditProjection({ client: db.client, source: (after) => fromArray(events, after), maxBatchSize: 3 });
    await projection.run();
    await projection.rebuild();
    expect((await counts(db)).n).toBe(0);
    await projection.run();
    expect(await counts(db)).toEqual({ n: events.length, ids: events.length, minPos: 0, maxPos: events.length - 1 });
    expect(projection.metrics.generation).toBe(1);
  });

  it('a rebuild interrupted after its checkpoint mark is finished by the next run: old rows go, no duplicate', async () => {
    const events = history().events;
    await new AuditProjection({ client: db.client, source: (after) => fromArray(events, after) }).run();
    // What a crash right after rebuild() moved the checkpoint, before TRUNCATE, leaves behind.
    await new CheckpointStore(db.client, 'audit_events').save({ position: -1, pendingThrough: -2, generation: 1 });
    const next = new AuditProjection({ client: db.client, source: (after) => fromArray(events, after) });
    await next.run();
    expect(await counts(db)).toEqual({ n: events.length, ids: events.length, minPos: 0, maxPos: events.length - 1 });
    expect(next.metrics.generation).toBe(1);
  });
});
