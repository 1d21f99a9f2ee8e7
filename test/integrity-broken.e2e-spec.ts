import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SCOPES } from '../apps/api/src/keys/scopes.js';
import { createGroup, post, startTestServer, type TestServer } from '../apps/api/test/support/test-server.js';

/**
 * A chain whose rows were edited or deleted is neither served as valid nor extended. The tail of
 * every tenant stream is verified at start, the whole chains in the background; the broken tenant's writes answer
 * 503 integrity-broken naming where, other tenants keep writing, /ready names the tenant.
 */
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A data directory with 30 events for tenant acme and 3 for globex; returns it and the keys. */
async function history(): Promise<{ dataDir: string; acme: string; globex: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-tamper-'));
  dirs.push(dataDir);
  const server = await startTestServer({ dataDir });
  const globex = server.newKey('globex', SCOPES);
  for (let i = 0; i < 30; i++) expect((await post(`${server.url}/v1/tenants/acme/commands`, server.key, createGroup(`g-${i}`))).status).toBe(201);
  for (let i = 0; i < 3; i++) expect((await post(`${server.url}/v1/tenants/globex/commands`, globex, createGroup(`x-${i}`))).status).toBe(201);
  const acme = server.key;
  await server.close({ keepDataDir: true });
  return { dataDir, acme, globex };
}

function tamper(dataDir: string, sql: string): void {
  const db = new DatabaseSync(join(dataDir, 'events.sqlite'));
  try {
    expect(Number(db.prepare(sql).run().changes)).toBe(1);
  } finally {
    db.close();
  }
}

async function expectRefused(server: TestServer, key: string, revision: number): Promise<void> {
  const response = await post(`${server.url}/v1/tenants/acme/commands`, key, createGroup('after-tamper'));
  expect(response.status).toBe(503);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = (await response.json()) as { type: string; detail: string };
  expect(body.type).toBe('urn:access-ledger:problem:integrity-broken');
  expect(body.detail).toContain('stream tenant-acme');
  expect(body.detail).toMatch(new RegExp(`revision ${revision} \\(position \\d+\\)`));
  expect(body.detail).toMatch(/ledger restore/);
  const imported = await fetch(`${server.url}/v1/tenants/acme/events:import`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-ndjson' },
    body: `${JSON.stringify({ id: 'imp-1', type: 'GroupCreated', occurredAt: '2026-01-01T00:00:00.000Z', actor: { kind: 'system' }, source: 'api', data: { groupId: 'imp', name: 'Imp', source: 'manual' } })}\n`,
  });
  expect(imported.status).toBe(503);
  expect(((await imported.json()) as { type: string }).type).toBe('urn:access-ledger:problem:integrity-broken');
}

async function expectOthersWrite(server: TestServer, globex: string): Promise<void> {
  expect((await post(`${server.url}/v1/tenants/globex/commands`, globex, createGroup('x-after'))).status).toBe(201);
  const ready = await fetch(`${server.url}/ready`);
  expect(ready.status).toBe(503);
  expect(((await ready.json()) as { detail: string }).detail).toMatch(/Integrity broken for tenant acme \(stream tenant-acme/);
  expect(await (await fetch(`${server.url}/metrics`)).text()).toMatch(/^ledger_integrity_broken_tenants 1$/m);
}

describe('a broken chain is neither served as valid nor extended', () => {
  it('an edited row near the tail: found at start, acme writes 503 integrity-broken naming the revision, globex writes 201, /ready 503', async () => {
    const { dataDir, acme, globex } = await history();
    tamper(dataDir, `UPDATE events SET data = replace(data, 'Group g-25', 'Group g-X') WHERE stream_id = 'tenant-acme' AND revision = 25`);
    const server = await startTestServer({ dataDir });
    try {
      await expectRefused(server, acme, 25);
      await expectOthersWrite(server, globex);
      expect(await server.events('acme')).toBe(25); // the walk stops at the edit; nothing was chained onto it
    } finally {
      await server.close({ keepDataDir: true });
    }
  });

  it('a deleted middle row: the next row is reported (its revision does not follow)', async () => {
    const { dataDir, acme, globex } = await history();
    tamper(dataDir, `DELETE FROM events WHERE stream_id = 'tenant-acme' AND revision = 20`);
    const server = await startTestServer({ dataDir });
    try {
      await expectRefused(server, acme, 21);
      await expectOthersWrite(server, globex);
    } finally {
      await server.close({ keepDataDir: true });
    }
  });

  it('an edit far from the tail passes the start check and is caught by the background walk of the whole chain', async () => {
    const { dataDir, acme, globex } = await history();
    tamper(dataDir, `UPDATE events SET data = replace(data, 'Group g-2', 'Group g-Y') WHERE stream_id = 'tenant-acme' AND revision = 2`);
    const server = await startTestServer({ dataDir, ledgerOptions: { verifyTailEvents: 5 } });
    try {
      const deadline = Date.now() + 20_000;
      while ((await fetch(`${server.url}/ready`)).status === 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await expectRefused(server, acme, 2);
      await expectOthersWrite(server, globex);
    } finally {
      await server.close({ keepDataDir: true });
    }
  });
});
