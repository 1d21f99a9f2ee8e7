/**
 * The scenarios of access-model.md §11, end to end: commands and imports over HTTP into the real server (embedded
 * SQLite store, real projection) on a temporary data directory, answers read back through the access routes.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiKeyStore } from '../apps/api/src/keys/api-key-store.js';
import { SCOPES } from '../apps/api/src/keys/scopes.js';
import { composeServer } from '../apps/api/src/compose.js';
import { QUIET, testConfig } from '../apps/api/test/support/test-server.js';

let app: NestFastifyApplication;
let url: string;
let key: string;
let dataDir: string;
let orgs = 0;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'scenarios-'));
  ({ app, url } = await composeServer(testConfig(dataDir), { ...QUIET, readSide: false }));
  key = app.get(ApiKeyStore).create({ tenantId: 'acme', scopes: SCOPES }).key;
});

afterAll(async () => {
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
});

type Actor = { kind: 'system' } | { kind: 'scim' } | { kind: 'platform' } | { kind: 'member'; orgId: string; userId: string };
const system: Actor = { kind: 'system' };

async function command(type: string, payload: object, actor: Actor = system, occurredAt?: string): Promise<Response> {
  return fetch(`${url}/v1/tenants/acme/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ type, actor, payload, ...(occurredAt ? { occurredAt } : {}) }),
  });
}

async function ok(type: string, payload: object, actor: Actor = system, occurredAt?: string): Promise<void> {
  const res = await command(type, payload, actor, occurredAt);
  if (res.status !== 201) throw new Error(`${type} → ${res.status} ${await res.text()}`);
}

async function get(path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/v1/tenants/acme${path}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, body: await res.json() };
}

async function access(orgId: string, userId: string, query = ''): Promise<any> {
  const res = await get(`/orgs/${orgId}/members/${userId}/access?explain=true${query}`);
  if (res.status !== 200) throw new Error(`access → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** A fresh organization with a primary owner `po` (R23) and a custom member `u`; its name is returned. */
async function org(options: { mode?: string; dualSeat?: boolean; seat?: string } = {}): Promise<string> {
  const orgId = `org-${++orgs}`;
  await ok('CreateOrganization', { orgId, name: orgId, dualSeat: options.dualSeat ?? false, provisioningMode: options.mode ?? 'scim', usageBased: false });
  await ok('AddMember', { orgId, userId: 'po', email: 'po@acme.test', role: 'primary_owner' });
  await ok('AddMember', { orgId, userId: 'u', email: 'u@acme.test', role: 'custom', ...(options.seat ? { seat: options.seat } : {}) });
  return orgId;
}

const owner = (orgId: string): Actor => ({ kind: 'member', orgId, userId: 'po' });
let groups = 0;
async function groupWith(userId: string, source = 'manual'): Promise<string> {
  const groupId = `g-${++groups}`;
  await ok('CreateGroup', { groupId, name: groupId, source });
  await ok('AddUserToGroup', { groupId, userId });
  return groupId;
}
let roles = 0;
async function roleFor(orgId: string, groupId: string, ...capabilities: string[]): Promise<string> {
  const roleId = `r-${++roles}`;
  await ok('CreateRole', { orgId, roleId, name: roleId }, owner(orgId));
  for (const capability of capabilities) await ok('SetRoleCapability', { orgId, roleId, capability, granted: true }, owner(orgId));
  await ok('AssignRoleToGroup', { orgId, groupId, roleId }, owner(orgId));
  return roleId;
}

