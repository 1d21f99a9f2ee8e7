import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { encodeRows, insertRows, insertThroughClient } from '../src/clickhouse.js';
import { AUDIT_COLUMNS, auditLineOf } from '../src/ingestion/audit-row.js';
import { syntheticEvent } from './synthetic-history.js';
import { appliedMigrations, migrate, MIGRATIONS } from '../src/schema/migrations.js';
import { BACKENDS, openFixture, rows, type ClickHouseFixture } from './clickhouse-fixture.js';

describe.each(BACKENDS)('read-model schema migrations (%s)', (backend) => {
  let db: ClickHouseFixture;
  beforeAll(async () => {
    db = await openFixture(backend);
  });
  afterAll(async () => {
    await db.close();
  });

  it('records every migration once and applies nothing on a second start', async () => {
    expect(await appliedMigrations(db.client)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(await migrate(db.client)).toEqual([]);
    const tables = await rows<{ name: string }>(db.client, 'SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name');
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['access_intervals', 'audit_events', 'projection_checkpoints', 'schema_migrations']));
  });

  it('drops a re-insert carrying the same deduplication token, and only that one', async () => {
    const row = {
      tenant_id: 't',
      event_id: 'e1',
      position: 1,
      occurred_at: '2026-03-01T09:00:00.000Z',
      recorded_at: '2026-03-01T09:00:00.000Z',
      type: 'MemberAdded',
    };
    for (let i = 0; i < 2; i++) {
      await db.client.insert({
        table: 'audit_events',
        values: [row],
        format: 'JSONEachRow',
        clickhouse_settings: { insert_deduplication_token: 'dedup-test-1' },
      });
    }
    // No token: the default settings reset the token the previous call set on the session.
    await db.client.insert({ table: 'audit_events', values: [{ ...row, event_id: 'e2', position: 2 }], format: 'JSONEachRow' });
    const found = await rows<{ event_id: string; occurred_at: string }>(db.client, 'SELECT event_id, occurred_at FROM audit_events ORDER BY position');
    expect(found).toEqual([
      { event_id: 'e1', occurred_at: '2026-03-01T09:00:00.000Z' },
      { event_id: 'e2', occurred_at: '2026-03-01T09:00:00.000Z' },
    ]);
    await db.client.command({ query: 'TRUNCATE TABLE audit_events' });
  });

  it('the server insert path (exec with JSONCompactEachRow bytes) stores rows and honours the token, on every backend', async () => {
    const row = {
      tenant_id: 'path',
      event_id: 'p1',
      position: 1,
      occurred_at: '2026-03-01T09:00:00.000Z',
      recorded_at: '2026-03-01T09:00:00.000Z',
      type: 'MemberAdded',
      payload: '{"a":"it\'s \\ \\"q\\""}',
    };
    for (let i = 0; i < 2; i++) {
      await insertThroughClient(db.client, { table: 'audit_events', encoded: encodeRows([row]), deduplicationToken: 'path-test-1' });
    }
    await insertRows(db.client, { table: 'audit_events', rows: [{ ...row, event_id: 'p2', position: 2 }] });
    const found = await rows<{ event_id: string; payload: string }>(
      db.client,
      "SELECT event_id, payload FROM audit_events WHERE tenant_id = 'path' ORDER BY position",
    );
    expect(found).toEqual([
      { event_id: 'p1', payload: row.payload },
      { event_id: 'p2', payload: row.payload },
    ]);
    await expect(insertThroughClient(db.client, { table: 'audit_events; DROP TABLE x', encoded: encodeRows([row]) })).rejects.toThrow('not an identifier');
    await db.client.command({ query: 'TRUNCATE TABLE audit_events' });
  });

  it('the server insert path takes the audit projection’s lines (payload as the data object) and stores the payload text', async () => {
    const event = syntheticEvent(7);
    const data = { ...(event.data as object), name: 'quote " backslash \\ tab\t ✓' };
    const line = auditLineOf({ ...event, data, metadata: { ...event.metadata, tenantId: 'path-lines' } });
    await insertThroughClient(db.client, { table: 'audit_events', encoded: { columns: AUDIT_COLUMNS, body: Buffer.from(line), rows: 1 } });
    const found = await rows<{ payload: string }>(db.client, "SELECT payload FROM audit_events WHERE tenant_id = 'path-lines'");
    expect(found).toEqual([{ payload: JSON.stringify(data) }]);
    await db.client.command({ query: 'TRUNCATE TABLE audit_events' });
  });

  it('version 5 (access interval tombstones) applies over a read model at version 4 with intervals in it, and again harmlessly', async () => {
    // Back to version 4: access_intervals as version 2 created it (no is_deleted), one interval written then.
    await db.client.command({ query: 'DROP TABLE access_intervals' });
    await db.client.command({ query: 'TRUNCATE TABLE schema_migrations' });
    expect(
      await migrate(
        db.client,
        MIGRATIONS.filter((m) => m.version <= 4),
      ),
    ).toEqual([1, 2, 3, 4]);
    const columns = async () =>
      (await rows<{ name: string }>(db.client, "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = 'access_intervals'")).map(
        (c) => c.name,
      );
    expect(await columns()).not.toContain('is_deleted');
    const interval = {
      tenant_id: 't',
      org_id: 'o',
      user_id: 'u',
      permission: 'role:owner',
      level: 'owner',
      valid_from: '2026-01-01T00:00:00.000Z',
      opened_by: 'e1',
      version: 1,
    };
    await insertRows(db.client, { table: 'access_intervals', rows: [interval] });

    expect(
      await migrate(
        db.client,
        MIGRATIONS.filter((m) => m.version <= 5),
      ),
    ).toEqual([5]);
    expect(await columns()).toContain('is_deleted');
    // The interval written before is no tombstone: the readers' NOT is_deleted keeps it.
    expect(await rows(db.client, 'SELECT user_id, permission, is_deleted FROM access_intervals FINAL WHERE NOT is_deleted')).toEqual([
      { user_id: 'u', permission: 'role:owner', is_deleted: 0 },
    ]);
    for (const statement of MIGRATIONS.find((m) => m.version === 5)!.statements) await db.client.command({ query: statement });
    expect(await migrate(db.client)).toEqual(MIGRATIONS.filter((m) => m.version > 5).map((m) => m.version));
    expect(await appliedMigrations(db.client)).toEqual(MIGRATIONS.map((m) => m.version));
    await db.client.command({ query: 'TRUNCATE TABLE access_intervals' });
  });
});
