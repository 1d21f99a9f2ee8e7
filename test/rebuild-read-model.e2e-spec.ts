/**
 * `ledger rebuild --read-model` (issue 12): the whole read model, or one tenant's rows only, projected again from
 * the event store by the compiled CLI (a child process, real SQLite store and chDB); interval tombstones purged.
 * Rows that no event explains (markers written straight into the table) show what a rebuild deleted and kept.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openClickHouse } from '@access-ledger/read-model';
import { LEDGER_CLI, runLedger } from './support/ledger-cli.js';

const ledger = (dir: string, ...args: string[]) => runLedger(dir, args, { LEDGER_URL: '', LEDGER_KEY: '' });

const line = (id: string, type: string, minute: number, data: object) =>
  JSON.stringify({ id, type, occurredAt: new Date(Date.UTC(2026, 0, 5, 10, minute)).toISOString(), actor: { kind: 'import' }, source: 'console_import', data });

const history = (prefix: string) =>
  [
    line(`${prefix}-org`, 'OrganizationCreated', 0, {
      orgId: `${prefix}-eng`,
      name: prefix,
      dualSeat: false,
      provisioningMode: 'invite_only',
      usageBased: false,
    }),
    line(`${prefix}-po`, 'MemberAdded', 1, { orgId: `${prefix}-eng`, userId: 'po', email: 'po@a.test', role: 'primary_owner' }),
    line(`${prefix}-u1`, 'MemberAdded', 2, { orgId: `${prefix}-eng`, userId: 'u1', email: 'u1@a.test', role: 'user' }),
  ].join('\n') + '\n';

/** Runs SQL on the data directory's chDB from this process (the CLI is not running then), and closes it. */
async function sql<T>(dir: string, statements: string[], query?: string): Promise<T[]> {
  const client = openClickHouse({ dataPath: join(dir, 'clickhouse') });
  try {
    for (const statement of statements) await client.command({ query: statement });
    return query ? await (await client.query({ query, format: 'JSONEachRow' })).json<T>() : [];
  } finally {
    await client.close();
  }
}

const MARKERS = [
  // A row of globex no event explains, and a key of globex whose last version is a tombstone.
  `INSERT INTO access_intervals (tenant_id, org_id, user_id, permission, level, valid_from, opened_by, version, is_deleted)
   VALUES ('globex', 'globex-eng', 'marker', 'capability:marker', 'granted', '2026-01-05 10:30:00', 'm-1', 1, 0),
          ('globex', 'globex-eng', 'ghost', 'capability:marker', 'granted', '2026-01-05 10:30:00', 'm-2', 1, 0),
          ('globex', 'globex-eng', 'ghost', 'capability:marker', 'granted', '2026-01-05 10:30:00', 'm-2', 2, 1),
          ('acme', 'acme-eng', 'marker', 'capability:marker', 'granted', '2026-01-05 10:30:00', 'm-3', 1, 0)`,
];

const rowsQuery = `SELECT tenant_id, user_id, permission, level, opened_by, is_deleted FROM access_intervals
                   ORDER BY tenant_id, user_id, permission, opened_by, is_deleted`;
type Row = { tenant_id: string; user_id: string; permission: string; level: string; opened_by: string; is_deleted: number };

describe('ledger rebuild --read-model', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rebuild-read-model-'));
  let projected: Row[];
  let audit: { acme: string; globex: string };

  beforeAll(async () => {
    if (!existsSync(LEDGER_CLI)) throw new Error(`${LEDGER_CLI} is missing: run npm run build first`);
    for (const tenant of ['acme', 'globex']) {
      writeFileSync(join(dir, `${tenant}.ndjson`), history(tenant));
      expect((await ledger(dir, 'import', join(dir, `${tenant}.ndjson`), '--tenant', tenant)).status).toBe(0);
    }
    const search = async (tenant: string) => (await ledger(dir, 'report', 'audit', '--tenant', tenant)).stdout; // also catches the read model up
    audit = { acme: await search('acme'), globex: await search('globex') };
    projected = await sql<Row>(dir, [], `${rowsQuery.replace('ORDER BY', 'WHERE NOT is_deleted ORDER BY')}`);
    expect(projected.length).toBeGreaterThan(4);
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("--tenant acme: acme's rows deleted and projected again, globex's untouched; tombstones purged; progress on stderr", async () => {
    await sql(dir, MARKERS);
    const run = await ledger(dir, 'rebuild', '--read-model', '--tenant', 'acme');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(
      /^rebuilt the read model of tenant acme up to position 6 in [\d.]+ s \(.*access_intervals \(acme\).*\); 1 interval tombstone\(s\) purged\n$/,
    );
    expect(run.stderr).toMatch(/access_intervals \(acme\): \d+\/7 positions/); // the progress lines (not a TTY: plain lines)
    const rows = await sql<Row>(dir, [], rowsQuery);
    // acme's marker is gone (its rows are what its events say); globex's marker stays; the tombstoned key is gone
    // entirely (its older version did not come back).
    expect(rows.filter((r) => r.user_id === 'ghost')).toEqual([]);
    expect(rows.filter((r) => r.is_deleted)).toEqual([]);
    expect(rows.filter((r) => r.user_id === 'marker').map((r) => r.tenant_id)).toEqual(['globex']);
    expect(rows.filter((r) => r.user_id !== 'marker')).toEqual(projected);
    // The audit trail of both: the same answers (acme's projected again, exactly once).
    expect((await ledger(dir, 'report', 'audit', '--tenant', 'acme')).stdout).toBe(audit.acme);
    expect((await ledger(dir, 'report', 'audit', '--tenant', 'globex')).stdout).toBe(audit.globex);
  }, 60_000);

  it('every tenant: both tables emptied and projected again (no marker left), the same answers', async () => {
    const run = await ledger(dir, 'rebuild', '--read-model');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(
      /^rebuilt the read model up to position 6 in [\d.]+ s \(audit_events [\d.]+ s, access_intervals [\d.]+ s, purge interval tombstones [\d.]+ s\); 0 interval tombstone\(s\) purged\n$/,
    );
    expect(await sql<Row>(dir, [], rowsQuery)).toEqual(projected);
    expect((await ledger(dir, 'report', 'audit', '--tenant', 'acme')).stdout).toBe(audit.acme);
    expect((await ledger(dir, 'report', 'audit', '--tenant', 'globex')).stdout).toBe(audit.globex);
  }, 60_000);

  it('--tenant without --read-model is refused (exit 2)', async () => {
    const run = await ledger(dir, 'rebuild', '--tenant', 'acme');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--tenant only applies with --read-model');
  });
});
