import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RecordedEvent } from '@access-ledger/event-store';
import { AuditProjection } from '../src/ingestion/audit-projection.js';
import { listQuarantined } from '../src/ingestion/quarantine.js';
import { BACKENDS, openFixture, rows, type ClickHouseFixture } from './clickhouse-fixture.js';
import { fromArray, RecordedHistory } from './recorded-history.js';

/** An event the audit trail cannot take is quarantined, the rest of its batch goes in. */
describe.each(BACKENDS)('audit projection quarantine (%s)', (backend) => {
  let db: ClickHouseFixture;
  beforeAll(async () => {
    db = await openFixture(backend);
  });
  afterAll(async () => {
    await db.close();
  });

  const history = () =>
    new RecordedHistory('acme', '2026-03-01T09:00:00.000Z')
      .add('GroupCreated', { groupId: 'g-1', name: 'One', source: 'manual' })
      .add('GroupCreated', { groupId: 'g-2', name: 'Two', source: 'manual' })
      .add('GroupCreated', { groupId: 'g-3', name: 'Three', source: 'manual' }).events;
  /** An instant ClickHouse cannot parse: the insert of any batch holding it fails on its data. */
  const unparsable = (event: RecordedEvent): RecordedEvent => ({ ...event, metadata: { ...event.metadata, occurredAt: 'not an instant' } });
  const project = (events: readonly RecordedEvent[]) =>
    new AuditProjection({ client: db.client, source: (after) => fromArray(events.filter((e) => e.position > after)) });

  it('a row ClickHouse refuses is quarantined, the others of its batch are inserted, the checkpoint passes it; a restart after a fix releases it', async () => {
    const [a, b, c] = history();
    const projection = project([a!, unparsable(b!), c!]);
    await projection.run();
    expect(await rows(db.client, 'SELECT event_id FROM audit_events ORDER BY position')).toEqual([{ event_id: a!.id }, { event_id: c!.id }]);
    expect((await projection.currentCheckpoint()).position).toBe(c!.position);
    expect(projection.metrics.quarantined).toBe(1);
    const [held] = await listQuarantined(db.client, 'audit_events');
    expect(held).toMatchObject({ position: b!.position, tenantId: 'acme', eventId: b!.id, type: 'GroupCreated' });
    expect(held!.error).toMatch(/Code: \d+/);

    // The cause fixed (here: the event reads well now), the next start inserts it and releases it.
    const restarted = project([a!, b!, c!]);
    await restarted.run();
    expect(await rows(db.client, 'SELECT event_id FROM audit_events ORDER BY position')).toEqual([a, b, c].map((e) => ({ event_id: e!.id })));
    expect(restarted.metrics.quarantined).toBe(0);
    expect(await listQuarantined(db.client, 'audit_events')).toEqual([]);
  });
});
