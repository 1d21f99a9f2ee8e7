import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { backendOf } from '../src/clickhouse.js';
import { openFixture, rows, SERVER_URL, type ClickHouseFixture } from './clickhouse-fixture.js';

/**
 * The server suite: with CLICKHOUSE_URL set, every read-model spec also runs against that server (describe.each
 * over BACKENDS in each file); this file checks the connection itself. Without it, it says so and skips.
 */
if (!SERVER_URL) {
  process.stdout.write('ClickHouse server suite skipped: set CLICKHOUSE_URL=http://user:password@host:8123 to run it\n');
}

(SERVER_URL ? describe : describe.skip)('ClickHouse server backend', () => {
  let db: ClickHouseFixture;
  beforeAll(async () => {
    db = await openFixture('server');
  });
  afterAll(async () => {
    await db?.close();
  });

  it('talks HTTP to the server, in its own database, with the migrations applied', async () => {
    expect(backendOf(db.client)).toBe('server');
    const [version] = await rows<{ v: string }>(db.client, 'SELECT version() AS v');
    expect(version!.v).toMatch(/^\d+\./);
    const tables = await rows<{ name: string }>(db.client, 'SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name');
    expect(tables.map((t) => t.name)).toEqual(['access_intervals', 'audit_events', 'projection_checkpoints', 'schema_migrations']);
  });
});
