/**
 * Discovery (discovery, docs/api.md § Routes): the organizations, members and catalog a client may ask about, and one stored
 * event by id — over HTTP on the real server (embedded SQLite store, real projection), with the OpenAPI document.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { composeServer } from '../apps/api/src/compose.js';
import { ApiKeyStore } from '../apps/api/src/keys/api-key-store.js';
import { SCOPES } from '../apps/api/src/keys/scopes.js';
import { QUIET, testConfig } from '../apps/api/test/support/test-server.js';

let app: NestFastifyApplication;
let url: string;
let dataDir: string;
const keys: Record<string, string> = {};

const T1 = '2026-01-05T10:00:00.000Z';
const T2 = '2026-02-01T10:00:00.000Z';
const T3 = '2026-03-01T10:00:00.000Z';

async function command(tenant: string, type: string, payload: object, occurredAt: string): Promise<{ eventId: string }> {
  const res = await fetch(`${url}/v1/tenants/${tenant}/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${keys[tenant]}` },
    body: JSON.stringify({ type, actor: { kind: 'system' }, payload, occurredAt }),
  });
  const body = (await res.json()) as { events?: { eventId?: string; id?: string }[] };
  if (res.status !== 201) throw new Error(`${type} → ${res.status} ${JSON.stringify(body)}`);
  const first = body.events?.[0];
  return { eventId: String(first?.eventId ?? first?.id) };
}

async function get(path: string, key = keys['acme']): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, body: await res.json() };
}

let created: { eventId: string };
let otherTenantEvent: { eventId: string };

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'discovery-'));
  ({ app, url } = await composeServer(testConfig(dataDir), { ...QUIET, readSide: false }));
  const store = app.get(ApiKeyStore);
  keys['acme'] = store.create({ tenantId: 'acme', scopes: SCOPES }).key;
  keys['globex'] = store.create({ tenantId: 'globex', scopes: SCOPES }).key;
  keys['reader'] = store.create({ tenantId: 'acme', scopes: ['access:read'] }).key;
  keys['auditor'] = store.create({ tenantId: 'acme', scopes: ['audit:read'] }).key;

  created = await command(
    'acme',
    'CreateOrganization',
    { orgId: 'eng', name: 'Engineering', dualSeat: false, provisioningMode: 'scim', usageBased: false },
    T1,
  );
  await command('acme', 'AddMember', { orgId: 'eng', userId: 'po', email: 'po@acme.test', role: 'primary_owner' }, T1);
  for (const [userId, role] of [
    ['u-03', 'user'],
    ['u-01', 'admin'],
    ['u-02', 'custom'],
    ['u-04', 'user'],
  ] as const)
    await command('acme', 'AddMember', { orgId: 'eng', userId, email: `${userId}@acme.test`, role }, T1);
  await command('acme', 'SuspendMember', { orgId: 'eng', userId: 'u-04' }, T2);
  await command('acme', 'AddConnector', { orgId: 'eng', connectorId: 'github', name: 'GitHub', tools: ['create_issue', 'merge_pr'] }, T1);
  await command('acme', 'RemoveConnectorTools', { orgId: 'eng', connectorId: 'github', tools: ['merge_pr'] }, T2);
  await command('acme', 'CreateRole', { orgId: 'eng', roleId: 'r-dev', name: 'Developers' }, T1);
  await command('acme', 'SetOrganizationCapability', { orgId: 'eng', capability: 'claude_code', enabled: false }, T1);
  await command('acme', 'CreateOrganization', { orgId: 'sales', name: 'Sales', dualSeat: true, provisioningMode: 'invite_only', usageBased: false }, T3);
  otherTenantEvent = await command(
    'globex',
    'CreateOrganization',
    { orgId: 'hq', name: 'HQ', dualSeat: false, provisioningMode: 'jit', usageBased: false },
    T1,
  );
});

afterAll(async () => {
  await app?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('GET /v1/tenants/{t}/orgs', () => {
  test("the tenant's organizations at an instant, sorted; another tenant's are not listed", async () => {
    const now = await get('/v1/tenants/acme/orgs');
    expect(now.status).toBe(200);
    expect(now.body.orgs).toEqual([
      { orgId: 'eng', name: 'Engineering', dualSeat: false, usageBased: false, provisioningMode: 'scim', createdAt: T1 },
      { orgId: 'sales', name: 'Sales', dualSeat: true, usageBased: false, provisioningMode: 'invite_only', createdAt: T3 },
    ]);
    const before = await get(`/v1/tenants/acme/orgs?at=2026-02-15`);
    expect(before.body).toEqual({ at: '2026-02-15T00:00:00.000Z', orgs: [expect.objectContaining({ orgId: 'eng' })] });
    expect((await get('/v1/tenants/globex/orgs', keys['globex'])).body.orgs.map((o: any) => o.orgId)).toEqual(['hq']);
  });

  test('a bad instant or an unknown parameter is a 400 naming it; another scope is a 403', async () => {
    const bad = await get('/v1/tenants/acme/orgs?at=2026-13-01');
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: any) => e.path)).toEqual(['at']);
    const unknown = await get('/v1/tenants/acme/orgs?att=2026-02-01');
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body.errors)).toContain('att');
    expect((await get('/v1/tenants/acme/orgs', keys['auditor'])).status).toBe(403);
    expect((await get('/v1/tenants/acme/orgs', keys['reader'])).status).toBe(200);
  });
});

describe('GET /v1/tenants/{t}/orgs/{o}/members', () => {
  test('sorted by userId, with role, seat, status and email; filters by status, role and q', async () => {
    const all = await get('/v1/tenants/acme/orgs/eng/members');
    expect(all.status).toBe(200);
    expect(all.body.members.map((m: any) => m.userId)).toEqual(['po', 'u-01', 'u-02', 'u-03', 'u-04']);
    expect(all.body.members[4]).toEqual({ userId: 'u-04', email: 'u-04@acme.test', role: 'user', seat: null, status: 'suspended' });
    expect(all.body.nextCursor).toBeNull();
    expect((await get('/v1/tenants/acme/orgs/eng/members?status=suspended')).body.members.map((m: any) => m.userId)).toEqual(['u-04']);
    expect((await get('/v1/tenants/acme/orgs/eng/members?role=user&status=active')).body.members.map((m: any) => m.userId)).toEqual(['u-03']);
    expect((await get('/v1/tenants/acme/orgs/eng/members?q=U-0')).body.members.map((m: any) => m.userId)).toEqual(['u-01', 'u-02', 'u-03', 'u-04']);
    // At an earlier instant u-04 was still active.
    expect((await get(`/v1/tenants/acme/orgs/eng/members?status=suspended&at=${T1}`)).body.members).toEqual([]);
  });

  test('pages of `limit` follow nextCursor to the end, each member once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { status: number; body: any } = await get(`/v1/tenants/acme/orgs/eng/members?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.members.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.members.map((m: any) => m.userId));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(seen).toEqual(['po', 'u-01', 'u-02', 'u-03', 'u-04']);
    expect(pages).toBe(3);
  });

  test('an unknown organization is a 404; bad filters are a 400 naming the valid values', async () => {
    const unknown = await get('/v1/tenants/acme/orgs/nope/members');
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toContain('nope');
    expect((await get(`/v1/tenants/acme/orgs/sales/members?at=${T2}`)).status).toBe(404); // not created yet then
    expect((await get('/v1/tenants/globex/orgs/eng/members', keys['globex'])).status).toBe(404);
    const bad = await get('/v1/tenants/acme/orgs/eng/members?status=gone&role=boss&limit=0');
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: any) => e.path).sort()).toEqual(['limit', 'role', 'status']);
    expect(JSON.stringify(bad.body.errors)).toContain('suspended');
  });
});

describe('GET /v1/tenants/{t}/orgs/{o}/catalog', () => {
  test('capabilities with their switch, connectors with their tools, custom roles, admin areas and levels at an instant', async () => {
    const now = await get('/v1/tenants/acme/orgs/eng/catalog');
    expect(now.status).toBe(200);
    expect(now.body.capabilities).toContainEqual({ capability: 'claude_code', enabled: false, platformDisabled: false });
    expect(now.body.capabilities).toContainEqual({ capability: 'chat', enabled: true, platformDisabled: false });
    expect(now.body.connectors).toEqual([{ connectorId: 'github', name: 'GitHub', tools: ['create_issue'] }]);
    expect(now.body.customRoles).toEqual([{ roleId: 'r-dev', name: 'Developers' }]);
    expect(now.body.adminAreas).toContain('billing');
    expect(now.body.adminLevels).toEqual(['none', 'view', 'manage']);
    expect(now.body.toolLevels).toEqual(['blocked', 'needs_approval', 'always_allow']);
    const earlier = await get(`/v1/tenants/acme/orgs/eng/catalog?at=${T1}`);
    expect(earlier.body.connectors).toEqual([{ connectorId: 'github', name: 'GitHub', tools: ['create_issue', 'merge_pr'] }]);
    expect((await get('/v1/tenants/acme/orgs/nope/catalog')).status).toBe(404);
  });
});

describe('GET /v1/tenants/{t}/events/{eventId}', () => {
  test('the stored event with its metadata, position and hashes: what an explanation points to', async () => {
    const access = await get(`/v1/tenants/acme/orgs/eng/members/u-03/access?explain=true`);
    const pointed: string = access.body.capabilities.chat.why.map((l: any) => l.eventId).find((id: string) => id === created.eventId) ?? created.eventId;
    const event = await get(`/v1/tenants/acme/events/${pointed}`);
    expect(event.status).toBe(200);
    expect(event.body).toMatchObject({
      id: created.eventId,
      type: 'OrganizationCreated',
      occurredAt: T1,
      actor: { kind: 'system' },
      source: 'api',
      data: { orgId: 'eng', name: 'Engineering' },
      position: expect.any(Number),
      revision: 0,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      prevHash: '0'.repeat(64),
    });
    expect(event.body.recordedAt).toEqual(expect.any(String));
    expect(event.body.auth).toMatchObject({ keyId: expect.any(String) });
  });

  test("an unknown id and another tenant's id are the same 404, which does not say the other exists", async () => {
    const unknown = await get('/v1/tenants/acme/events/never-stored');
    const other = await get(`/v1/tenants/acme/events/${otherTenantEvent.eventId}`);
    expect(unknown.status).toBe(404);
    expect(other.status).toBe(404);
    expect(other.body.detail).toBe(`no event ${otherTenantEvent.eventId} in tenant acme`);
    expect(JSON.stringify(other.body)).not.toContain('globex');
    expect((await get(`/v1/tenants/globex/events/${otherTenantEvent.eventId}`, keys['globex'])).status).toBe(200);
  });
});

test('the OpenAPI document lists the discovery routes with their scope, parameters, enums and answers', async () => {
  const doc = (await (await fetch(`${url}/docs/openapi.json`)).json()) as any;
  for (const path of [
    '/v1/tenants/{tenantId}/orgs',
    '/v1/tenants/{tenantId}/orgs/{orgId}/members',
    '/v1/tenants/{tenantId}/orgs/{orgId}/catalog',
    '/v1/tenants/{tenantId}/events/{eventId}',
  ]) {
    expect(doc.paths[path]?.get?.['x-required-scope']).toBe('access:read');
    expect(doc.paths[path].get.responses['404']).toBeDefined();
  }
  const members = doc.paths['/v1/tenants/{tenantId}/orgs/{orgId}/members'].get.parameters;
  expect(members.find((p: any) => p.name === 'status').schema.enum).toEqual(['active', 'suspended', 'removed']);
  expect(members.map((p: any) => p.name)).toEqual(expect.arrayContaining(['at', 'knownAt', 'status', 'role', 'q', 'limit', 'cursor']));
  expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['OrganizationList', 'MemberPage', 'OrganizationCatalog', 'StoredEvent']));
});