describe('§11 scenarios through the HTTP API', () => {
  test('1. R15 — roles via groups A and B: RA blocks Jira, RB needs_approval → Jira tools needs_approval', async () => {
    const o = await org();
    await ok('AddConnector', { orgId: o, connectorId: 'jira', name: 'Jira', tools: ['search_issues', 'create_issue'] }, owner(o));
    await ok('EnableConnectorPermissions', { orgId: o }, owner(o));
    const ra = await roleFor(o, await groupWith('u'));
    const rb = await roleFor(o, await groupWith('u'));
    await ok('SetRoleConnectorPermission', { orgId: o, roleId: ra, connectorId: 'jira', level: 'blocked' }, owner(o));
    await ok('SetRoleConnectorPermission', { orgId: o, roleId: rb, connectorId: 'jira', level: 'needs_approval' }, owner(o));
    const a = await access(o, 'u');
    expect(a.tools.jira.search_issues.level).toBe('needs_approval');
    expect(a.tools.jira.create_issue.level).toBe('needs_approval');
  });

  test('2. R16 — org-wide needs_approval beats a role at always_allow', async () => {
    const o = await org();
    await ok('AddConnector', { orgId: o, connectorId: 'jira', name: 'Jira', tools: ['search_issues'] }, owner(o));
    await ok('EnableConnectorPermissions', { orgId: o }, owner(o));
    const r = await roleFor(o, await groupWith('u'));
    await ok('SetRoleConnectorPermission', { orgId: o, roleId: r, connectorId: 'jira', level: 'always_allow' }, owner(o));
    await ok('SetOrgToolPolicy', { orgId: o, connectorId: 'jira', toolName: 'search_issues', level: 'needs_approval' }, owner(o));
    const tool = (await access(o, 'u')).tools.jira.search_issues;
    expect(tool.level).toBe('needs_approval');
    expect(tool.why.map((l: any) => l.type)).toContain('OrgToolPolicySet');
  });

  test('3. R14, R17 — Jira at custom with only search_issues at needs_approval', async () => {
    const o = await org();
    await ok('AddConnector', { orgId: o, connectorId: 'jira', name: 'Jira', tools: ['search_issues', 'create_issue'] }, owner(o));
    await ok('EnableConnectorPermissions', { orgId: o }, owner(o));
    const r = await roleFor(o, await groupWith('u'));
    await ok('SetRoleConnectorPermission', { orgId: o, roleId: r, connectorId: 'jira', level: 'custom' }, owner(o));
    await ok('SetRoleToolPermission', { orgId: o, roleId: r, connectorId: 'jira', toolName: 'search_issues', level: 'needs_approval' }, owner(o));
    const a = await access(o, 'u');
    expect(a.tools.jira.search_issues.level).toBe('needs_approval');
    expect(a.tools.jira.create_issue.level).toBe('blocked');
    expect(a.connectorMenu).toEqual(['jira']);
  });

  test('4. R14 — "All connectors" at custom; a connector added afterwards is blocked for that role', async () => {
    const o = await org();
    await ok('EnableConnectorPermissions', { orgId: o }, owner(o));
    const r = await roleFor(o, await groupWith('u'));
    await ok('SetRoleConnectorPermission', { orgId: o, roleId: r, connectorId: '*', level: 'custom' }, owner(o));
    await ok('AddConnector', { orgId: o, connectorId: 'slack', name: 'Slack', tools: ['post'] }, owner(o));
    const a = await access(o, 'u');
    expect(a.tools.slack.post.level).toBe('blocked');
    expect(a.connectorMenu).toEqual([]);
  });

  test('5. R8 — claude_code granted by a role, on a chat seat of a dual-seat plan → none; the seat explains it', async () => {
    const o = await org({ dualSeat: true, seat: 'chat' });
    await roleFor(o, await groupWith('u'), 'claude_code');
    const cc = (await access(o, 'u')).capabilities.claude_code;
    expect(cc.granted).toBe(false);
    expect(cc.why.some((l: any) => /chat seat/.test(l.says))).toBe(true);
  });

  test('6. R2 — an owner has no Cowork while the organization toggle is off', async () => {
    const o = await org();
    await ok('SetOrganizationCapability', { orgId: o, capability: 'cowork', enabled: false }, owner(o));
    const cowork = (await access(o, 'po')).capabilities.cowork;
    expect(cowork.granted).toBe(false);
    expect(cowork.why.map((l: any) => l.type)).toContain('OrganizationCapabilitySet');
  });

  test('7. R4 — a user member in a group whose role grants nothing has every available capability', async () => {
    const o = await org();
    await ok('AddMember', { orgId: o, userId: 'v', email: 'v@acme.test', role: 'user' }, owner(o));
    const r = await roleFor(o, await groupWith('v'));
    await ok('SetRoleCapability', { orgId: o, roleId: r, capability: 'chat', granted: false }, owner(o));
    const caps = (await access(o, 'v')).capabilities;
    expect(Object.values(caps).every((c: any) => c.granted)).toBe(true);
  });

  test('8. R6, R60 — moved out of their only group: nothing from that instant; before it, unchanged', async () => {
    const o = await org();
    const g = await groupWith('u');
    await roleFor(o, g, 'web_search');
    const before = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    await ok('RemoveUserFromGroup', { groupId: g, userId: 'u' });
    const now = await access(o, 'u');
    expect(Object.values(now.capabilities).some((c: any) => c.granted)).toBe(false);
    const then = await access(o, 'u', `&at=${before}`);
    expect(then.capabilities.web_search.granted).toBe(true);
    expect(then.capabilities.chat.granted).toBe(true);
  });

  test('9. R41–R43 — individual 50 000 over groups 20 000 / 80 000; lowest, highest; ceiling 30 000', async () => {
    const o = await org();
    const g20 = await groupWith('u');
    const g80 = await groupWith('u');
    await ok('SetGroupSpendLimit', { orgId: o, groupId: g20, cents: 20_000 }, owner(o));
    await ok('SetGroupSpendLimit', { orgId: o, groupId: g80, cents: 80_000 }, owner(o));
    await ok('SetMemberSpendLimit', { orgId: o, userId: 'u', cents: 50_000 }, owner(o));
    expect((await access(o, 'u')).spendLimitCents).toBe(50_000);
    await ok('SetMemberSpendLimit', { orgId: o, userId: 'u', cents: null }, owner(o));
    expect((await access(o, 'u')).spendLimitCents).toBe(20_000);
    await ok('SetSpendingPrecedence', { orgId: o, precedence: 'highest' }, owner(o));
    expect((await access(o, 'u')).spendLimitCents).toBe(80_000);
    await ok('SetOrgSpendCeiling', { orgId: o, cents: 30_000 }, owner(o));
    expect((await access(o, 'u')).spendLimitCents).toBe(30_000);
  });

  test('10. R31 — jit organization: a SCIM group assigned a role grants nothing; a manual group grants', async () => {
    const o = await org({ mode: 'jit' });
    await ok('AddMember', { orgId: o, userId: 'v', email: 'v@acme.test', role: 'custom' }, owner(o));
    await roleFor(o, await groupWith('u', 'scim'), 'research');
    await roleFor(o, await groupWith('v', 'manual'), 'research');
    expect((await access(o, 'u')).capabilities.research.granted).toBe(false);
    expect((await access(o, 'v')).capabilities.research.granted).toBe(true);
  });

  test('11. R61 — a SCIM sync imported late, before an already stored role change: access between them reflects the sync', async () => {
    // The whole story happened in the past: every command says when it took effect.
    const o = `org-${++orgs}`;
    const g = `g-${++groups}`;
    const r = `r-${++roles}`;
    const jan = (day: number) => `2026-01-${String(day).padStart(2, '0')}T00:00:00.000Z`;
    await ok('CreateOrganization', { orgId: o, name: o, dualSeat: false, provisioningMode: 'scim', usageBased: false }, system, jan(1));
    await ok('AddMember', { orgId: o, userId: 'po', email: 'po@acme.test', role: 'primary_owner' }, system, jan(2));
    await ok('AddMember', { orgId: o, userId: 'u', email: 'u@acme.test', role: 'custom' }, { kind: 'scim' }, jan(3));
    await ok('CreateGroup', { groupId: g, name: g, source: 'scim' }, { kind: 'scim' }, jan(4));
    await ok('CreateRole', { orgId: o, roleId: r, name: r }, owner(o), jan(5));
    await ok('SetRoleCapability', { orgId: o, roleId: r, capability: 'research', granted: true }, owner(o), jan(6));
    await ok('AssignRoleToGroup', { orgId: o, groupId: g, roleId: r }, owner(o), jan(7));
    await ok('SetRoleCapability', { orgId: o, roleId: r, capability: 'memory', granted: true }, owner(o), '2026-03-01T00:00:00.000Z');
    const line = {
      id: `late-sync-${g}`,
      type: 'UserAddedToGroup',
      occurredAt: '2026-02-01T00:00:00.000Z',
      actor: { kind: 'scim' },
      source: 'scim',
      data: { groupId: g, userId: 'u' },
    };
    const imported = await fetch(`${url}/v1/tenants/acme/events:import`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${key}` },
      body: `${JSON.stringify(line)}\n`,
    });
    expect(imported.status).toBe(200);
    const between = await access(o, 'u', '&at=2026-02-15T00:00:00.000Z');
    expect(between.capabilities.research.granted).toBe(true);
    expect(between.capabilities.memory.granted).toBe(false);
    expect((await access(o, 'u', '&at=2026-03-02T00:00:00.000Z')).capabilities.memory.granted).toBe(true);
    expect((await access(o, 'u', '&at=2026-01-15T00:00:00.000Z')).capabilities.research.granted).toBe(false);
  });

  test('12. R30 — group G shared by X and Y, role R in X only: grants in X, none in Y', async () => {
    const x = await org();
    const y = await org();
    const g = await groupWith('u');
    await roleFor(x, g, 'projects');
    expect((await access(x, 'u')).capabilities.projects.granted).toBe(true);
    expect(Object.values((await access(y, 'u')).capabilities).some((c: any) => c.granted)).toBe(false);
  });

  test('13. R12 — enabling connector permissions with existing roles changes no tool level at that instant', async () => {
    const o = await org();
    await ok('AddConnector', { orgId: o, connectorId: 'jira', name: 'Jira', tools: ['a', 'b'] }, owner(o));
    await ok('SetOrgToolPolicy', { orgId: o, connectorId: 'jira', toolName: 'b', level: 'needs_approval' }, owner(o));
    await roleFor(o, await groupWith('u'));
    const levels = (a: any) => Object.fromEntries(Object.entries(a.tools.jira).map(([t, l]: [string, any]) => [t, l.level]));
    const before = levels(await access(o, 'u'));
    const res = await command('EnableConnectorPermissions', { orgId: o }, owner(o));
    const body = (await res.json()) as { events: { type: string }[] };
    expect(body.events.map((e) => e.type)).toEqual(['ConnectorPermissionsEnabled', 'RoleConnectorPermissionSet']);
    expect(levels(await access(o, 'u'))).toEqual(before);
  });

  test('14. R22, R62 — an admin tries to create an owner: 403, recorded as AccessChangeDenied, no state change', async () => {
    const o = await org();
    await ok('AddMember', { orgId: o, userId: 'adm', email: 'adm@acme.test', role: 'admin' }, owner(o));
    const res = await command('AddMember', { orgId: o, userId: 'boss', email: 'boss@acme.test', role: 'owner' }, { kind: 'member', orgId: o, userId: 'adm' });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect((await get(`/orgs/${o}/members/boss/access`)).status).toBe(404);
  });
});

describe('access queries', () => {
  test('holders, diff and timeline answer at instants; unknown org or member → 404; malformed instant → 400', async () => {
    const o = await org();
    const g = await groupWith('u');
    const t0 = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    await roleFor(o, g, 'research');
    const holders = await get(`/orgs/${o}/access/holders?capability=research`);
    expect(holders.body.holders).toEqual([{ userId: 'po' }, { userId: 'u' }]);
    const then = await get(`/orgs/${o}/access/holders?capability=research&at=${t0}`);
    expect(then.body.holders).toEqual([{ userId: 'po' }]);
    const diff = await get(`/orgs/${o}/members/u/access/diff?from=${t0}`);
    expect(diff.body.gained.map((c: any) => c.permission)).toEqual(expect.arrayContaining(['capability:chat', 'capability:research']));
    const timeline = await get(`/orgs/${o}/members/u/access/timeline`);
    expect(timeline.body.intervals.find((i: any) => i.permission === 'capability:research')).toMatchObject({
      level: 'granted',
      to: null,
      openedBy: expect.any(String),
    });
    const changes = await get(`/orgs/${o}/access/changes?from=${t0}`);
    expect(changes.body.changes.some((c: any) => c.userId === 'u' && c.permission === 'capability:research' && c.kind === 'gained')).toBe(true);
    expect((await get(`/orgs/nope/members/u/access`)).status).toBe(404);
    expect((await get(`/orgs/${o}/members/nobody/access`)).status).toBe(404);
    const bad = await get(`/orgs/${o}/members/u/access?at=yesterday`);
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe('at');
    expect((await get(`/orgs/${o}/access/holders?capability=chat&tool=jira/x`)).status).toBe(400);
  });
});

describe('OpenAPI', () => {
  test('/docs/openapi.json describes the access routes with the query parameters their schemas validate', async () => {
    const doc = (await (await fetch(`${url}/docs/openapi.json`)).json()) as { paths: Record<string, { get?: { parameters: { name: string; in: string }[] } }> };
    const access = doc.paths['/v1/tenants/{tenantId}/orgs/{orgId}/members/{userId}/access']!.get!;
    expect(
      access.parameters
        .filter((p) => p.in === 'query')
        .map((p) => p.name)
        .sort(),
    ).toEqual(['at', 'explain', 'knownAt']);
    const holders = doc.paths['/v1/tenants/{tenantId}/orgs/{orgId}/access/holders']!.get!;
    expect(holders.parameters.map((p) => p.name)).toEqual(expect.arrayContaining(['capability', 'tool', 'adminArea', 'minLevel']));
  });
});
