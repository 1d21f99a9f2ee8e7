import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore, tenantStream, type EventToAppend, type RecordedEvent } from '@access-ledger/event-store';
import { AuditProjection } from '../src/ingestion/audit-projection.js';
import { searchAuditEvents, AuditSearchQuery } from '../src/queries/audit-search.js';
import { BACKENDS, openFixture, rows, type ClickHouseFixture } from './clickhouse-fixture.js';

function memberAdded(i: number): EventToAppend {
  const at = new Date(Date.parse('2026-03-01T09:00:00.000Z') + i * 1000).toISOString();
  return {
    id: `live-${i}`,
    type: 'MemberAdded',
    data: { orgId: 'acme-eng', userId: `u-${i}`, email: `u${i}@acme.test`, role: 'user' },
    metadata: { tenantId: 'acme', occurredAt: at, recordedAt: at, actor: { kind: 'system' }, source: 'api', schemaVersion: 1 },
  };
}

async function until(condition: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((done) => setTimeout(done, 20));
  }
}

describe.each(BACKENDS)('audit projection fed live by the SQLite event store (%s)', (backend) => {
  let db: ClickHouseFixture;
  let store: SqliteEventStore;
  const dir = mkdtempSync(join(tmpdir(), 'read-model-live-'));
  beforeAll(async () => {
    db = await openFixture(backend);
    store = SqliteEventStore.open(join(dir, 'events.sqlite'), { pollIntervalMs: 20 });
  });
  afterAll(async () => {
    await store.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('catches up, follows live appends with the chain hash, reports lag, stops, and resumes from its checkpoint', async () => {
    await store.append(tenantStream('acme'), [0, 1, 2].map(memberAdded));
    const make = () =>
      new AuditProjection({
        client: db.client,
        source: (after) => store.subscribeToAll({ after }),
        headPosition: () => store.headPosition(),
        maxBatchSize: 100,
        maxBatchDelayMs: 20,
      });
    const projection = make();
    projection.start((error) => {
      throw error;
    });
    await until(() => projection.metrics.eventsProjected === 3);
    await store.append(tenantStream('acme'), [3, 4].map(memberAdded));
    await until(() => projection.metrics.eventsProjected === 5);
    expect(await projection.refreshLag()).toBe(0);
    await projection.stop();

    await store.append(tenantStream('acme'), [5, 6, 7].map(memberAdded));
    const resumed = make();
    expect(await resumed.refreshLag()).toBe(3);
    resumed.start((error) => {
      throw error;
    });
    await until(() => resumed.metrics.eventsProjected === 3);
    await resumed.stop();

    const [stats] = await rows<{ n: number; ids: number }>(db.client, 'SELECT count() AS n, uniqExact(event_id) AS ids FROM audit_events');
    expect(stats).toEqual({ n: 8, ids: 8 });
    const page = await searchAuditEvents(db.client, 'acme', AuditSearchQuery.parse({ limit: 1 }));
    let stored: RecordedEvent | undefined;
    for await (const event of store.readAll({ direction: 'backwards', maxCount: 1 })) stored = event;
    expect(page.events[0]).toMatchObject({ id: 'live-7', subject: 'u-7', hash: stored!.hash, position: stored!.position });
  });
});
