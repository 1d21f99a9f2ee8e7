import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createGroup, createOrg, post, startTestServer, type TestServer } from './support/test-server.js';

let server: TestServer;
const commandsUrl = (tenant = 'acme') => `${server.url}/v1/tenants/${tenant}/commands`;

async function expectProblem(response: Response, status: number): Promise<Record<string, unknown>> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = (await response.json()) as Record<string, unknown>;
  expect(body).toEqual(expect.objectContaining({ type: expect.any(String), title: expect.any(String), status, detail: expect.any(String) }));
  return body;
}

beforeAll(async () => {
  server = await startTestServer({ bodyLimits: { commandBytes: 64 * 1024, importBytes: 256 * 1024 } });
  expect((await post(commandsUrl(), server.key, createOrg('acme-eng'))).status).toBe(201);
});
afterAll(() => server.close());

describe('authentication and tenancy', () => {
  it('answers 401 problem+json without a key, with a malformed key and with an unknown key', async () => {
    await expectProblem(await post(commandsUrl(), undefined, createGroup('g-x')), 401);
    await expectProblem(await post(commandsUrl(), 'not-a-key', createGroup('g-x')), 401);
    const unknown = `lk_${'0'.repeat(16)}_${'A'.repeat(43)}`;
    await expectProblem(await post(commandsUrl(), unknown, createGroup('g-x')), 401);
  });

  it('answers 401 for a revoked key', async () => {
    const created = server.keys.create({ tenantId: 'acme', scopes: ['commands:write'] });
    expect(server.keys.revoke(created.id)).toBe(true);
    await expectProblem(await post(commandsUrl(), created.key, createGroup('g-x')), 401);
  });

  it('answers the same 403 "not valid for this tenant" for another tenant, whether or not that tenant exists, naming no scope', async () => {
    const otherKey = server.newKey('globex', ['commands:write']);
    expect((await post(commandsUrl('globex'), otherKey, createOrg('globex-hq'))).status).toBe(201);
    const existing = await expectProblem(await post(commandsUrl('globex'), server.key, createGroup('g-1')), 403);
    const missing = await expectProblem(await post(commandsUrl('no-such-tenant'), server.key, createGroup('g-1')), 403);
    expect(missing).toEqual(existing);
    expect(existing.detail).toMatch(/not valid for this tenant/);
    // The key has every scope: naming one would send the caller looking for the wrong fix.
    expect(existing.detail).not.toMatch(/scope/);
    const read = (tenant: string) => fetch(`${server.url}/v1/tenants/${tenant}/integrity`, { headers: { authorization: `Bearer ${server.key}` } });
    const readExisting = await expectProblem(await read('globex'), 403);
    expect(await expectProblem(await read('no-such-tenant'), 403)).toEqual(readExisting);
    expect(readExisting.detail).toBe(existing.detail);
  });

  it('answers 403 naming the scope for a key of this tenant without it', async () => {
    const readOnly = server.newKey('acme', ['access:read']);
    const noScope = await expectProblem(await post(commandsUrl(), readOnly, createGroup('g-1')), 403);
    expect(noScope.type).toBe('urn:access-ledger:problem:forbidden');
    expect(noScope.detail).toMatch(/needs scope commands:write/);
    const before = await server.events();
    await expectProblem(await post(`${server.url}/v1/tenants/acme/events:import`, readOnly, '', { 'content-type': 'application/x-ndjson' }), 403);
    expect(await server.events()).toBe(before);
  });

  it('stores only a hash of the key', async () => {
    const created = server.keys.create({ tenantId: 'acme', scopes: ['audit:read'] });
    const { DatabaseSync } = await import('node:sqlite');
    const db = new DatabaseSync(`${server.dataDir}/api.sqlite`, { readOnly: true });
    const dump = JSON.stringify(db.prepare('SELECT * FROM api_keys').all(), (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
    db.close();
    expect(dump).not.toContain(created.key.slice(-43));
  });
});

describe('commands', () => {
  it('appends and answers 201 with the events', async () => {
    const response = await post(commandsUrl(), server.key, createGroup('g-eng'));
    expect(response.status).toBe(201);
    const body = (await response.json()) as { events: { id: string; type: string; position: number }[] };
    expect(body.events).toEqual([{ id: expect.any(String), type: 'GroupCreated', position: expect.any(Number) }]);
  });

  it('R24/R62: a refused command answers 403 problem+json with the rule, and records AccessChangeDenied', async () => {
    const before = await server.events();
    const response = await post(commandsUrl(), server.key, { ...createOrg('acme-sales'), actor: { kind: 'platform' } });
    const body = await expectProblem(response, 403);
    expect(body.rule).toBe('R24');
    expect(body.events).toEqual([expect.objectContaining({ type: 'AccessChangeDenied' })]);
    expect(await server.events()).toBe(before + 1);
  });

  it('R62: an invariant violation answers 409 problem+json with the rule, and appends nothing', async () => {
    const before = await server.events();
    const body = await expectProblem(await post(commandsUrl(), server.key, createOrg('acme-eng')), 409);
    expect(body.rule).toEqual(expect.stringMatching(/^R\d+$/));
    expect(await server.events()).toBe(before);
  });

  it('answers 400 listing every failing field, and appends nothing', async () => {
    const before = await server.events();
    const response = await post(commandsUrl(), server.key, { type: 'CreateGroup', actor: { kind: 'system' }, payload: { groupId: '', name: 7 } });
    const body = await expectProblem(response, 400);
    const paths = (body.errors as { path: string }[]).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['payload.groupId', 'payload.name', 'payload.source']));
    expect(await server.events()).toBe(before);
  });

  it('answers 400 problem+json for malformed JSON and for prototype-pollution keys', async () => {
    const syntax = await expectProblem(await post(commandsUrl(), server.key, '{"type": '), 400);
    expect(syntax.errors).toEqual([{ path: '', message: expect.stringMatching(/JSON/) }]);
    const proto = await expectProblem(await post(commandsUrl(), server.key, '{"type":"CreateGroup","payload":{"__proto__": {"admin": true}}}'), 400);
    expect(proto.errors).toEqual([{ path: '__proto__', message: expect.stringMatching(/prototype pollution/) }]);
    await expectProblem(await post(commandsUrl(), server.key, '{"constructor": {"prototype": {"admin": true}}}'), 400);
    await expectProblem(await post(commandsUrl(), server.key, ''), 400);
  });

  it('answers 415 for a wrong content type and 404 problem+json for an unknown route', async () => {
    await expectProblem(await post(commandsUrl(), server.key, 'x', { 'content-type': 'text/xml' }), 415);
    await expectProblem(await post(commandsUrl(), server.key, 'x=1', { 'content-type': 'application/x-ndjson' }), 415);
    await expectProblem(await fetch(`${server.url}/v1/nothing-here`), 404);
  });

  it('answers 413 for a body over the limit', async () => {
    const huge = { ...createGroup('g-big'), payload: { groupId: 'g-big', name: 'x'.repeat(100 * 1024), source: 'manual' } };
    await expectProblem(await post(commandsUrl(), server.key, huge), 413);
  });

  it('If-Match: two writers racing with the same revision get one 201 and one 409', async () => {
    const revision = (await server.events()) - 1;
    const [a, b] = await Promise.all([
      post(commandsUrl(), server.key, createGroup('g-race-a'), { 'if-match': `"${revision}"` }),
      post(commandsUrl(), server.key, createGroup('g-race-b'), { 'if-match': `"${revision}"` }),
    ]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    await expectProblem(a.status === 409 ? a : b, 409);
    await expectProblem(await post(commandsUrl(), server.key, createGroup('g-c'), { 'if-match': 'yesterday' }), 400);
  });

  it('the integrity ETag is the revision to send as If-Match', async () => {
    const response = await fetch(`${server.url}/v1/tenants/acme/integrity`, { headers: { authorization: `Bearer ${server.key}` } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { events: number; valid: boolean };
    expect(body.valid).toBe(true);
    expect(response.headers.get('etag')).toBe(`"${body.events - 1}"`);
    expect((await post(commandsUrl(), server.key, createGroup('g-etag'), { 'if-match': response.headers.get('etag')! })).status).toBe(201);
  });
});

describe('idempotency keys', () => {
  it('the same key returns the first answer (status and body) and appends once', async () => {
    const command = { ...createGroup('g-idem'), idempotencyKey: 'idem-1' };
    const first = await post(commandsUrl(), server.key, command);
    const firstBody = await first.json();
    const before = await server.events();
    const second = await post(commandsUrl(), server.key, command);
    expect(second.status).toBe(first.status);
    expect(await second.json()).toEqual(firstBody);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(await server.events()).toBe(before);
  });

  it('keys are per tenant', async () => {
    const otherKey = server.newKey('initech', ['commands:write']);
    expect((await post(commandsUrl('initech'), otherKey, { ...createOrg('initech-hq'), idempotencyKey: 'idem-1' })).status).toBe(201);
  });

  it('concurrent duplicates execute once', async () => {
    const before = await server.events();
    const command = { ...createGroup('g-dup'), idempotencyKey: 'idem-concurrent' };
    const answers = await Promise.all(Array.from({ length: 8 }, () => post(commandsUrl(), server.key, command)));
    const bodies = await Promise.all(answers.map((r) => r.json()));
    expect(answers.map((r) => r.status)).toEqual(Array(8).fill(201));
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
    expect(await server.events()).toBe(before + 1);
  });
});

describe('imports', () => {
  const line = (id: string, groupId: string) =>
    JSON.stringify({
      id,
      type: 'GroupCreated',
      occurredAt: '2026-01-01T00:00:00.000Z',
      actor: { kind: 'import' },
      source: 'console_import',
      data: { groupId, name: groupId, source: 'manual' },
    });
  const ndjson = (body: string) => post(`${server.url}/v1/tenants/acme/events:import`, server.key, body, { 'content-type': 'application/x-ndjson' });

  it('appends NDJSON lines and answers {appended, skipped}', async () => {
    const response = await ndjson(`${line('imp-1', 'g-imp-1')}\n${line('imp-2', 'g-imp-2')}\n`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ appended: 2, skipped: 0 });
  });

  it('reports failing lines by number and stores nothing', async () => {
    const before = await server.events();
    const body = await expectProblem(await ndjson(`${line('imp-3', 'g-imp-3')}\n{"id": 5}\nnot json\n`), 400);
    const paths = (body.errors as { path: string }[]).map((e) => e.path).join(' ');
    expect(paths).toMatch(/line 2/);
    expect(paths).toMatch(/line 3/);
    expect(await server.events()).toBe(before);
  });

  it('answers 400 invalid-import for lines failing the schema and 409 import-reference-error for unknown references', async () => {
    const invalid = await expectProblem(await ndjson(`{"id": 5}\n`), 400);
    expect(invalid).toMatchObject({ type: 'urn:access-ledger:problem:invalid-import', detail: 'Some lines failed validation; nothing was imported.' });
    const before = await server.events();
    const unknownGroup = JSON.stringify({
      id: 'imp-ref',
      type: 'UserAddedToGroup',
      occurredAt: '2026-01-01T00:00:01.000Z',
      actor: { kind: 'import' },
      source: 'console_import',
      data: { groupId: 'no-such-group', userId: 'nobody' },
    });
    const conflict = await expectProblem(await ndjson(`${line('imp-4', 'g-imp-4')}\n${unknownGroup}\n`), 409);
    expect(conflict).toMatchObject({
      type: 'urn:access-ledger:problem:import-reference-error',
      detail: 'Some lines refer to things that do not exist; nothing was imported.',
      errors: [{ path: expect.stringMatching(/^line 2/) }],
    });
    expect(await server.events()).toBe(before);
  });

  it('refuses JSON on the import route (415) and bodies over the import limit (413)', async () => {
    await expectProblem(await post(`${server.url}/v1/tenants/acme/events:import`, server.key, {}), 415);
    await expectProblem(await ndjson(`${line('imp-big', 'x'.repeat(300 * 1024))}\n`), 413);
  });
});

describe('operations', () => {
  it('/health and /ready answer 200', async () => {
    expect(await (await fetch(`${server.url}/health`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${server.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual(expect.objectContaining({ status: 'ready', eventStore: true, readModel: true }));
  });

  it('/metrics exposes the request histogram by route and status, and commands by type and outcome', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/ledger_http_request_duration_seconds_count\{method="POST",route="\/v1\/tenants\/:tenantId\/commands",status="201"\} \d+/);
    expect(text).toMatch(/ledger_commands_total\{type="CreateGroup",outcome="appended"\} \d+/);
    expect(text).toMatch(/ledger_commands_total\{type="CreateGroup",outcome="replayed"\} \d+/);
    expect(text).toMatch(/^ledger_projection_lag_events \d+$/m);
  });

  it('/docs/openapi.json is OpenAPI 3.1 with the command schemas; /docs renders it', async () => {
    const doc = (await (await fetch(`${server.url}/docs/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: { schemas: Record<string, { oneOf?: unknown[]; anyOf?: unknown[] }> };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/tenants/{tenantId}/commands', '/v1/tenants/{tenantId}/events:import', '/v1/tenants/{tenantId}/integrity']),
    );
    const commandBody = doc.components.schemas.CommandBody!;
    expect((commandBody.oneOf ?? commandBody.anyOf ?? []).length).toBeGreaterThanOrEqual(40);
    expect(doc.components.schemas['EventData.UserAddedToGroup']).toBeDefined();
    expect(JSON.stringify(doc)).not.toContain('#/$defs/');
    const page = await fetch(`${server.url}/docs`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('/v1/tenants/{tenantId}/commands');
  });
});
