/**
 * The access log and X-Request-Id, through the real app on loopback: one entry per request, naming the key that
 * was presented (never its secret), the route and the tenant; text and JSON lines.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { formatAccessLog, type AccessLogEntry } from '../src/access-log/access-log.js';
import { openRaw } from './support/raw-socket.js';
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
    const res = await post(`${server.url}/v1/tenants/acme/commands`, server.key, createOrg('logged'), { 'x-request-id': 'req-42.a:b' });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-request-id')).toBe('req-42.a:b');
    const entry = await entryOf('req-42.a:b');
    const keyId = server.keys.authenticate(server.key)!.id;
    expect(entry).toMatchObject({
      method: 'POST',
      url: '/v1/tenants/acme/commands',
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

describe('a key in the URL: refused with 400 credentials-in-url, and never logged', () => {
  /** The request target as sent on the wire (fetch would normalize it, and drop a fragment). */
  async function get(target: string, authorization?: string): Promise<{ status: number; body: string; requestId: string }> {
    const raw = await openRaw(server.url);
    raw.socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${authorization ? `Authorization: ${authorization}\r\n` : ''}Connection: close\r\n\r\n`);
    const answer = await raw.response(5000);
    raw.socket.destroy();
    return { status: answer.status, body: answer.body, requestId: answer.headers['x-request-id']! };
  }

  test('in a query parameter of any name, in a path segment, after a #, %-encoded; with or without a valid Authorization header', async () => {
    const key = server.newKey('acme', ['audit:read']);
    const keyId = server.keys.authenticate(key)!.id;
    const secret = key.slice(`lk_${keyId}_`.length);
    const targets = [
      `/v1/tenants/acme/integrity?key=${key}`,
      `/v1/tenants/acme/integrity?api_key=${key}`,
      `/v1/tenants/acme/integrity?access_token=${key}`,
      `/v1/tenants/acme/audit/events?q=${key}&limit=1`,
      `/v1/tenants/acme/${key}/integrity`,
      `/v1/tenants/${key}/integrity`,
      `/docs#${key}`,
      `/no/such/route?x=${encodeURIComponent(key).replaceAll('_', '%5F')}`,
    ];
    for (const target of targets) {
      for (const authorization of [undefined, `Bearer ${server.key}`]) {
        const answer = await get(target, authorization);
        expect({ target, status: answer.status }).toEqual({ target, status: 400 });
        const body = JSON.parse(answer.body);
        expect(body).toMatchObject({ type: 'urn:access-ledger:problem:credentials-in-url', status: 400 });
        expect(body.detail).toContain('Authorization: Bearer <key>');
        const entry = await entryOf(answer.requestId);
        expect(entry.status).toBe(400);
        expect(entry.url).toContain(`lk_${keyId}_[redacted]`);
        for (const line of [JSON.stringify(entry), formatAccessLog(entry, 'json'), formatAccessLog(entry, 'text')]) expect(line).not.toContain(secret);
      }
    }
    expect(JSON.stringify(entries)).not.toContain(secret);
  });

  test('credential parameters are refused and emptied in the log whatever their value looks like', async () => {
    for (const name of ['key', 'api_key', 'access_token', 'token']) {
      const answer = await get(`/docs/openapi.json?${name}=hunter2-not-a-key-shape`);
      expect(answer.status).toBe(400);
      const entry = await entryOf(answer.requestId);
      expect(entry.url).toBe(`/docs/openapi.json?${name}=[redacted]`);
    }
    const encoded = await get('/docs/openapi.json?api%5Fkey=hunter2-encoded-name');
    expect(encoded.status).toBe(400);
    expect((await entryOf(encoded.requestId)).url).toBe('/docs/openapi.json?api_key=[redacted]');
    expect(JSON.stringify(entries)).not.toContain('hunter2');
  });

  test('a key in another header (X-Api-Key, Cookie): 400 credentials-outside-authorization naming the header', async () => {
    for (const [name, value] of [
      ['X-Api-Key', server.key],
      ['Cookie', `session=${server.key}`],
    ] as const) {
      const raw = await openRaw(server.url);
      raw.socket.write(`GET /v1/tenants/acme/integrity HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${server.key}\r\n${name}: ${value}\r\n\r\n`);
      const answer = await raw.response(5000);
      raw.socket.destroy();
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body)).toMatchObject({
        type: 'urn:access-ledger:problem:credentials-outside-authorization',
        detail: expect.stringContaining(name.toLowerCase()),
      });
    }
  });

  test('the same key in the Authorization header is accepted; another query parameter is an unknown parameter, not a credential', async () => {
    expect((await get('/v1/tenants/acme/integrity', `Bearer ${server.key}`)).status).toBe(200);
    const answer = await get('/v1/tenants/acme/integrity?verbose=1', `Bearer ${server.key}`);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({
      type: 'urn:access-ledger:problem:invalid-input',
      errors: [{ path: 'verbose', message: 'is not a parameter of this route, which takes none' }],
    });
  });
});
