/**
 * The access log and X-Request-Id, through the real app on loopback: one entry per request, naming the key that
 * was presented (never its secret), the route and the tenant; text and JSON lines.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { formatAccessLog, type AccessLogEntry } from '../src/access-log/access-log.js';
import { createOrg, post, startTestServer, type TestServer } from './support/test-server.js';

let server: TestServer;
const entries: AccessLogEntry[] = [];

/** The entry of the request whose answer carried `requestId` (the hook runs once the answer is sent). */
async function entryOf(requestId: string): Promise<AccessLogEntry> {
  for (let i = 0; i < 100; i++) {
    const entry = entries.find((e) => e.requestId === requestId);
    if (entry) return entry;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no access log entry for ${requestId}`);
}

beforeAll(async () => {
  server = await startTestServer({ accessLog: (e) => entries.push(e) });
});
afterAll(async () => server?.close());

describe('access log', () => {
  test('a command: its request id (the caller’s) on the answer and on one entry with route, tenant, key id, status and time', async () => {
    const res = await post(`${server.url}/v1/tenants/acme/commands?dryRun=no`, server.key, createOrg('logged'), { 'x-request-id': 'req-42.a:b' });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-request-id')).toBe('req-42.a:b');
    const entry = await entryOf('req-42.a:b');
    const keyId = server.keys.authenticate(server.key)!.id;
    expect(entry).toMatchObject({
      method: 'POST',
      url: '/v1/tenants/acme/commands?dryRun=no',
      route: '/v1/tenants/:tenantId/commands',
      status: 201,
      tenantId: 'acme',
      keyId,
      remote: '127.0.0.1',
    });
    expect(entry.ms).toBeGreaterThanOrEqual(0);
    expect(Date.parse(entry.time)).not.toBeNaN();
  });

  test('a request id that is not a sane token is replaced by a fresh UUID', async () => {
    for (const bad of ['has space', 'x'.repeat(129), 'semi;colon']) {
      const res = await fetch(`${server.url}/docs/openapi.json`, { headers: { 'x-request-id': bad } });
      const id = res.headers.get('x-request-id')!;
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect((await entryOf(id)).route).toBe('/docs/openapi.json');
    }
  });

  test('probes and scrapes that succeed are not logged (they come every few seconds); they still get a request id', async () => {
    for (const path of ['/health', '/ready', '/metrics']) {
      const res = await fetch(`${server.url}${path}`, { headers: { 'x-request-id': `probe${path.replace('/', '-')}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-request-id')).toBe(`probe${path.replace('/', '-')}`);
    }
    const marker = await fetch(`${server.url}/no/such/route`, { headers: { 'x-request-id': 'after-probes' } });
    await entryOf(marker.headers.get('x-request-id')!);
    expect(entries.filter((e) => e.requestId.startsWith('probe-'))).toEqual([]);
  });

  test('refusals are logged with who tried: no key → no key id (401); a valid key of another tenant → its id (403); unknown route → route null', async () => {
    const anonymous = await post(`${server.url}/v1/tenants/acme/commands`, undefined, createOrg('nope'));
    expect(anonymous.status).toBe(401);
    expect(await entryOf(anonymous.headers.get('x-request-id')!)).toMatchObject({ status: 401, keyId: null, tenantId: 'acme' });

    const other = server.newKey('globex', ['commands:write']);
    const forbidden = await post(`${server.url}/v1/tenants/acme/commands`, other, createOrg('nope'));
    expect(forbidden.status).toBe(403);
    expect(await entryOf(forbidden.headers.get('x-request-id')!)).toMatchObject({ status: 403, keyId: server.keys.authenticate(other)!.id });

    const missing = await fetch(`${server.url}/no/such/route`);
    expect(missing.status).toBe(404);
    expect(await entryOf(missing.headers.get('x-request-id')!)).toMatchObject({ status: 404, route: null });
  });

  test('no entry holds a key’s secret or the Authorization header', async () => {
    await fetch(`${server.url}/v1/tenants/acme/integrity`, { headers: { authorization: `Bearer ${server.key}` } });
    const all = JSON.stringify(entries);
    expect(all).not.toContain(server.key);
    expect(all.toLowerCase()).not.toContain('bearer');
  });

  test('lines: LOG_FORMAT=json is one JSON object with level and msg; text is readable on one line', () => {
    const entry = entries[0]!;
    const json = JSON.parse(formatAccessLog(entry, 'json'));
    expect(json).toMatchObject({ level: 'info', msg: 'request', ...entry });
    const text = formatAccessLog(entry, 'text');
    expect(text).not.toContain('\n');
    expect(text).toContain(`${entry.method} ${entry.url} ${entry.status}`);
    expect(text).toContain(`req=${entry.requestId}`);
  });
});
