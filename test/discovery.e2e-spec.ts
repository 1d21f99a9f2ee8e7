/**
 * Discovery (discovery, docs/api.md § Routes): the organizations, members, groups and catalog a client may ask about, and one stored
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
  // Groups belong to the tenant, role assignments to one organization (R30).
  for (const [groupId, name, source] of [
    ['g-dev', 'Dev team', 'manual'],
    ['g-scim', 'Everyone (IdP)', 'scim'],
    ['g-empty', 'Nobody here', 'manual'],
    ['g-ops', 'Ops', 'manual'],
  ] as const)
    await command('acme', 'CreateGroup', { groupId, name, source }, T1);
  for (const userId of ['u-02', 'u-03', 'u-04']) await command('acme', 'AddUserToGroup', { groupId: 'g-dev', userId }, T1);
  for (const userId of ['u-01', 'u-02']) await command('acme', 'AddUserToGroup', { groupId: 'g-scim', userId }, T1);
  await command('acme', 'SetRoleCapability', { orgId: 'eng', roleId: 'r-dev', capability: 'chat', granted: true }, T1);
  await command('acme', 'AssignRoleToGroup', { orgId: 'eng', groupId: 'g-dev', roleId: 'r-dev' }, T1);
  // The group change between the two instants: u-02 (custom) leaves g-dev; g-ops gets a role and no member.
  await command('acme', 'RemoveUserFromGroup', { groupId: 'g-dev', userId: 'u-02' }, T2);
  await command('acme', 'AssignRoleToGroup', { orgId: 'eng', groupId: 'g-ops', roleId: 'r-dev' }, T2);
  await command('acme', 'DeleteGroup', { groupId: 'g-ops' }, T3);
  await command('acme', 'AddMember', { orgId: 'sales', userId: 'sal-po', email: 'sal-po@acme.test', role: 'primary_owner' }, T3);
  await command('acme', 'AddMember', { orgId: 'sales', userId: 'sal-1', email: 'sal-1@acme.test', role: 'custom' }, T3);
  await command('acme', 'AddUserToGroup', { groupId: 'g-dev', userId: 'sal-1' }, T3);
  await command('acme', 'CreateRole', { orgId: 'sales', roleId: 'r-sales', name: 'Sellers' }, T3);
  await command('acme', 'AssignRoleToGroup', { orgId: 'sales', groupId: 'g-scim', roleId: 'r-sales' }, T3);
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

describe('GET /v1/tenants/{t}/orgs/{o}/groups and …/groups/{g}', () => {
  const BEFORE = '2026-01-10'; // after the groups were formed
  const AFTER = '2026-02-15'; // after u-02 left g-dev and g-ops got a role

  test('the groups that concern the organization at each instant, with member count, roles here and R31', async () => {
    const before = await get(`/v1/tenants/acme/orgs/eng/groups?at=${BEFORE}`);
    expect(before.status).toBe(200);
    expect(before.body).toEqual({
      orgId: 'eng',
      at: '2026-01-10T00:00:00.000Z',
      groups: [
        { groupId: 'g-dev', name: 'Dev team', source: 'manual', memberCount: 3, roles: [{ roleId: 'r-dev', name: 'Developers' }], rolesGrant: true },
        // eng provisions by SCIM, so a SCIM group's roles would grant there (R31).
        { groupId: 'g-scim', name: 'Everyone (IdP)', source: 'scim', memberCount: 2, roles: [], rolesGrant: true },
      ],
      nextCursor: null,
    });
    const after = await get(`/v1/tenants/acme/orgs/eng/groups?at=${AFTER}`);
    expect(after.body.groups.map((g: any) => [g.groupId, g.memberCount, g.roles.map((r: any) => r.roleId)])).toEqual([
      ['g-dev', 2, ['r-dev']],
      ['g-ops', 0, ['r-dev']], // a role here and no member: listed
      ['g-scim', 2, []],
    ]);
    // Now: g-ops is deleted; sal-1 joined g-dev but is a member of sales, not of eng (R30).
    const now = await get('/v1/tenants/acme/orgs/eng/groups');
    expect(now.body.groups.map((g: any) => [g.groupId, g.memberCount])).toEqual([
      ['g-dev', 2],
      ['g-scim', 2],
    ]);
    // In sales the same tenant groups look otherwise: g-scim holds r-sales there, which grants nothing in an
    // invite_only organization (R31); g-dev has sal-1 and no role there.
    const sales = await get('/v1/tenants/acme/orgs/sales/groups');
    expect(sales.body.groups).toEqual([
      { groupId: 'g-dev', name: 'Dev team', source: 'manual', memberCount: 1, roles: [], rolesGrant: true },
      { groupId: 'g-scim', name: 'Everyone (IdP)', source: 'scim', memberCount: 0, roles: [{ roleId: 'r-sales', name: 'Sellers' }], rolesGrant: false },
    ]);
    expect((await get('/v1/tenants/acme/orgs/eng/groups?q=IDP')).body.groups.map((g: any) => g.groupId)).toEqual(['g-scim']);
  });

  test("a group's members there (as the members route has them) and its roles there, before and after the change", async () => {
    const members = (await get(`/v1/tenants/acme/orgs/eng/members?at=${BEFORE}`)).body.members;
    const before = await get(`/v1/tenants/acme/orgs/eng/groups/g-dev?at=${BEFORE}`);
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ orgId: 'eng', groupId: 'g-dev', memberCount: 3, roles: [{ roleId: 'r-dev', name: 'Developers' }], nextCursor: null });
    expect(before.body.members).toEqual(members.filter((m: any) => ['u-02', 'u-03', 'u-04'].includes(m.userId)));
    const after = await get(`/v1/tenants/acme/orgs/eng/groups/g-dev?at=${AFTER}`);
    expect(after.body.members.map((m: any) => [m.userId, m.status])).toEqual([
      ['u-03', 'active'],
      ['u-04', 'suspended'],
    ]);
    // A tenant group that concerns eng in no way: known, with nothing here.
    const empty = await get('/v1/tenants/acme/orgs/eng/groups/g-empty');
    expect(empty.body).toMatchObject({ groupId: 'g-empty', memberCount: 0, members: [], roles: [] });
    // Pages of members follow nextCursor.
    const first = await get(`/v1/tenants/acme/orgs/eng/groups/g-dev?at=${BEFORE}&limit=2`);
    expect(first.body.members.map((m: any) => m.userId)).toEqual(['u-02', 'u-03']);
    expect(first.body.memberCount).toBe(3);
    const second = await get(`/v1/tenants/acme/orgs/eng/groups/g-dev?at=${BEFORE}&limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body).toMatchObject({ members: [expect.objectContaining({ userId: 'u-04' })], nextCursor: null });
  });

  test("the lists agree with the evaluator: a custom member's roles come through exactly the listed groups that hold them (R5, R30)", async () => {
    for (const at of [BEFORE, AFTER]) {
      const groups = (await get(`/v1/tenants/acme/orgs/eng/groups?at=${at}`)).body.groups;
      const details = await Promise.all(groups.map((g: any) => get(`/v1/tenants/acme/orgs/eng/groups/${g.groupId}?at=${at}`)));
      const custom = (await get(`/v1/tenants/acme/orgs/eng/members?at=${at}&role=custom&status=active`)).body.members;
      expect(custom.length).toBeGreaterThan(0);
      for (const { userId } of custom) {
        const listed = details
          .map((d) => d.body)
          .filter((g) => g.rolesGrant && g.members.some((m: any) => m.userId === userId))
          .flatMap((g) => g.roles.map((r: any) => `${g.groupId}→${r.roleId}`))
          .sort();
        const access = (await get(`/v1/tenants/acme/orgs/eng/members/${userId}/access?at=${at}&explain=true`)).body;
        const explained = access.capabilities.chat.why
          .filter((l: any) => l.type === 'RoleAssignedToGroup')
          .map((l: any) => /group (\S+) is assigned role (\S+)/.exec(l.says)!.slice(1).join('→'))
          .sort();
        expect({ at, userId, roles: explained }).toEqual({ at, userId, roles: listed });
        expect(access.capabilities.chat.granted).toBe(listed.length > 0); // r-dev grants chat
      }
    }
    // u-02 left g-dev: granted before, denied after (the change is seen by both).
    expect((await get(`/v1/tenants/acme/orgs/eng/members/u-02/access?at=${BEFORE}`)).body.capabilities.chat.granted).toBe(true);
    expect((await get(`/v1/tenants/acme/orgs/eng/members/u-02/access?at=${AFTER}`)).body.capabilities.chat.granted).toBe(false);
  });

  test('unknown, not yet created and deleted groups are 404s naming the route that lists them; an unknown organization too', async () => {
    const unknown = await get('/v1/tenants/acme/orgs/eng/groups/g-nope');
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toBe('group "g-nope" is not known in this tenant; GET /orgs/eng/groups lists the groups of eng');
    const early = await get('/v1/tenants/acme/orgs/eng/groups/g-dev?at=2026-01-01');
    expect(early.status).toBe(404);
    expect(early.body.detail).toContain('did not exist yet at 2026-01-01T00:00:00.000Z');
    const deleted = await get('/v1/tenants/acme/orgs/eng/groups/g-ops');
    expect(deleted.status).toBe(404);
    expect(deleted.body.detail).toContain(`was deleted at ${T3}`);
    expect((await get(`/v1/tenants/acme/orgs/eng/groups/g-ops?at=${AFTER}`)).status).toBe(200);
    expect((await get('/v1/tenants/acme/orgs/nope/groups')).status).toBe(404);
    expect((await get('/v1/tenants/acme/orgs/nope/groups/g-dev')).body.detail).toContain('organization "nope" is not known');
    expect((await get(`/v1/tenants/acme/orgs/sales/groups?at=${T2}`)).status).toBe(404); // not created yet then
    expect((await get('/v1/tenants/globex/orgs/hq/groups/g-dev', keys['globex'])).status).toBe(404); // another tenant's group
    const bad = await get('/v1/tenants/acme/orgs/eng/groups?limit=0&status=active');
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: any) => e.path).sort()).toEqual(['limit', 'status']);
    expect((await get('/v1/tenants/acme/orgs/eng/groups', keys['auditor'])).status).toBe(403);
    expect((await get('/v1/tenants/acme/orgs/eng/groups/g-dev', keys['reader'])).status).toBe(200);
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
    '/v1/tenants/{tenantId}/orgs/{orgId}/groups',
    '/v1/tenants/{tenantId}/orgs/{orgId}/groups/{groupId}',
    '/v1/tenants/{tenantId}/orgs/{orgId}/catalog',
    '/v1/tenants/{tenantId}/events/{eventId}',
  ]) {
    expect(doc.paths[path]?.get?.['x-required-scope']).toBe('access:read');
    expect(doc.paths[path].get.responses['404']).toBeDefined();
  }
  const members = doc.paths['/v1/tenants/{tenantId}/orgs/{orgId}/members'].get.parameters;
  expect(members.find((p: any) => p.name === 'status').schema.enum).toEqual(['active', 'suspended', 'removed']);
  expect(members.map((p: any) => p.name)).toEqual(expect.arrayContaining(['at', 'knownAt', 'status', 'role', 'q', 'limit', 'cursor']));
  expect(Object.keys(doc.components.schemas)).toEqual(
    expect.arrayContaining(['OrganizationList', 'MemberPage', 'GroupPage', 'Group', 'OrganizationCatalog', 'StoredEvent']),
  );
});
