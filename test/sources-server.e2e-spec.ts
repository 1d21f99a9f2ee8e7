/**
 * LEDGER_SOURCES_FILE: the server syncs the sources it lists in the background (backfill, baseline, then follow), shows
 * each one in /ready and /metrics, and stops them when it closes. A fake Compliance API on loopback.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeComplianceApi, type FakeComplianceApi } from '@access-ledger/sources';
import { composeServer, type ComposedServer } from '../apps/api/src/compose.js';
import { ApiKeyStore } from '../apps/api/src/keys/api-key-store.js';
import { SCOPES } from '../apps/api/src/keys/scopes.js';
import { QUIET, testConfig } from '../apps/api/test/support/test-server.js';

const ORG = 'abcdef01-2345-6789-abcd-ef0123456789';
const KEY = 'sk-ant-api01-server-sources';
const API_SCOPES = ['read:compliance_activities', 'read:compliance_org_data', 'read:compliance_user_data'];
const actor = { type: 'user_actor', user_id: 'olivia', email_address: 'olivia@acme.test', ip_address: '192.0.2.1', user_agent: 'x' };

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const joined = (id: string, userId: string, createdAt: string) => ({
  id,
  created_at: createdAt,
  organization_uuid: ORG,
  organization_id: 'org_1',
  actor,
  type: 'org_user_added',
  user_id: userId,
  email_address: `${userId}@acme.test`,
  role: 'user',
});

async function setup(apiKey = KEY, delayMs = 0): Promise<{ dir: string; api: FakeComplianceApi; sourcesFile: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sources-server-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const api = await startFakeComplianceApi({ keys: { [KEY]: API_SCOPES }, delayMs });
  cleanup.push(() => api.close());
  const many = Array.from({ length: 120 }, (_, i) =>
    joined(`activity_u${i}`, `u${i}`, new Date(Date.parse('2026-03-01T00:00:00Z') + i * 60_000).toISOString()),
  );
  api.add(many);
  api.setDirectory({
    organizations: [{ uuid: ORG, name: 'Acme' }],
    users: {
      [ORG]: [
        { id: 'olivia', email_address: 'olivia@acme.test', role: 'primary_owner' },
        ...many.map((a) => ({ id: a.user_id, email_address: a.email_address, role: 'user' })),
      ],
    },
    groups: [],
  });
  const keyFile = join(dir, 'compliance.key');
  writeFileSync(keyFile, `${apiKey}\n`, { mode: 0o600 });
  const sourcesFile = join(dir, 'sources.json');
  writeFileSync(
    sourcesFile,
    JSON.stringify({
      sources: [{ name: 'claude', kind: 'compliance-api', tenantId: 't1', keyFile, url: api.url, intervalSeconds: 1, pageSize: 10, batchSize: 20 }],
    }),
  );
  return { dir, api, sourcesFile };
}

async function start(dir: string, sourcesFile: string): Promise<{ server: ComposedServer; key: string; lines: string[] }> {
  const lines: string[] = [];
  const server = await composeServer(testConfig(dir, { LEDGER_SOURCES_FILE: sourcesFile }), { ...QUIET, readSide: false, write: (l) => lines.push(l) });
  cleanup.push(() => server.close());
  const key = server.app.get(ApiKeyStore).create({ tenantId: 't1', scopes: SCOPES }).key;
  return { server, key, lines };
}

async function ready(url: string): Promise<any> {
  return (await fetch(`${url}/ready`)).json();
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('LEDGER_SOURCES_FILE: sources synced by the server', () => {
  test('backfill, baseline, then follow in the background; /ready and /metrics show the source; the server answers meanwhile; close stops it', async () => {
    const { dir, api, sourcesFile } = await setup();
    const { server, key } = await start(dir, sourcesFile);
    // The server answers while the backfill runs.
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const first = await until('the first pass', async () => {
      const body = await ready(server.url);
      return body.sources?.claude?.passes >= 1 ? body.sources.claude : undefined;
    });
    expect(first).toEqual(expect.objectContaining({ kind: 'compliance-api', tenantId: 't1', phase: 'follow', lastError: null }));
    const access = (userId: string) =>
      fetch(`${server.url}/v1/tenants/t1/orgs/${ORG}/members/${userId}/access`, { headers: { authorization: `Bearer ${key}` } });
    expect((await access('u119')).status).toBe(200);
    expect((await access('olivia')).status).toBe(200); // from the baseline
    // Before the baseline: unknown (the organization predates the feed).
    const early = await fetch(`${server.url}/v1/tenants/t1/orgs/${ORG}/members/u0/access?at=2026-03-01T12:00:00Z`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(early.status).toBe(409);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('ledger_source_activities{source="claude",disposition="mapped"} 120');
    expect(metrics).toMatch(/ledger_source_last_sync_timestamp_seconds\{source="claude"\} \d+/);
    expect(metrics).toContain('ledger_source_failing{source="claude"} 0');
    // Following: a new activity is picked up by a later pass.
    api.add([joined('activity_late', 'late', new Date(Date.now() - 1000).toISOString())]);
    await until('the new member', async () => ((await access('late')).status === 200 ? true : undefined));
    // Closing stops the loop: no request reaches the API afterwards.
    await server.close();
    const after = api.requests.count;
    await new Promise((r) => setTimeout(r, 1500));
    expect(api.requests.count).toBe(after);
  }, 60_000);

  test('closing mid-backfill ends the pass at a page boundary at once; the next start resumes at the checkpoint, every activity once', async () => {
    const { dir, api, sourcesFile } = await setup(KEY, 40);
    const { server, lines } = await start(dir, sourcesFile);
    expect(lines).toContain('syncing 1 source(s) in the background: claude (/ready lists them)');
    await until('a few pages', async () => (api.requests.count >= 3 ? true : undefined));
    expect((await ready(server.url)).sources.claude).toEqual(expect.objectContaining({ state: 'syncing', phase: 'backfill', passes: 0 }));
    const closing = Date.now();
    await server.close();
    expect(Date.now() - closing).toBeLessThan(2000);
    const { server: again } = await start(dir, sourcesFile);
    await until('the resumed backfill', async () => ((await ready(again.url)).sources?.claude?.passes >= 1 ? true : undefined));
    const ids: string[] = [];
    for await (const e of again.core.store.readAll()) ids.push(e.id);
    expect(ids.filter((id) => id.startsWith('ca.'))).toHaveLength(120);
    expect(new Set(ids).size).toBe(ids.length);
  }, 60_000);

  test('a key the API refuses stops that source with the reason in /ready and /metrics; the server stays ready', async () => {
    const { dir, sourcesFile } = await setup('sk-ant-api01-unknown');
    const { server } = await start(dir, sourcesFile);
    const claude = await until('the source to stop', async () => {
      const body = await ready(server.url);
      return body.sources?.claude?.state === 'stopped' ? body : undefined;
    });
    expect(claude.status).toBe('ready');
    expect(claude.sources.claude.lastError).toMatch(/refused the key/);
    expect(claude.sources.claude.lastError).not.toContain('sk-ant-api01-unknown');
    expect(await (await fetch(`${server.url}/metrics`)).text()).toContain('ledger_source_failing{source="claude"} 1');
  }, 30_000);

  test('a bad sources file stops the start, naming the setting and every problem', async () => {
    const { dir, sourcesFile } = await setup();
    writeFileSync(
      sourcesFile,
      JSON.stringify({ sources: [{ name: 'claude', kind: 'scim', tenantId: 't1', keyFile: join(dir, 'missing.key'), pageSize: 5000 }] }),
    );
    await expect(composeServer(testConfig(dir, { LEDGER_SOURCES_FILE: sourcesFile }), { ...QUIET, readSide: false })).rejects.toThrow(
      new RegExp(`LEDGER_SOURCES_FILE ${sourcesFile} is invalid:\\n {2}sources\\.0\\.kind: .*\\n {2}sources\\.0\\.pageSize: `),
    );
    writeFileSync(sourcesFile, JSON.stringify({ sources: [{ name: 'claude', kind: 'compliance-api', tenantId: 't1', keyFile: join(dir, 'missing.key') }] }));
    await expect(composeServer(testConfig(dir, { LEDGER_SOURCES_FILE: sourcesFile }), { ...QUIET, readSide: false })).rejects.toThrow(
      /sources\.0\.keyFile: cannot read .*missing\.key: ENOENT/,
    );
  });
});
