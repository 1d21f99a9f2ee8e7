/**
 * The audit and report routes end to end: commands in over HTTP into the real server (embedded SQLite store, chDB
 * read model in a temporary data directory, the audit projection following the store live), audit events and
 * reports out through the routes of http-api.md § Audit and reports.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiKeyStore } from '../apps/api/src/keys/api-key-store.js';
import { SCOPES } from '../apps/api/src/keys/scopes.js';
import { composeServer, type ReadSide } from '../apps/api/src/compose.js';
import { QUIET, testConfig } from '../apps/api/test/support/test-server.js';
import { ingestAccessIntervalChanges, type AccessIntervalChange } from '@access-ledger/read-model';
import { LEDGER_CLI, runLedger } from './support/ledger-cli.js';

let app: NestFastifyApplication;
let side: ReadSide;
let url: string;
let dataDir: string;
const keys = { acme: '', globex: '', acmeNoAudit: '' };

type Actor = { kind: 'system' } | { kind: 'scim' } | { kind: 'member'; orgId: string; userId: string };
const system: Actor = { kind: 'system' };
const owner: Actor = { kind: 'member', orgId: 'org-1', userId: 'po' };

async function command(tenant: 'acme' | 'globex', type: string, payload: object, occurredAt: string, actor: Actor = system): Promise<void> {
  const res = await fetch(`${url}/v1/tenants/${tenant}/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${keys[tenant]}` },
    body: JSON.stringify({ type, actor, payload, occurredAt }),
  });
  if (res.status !== 201) throw new Error(`${type} → ${res.status} ${await res.text()}`);
}

async function get(path: string, key = keys.acme): Promise<{ status: number; type: string; body: any; text: string }> {
  const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, type, text, body: type.includes('json') ? JSON.parse(text) : undefined };
}

const minute = (n: number) => new Date(Date.UTC(2026, 2, 1, 9, n)).toISOString();
/** The acme history: 11 events, one a minute from 09:00. */
const ACME_EVENTS = 11;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'read-model-routes-'));
  // minPosition waits up to 2 s here (10 s by default), so the 503 case below stays short.
  const server = await composeServer(testConfig(dataDir, { READ_MODEL_WAIT_MS: '2000' }), QUIET);
  ({ app, url } = server);
  side = server.readSide!;
  const store = app.get(ApiKeyStore);
  keys.acme = store.create({ tenantId: 'acme', scopes: SCOPES }).key;
  keys.globex = store.create({ tenantId: 'globex', scopes: SCOPES }).key;
  keys.acmeNoAudit = store.create({ tenantId: 'acme', scopes: ['commands:write', 'access:read'] }).key;

  await command('acme', 'CreateOrganization', { orgId: 'org-1', name: 'Acme', dualSeat: false, provisioningMode: 'invite_only', usageBased: false }, minute(0));
  await command('acme', 'AddMember', { orgId: 'org-1', userId: 'po', email: 'po@acme.test', role: 'primary_owner' }, minute(1));
  await command('acme', 'AddMember', { orgId: 'org-1', userId: 'u1', email: 'u1@acme.test', role: 'custom' }, minute(2), owner);
  await command('acme', 'AddMember', { orgId: 'org-1', userId: 'u2', email: 'u2@acme.test', role: 'user' }, minute(3), owner);
  await command('acme', 'CreateGroup', { groupId: 'g-eng', name: 'Engineering', source: 'manual' }, minute(4));
  await command('acme', 'AddUserToGroup', { groupId: 'g-eng', userId: 'u1' }, minute(5));
  await command('acme', 'ChangeMemberRole', { orgId: 'org-1', userId: 'u2', role: 'admin' }, minute(6), owner);
  await command('acme', 'SuspendMember', { orgId: 'org-1', userId: 'u2' }, minute(7), owner);
  await command('acme', 'ReactivateMember', { orgId: 'org-1', userId: 'u2' }, minute(8), owner);
  await command('acme', 'RemoveUserFromGroup', { groupId: 'g-eng', userId: 'u1' }, minute(9));
  await command('acme', 'RemoveMember', { orgId: 'org-1', userId: 'u2' }, minute(10), owner);
  await command(
    'globex',
    'CreateOrganization',
    { orgId: 'org-1', name: 'Globex', dualSeat: false, provisioningMode: 'invite_only', usageBased: false },
    minute(0),
  );
  await command('globex', 'AddMember', { orgId: 'org-1', userId: 'gpo', email: 'gpo@globex.test', role: 'primary_owner' }, minute(1));
  await side.readModel.caughtUp();
}, 60_000);

afterAll(async () => {
  await app?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('GET /v1/tenants/{t}/audit/events', () => {
  test('every stored event comes back newest first, with its metadata, hash and data', async () => {
    const { status, body } = await get('/v1/tenants/acme/audit/events');
    expect(status).toBe(200);
    expect(body.nextCursor).toBeNull();
    expect(body.events).toHaveLength(ACME_EVENTS);
    const instants = body.events.map((e: any) => e.occurredAt);
    expect(instants).toEqual([...instants].sort().reverse());
    expect(body.events[0]).toMatchObject({
      type: 'MemberRemoved',
      tenantId: 'acme',
      orgId: 'org-1',
      actor: { kind: 'member', orgId: 'org-1', userId: 'po' },
      subject: 'u2',
      occurredAt: minute(10),
      data: { orgId: 'org-1', userId: 'u2' },
    });
    expect(body.events[0].hash).toMatch(/^[0-9a-f]{64}$/);
    expect(body.events.at(-1).type).toBe('OrganizationCreated');
  });

  test('filters: type (one or a list), actor (userId or kind), subject, orgId, [from, to)', async () => {
    const types = async (query: string) => (await get(`/v1/tenants/acme/audit/events?${query}`)).body.events.map((e: any) => e.type);
    expect(await types('type=MemberAdded')).toEqual(['MemberAdded', 'MemberAdded', 'MemberAdded']);
    expect(await types('type=MemberSuspended,MemberReactivated')).toEqual(['MemberReactivated', 'MemberSuspended']);
    expect(await types('actor=po')).toEqual(['MemberRemoved', 'MemberReactivated', 'MemberSuspended', 'MemberRoleChanged', 'MemberAdded', 'MemberAdded']);
    expect((await types('actor=system')).length).toBe(ACME_EVENTS - 6);
    expect(await types('subject=u1')).toEqual(['UserRemovedFromGroup', 'UserAddedToGroup', 'MemberAdded']);
    expect(await types(`from=${minute(4)}&to=${minute(6)}`)).toEqual(['UserAddedToGroup', 'GroupCreated']);
    // Groups belong to the tenant (R30): their events carry no orgId.
    expect((await types('orgId=org-1')).length).toBe(ACME_EVENTS - 3);
    expect(await types('orgId=org-1&subject=u2&type=MemberRemoved')).toEqual(['MemberRemoved']);
  });

  test('cursor pagination walks every event once, newest first, and ends with nextCursor null', async () => {
    const seen: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const { status, body } = await get(`/v1/tenants/acme/audit/events?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(status).toBe(200);
      expect(body.events.length).toBeLessThanOrEqual(3);
      seen.push(...body.events);
      cursor = body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(Math.ceil(ACME_EVENTS / 3));
    const all = (await get('/v1/tenants/acme/audit/events')).body.events;
    expect(seen.map((e) => e.id)).toEqual(all.map((e: any) => e.id));
    expect(new Set(seen.map((e) => e.id)).size).toBe(ACME_EVENTS);
  });

  test('tenant isolation: a key of tenant B sees nothing of A (403 on A, only its own events on B)', async () => {
    const onAcme = await get('/v1/tenants/acme/audit/events', keys.globex);
    expect(onAcme.status).toBe(403);
    expect(onAcme.type).toContain('application/problem+json');
    const own = await get('/v1/tenants/globex/audit/events', keys.globex);
    expect(own.status).toBe(200);
    expect(own.body.events.map((e: any) => e.type)).toEqual(['MemberAdded', 'OrganizationCreated']);
    expect(own.body.events.every((e: any) => e.tenantId === 'globex')).toBe(true);
    // A cursor made on A's events only moves the position within B's own rows.
    const acmeCursor = (await get('/v1/tenants/acme/audit/events?limit=1')).body.nextCursor;
    const viaCursor = await get(`/v1/tenants/globex/audit/events?cursor=${encodeURIComponent(acmeCursor)}`, keys.globex);
    expect(viaCursor.body.events.every((e: any) => e.tenantId === 'globex')).toBe(true);
    const acme = await get('/v1/tenants/acme/audit/events?subject=gpo');
    expect(acme.body.events).toEqual([]);
  });

  test('a key without audit:read → 403; no key → 401', async () => {
    expect((await get('/v1/tenants/acme/audit/events', keys.acmeNoAudit)).status).toBe(403);
    expect((await fetch(`${url}/v1/tenants/acme/audit/events`)).status).toBe(401);
  });

  test('bad filters → 400 problem+json naming every failing field', async () => {
    const { status, type, body } = await get('/v1/tenants/acme/audit/events?limit=0&from=yesterday&cursor=not-a-cursor&colour=red');
    expect(status).toBe(400);
    expect(type).toContain('application/problem+json');
    expect(body).toMatchObject({ type: 'urn:access-ledger:problem:invalid-input', status: 400 });
    const paths = body.errors.map((e: any) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['limit', 'from', 'cursor']));
    expect(body.errors.some((e: any) => e.path === '' || e.path === 'colour' || /colour/.test(e.message))).toBe(true);
    expect((await get('/v1/tenants/acme/audit/events?limit=1001')).status).toBe(400);
    expect((await get(`/v1/tenants/acme/audit/events?subject=${'x'.repeat(300)}`)).status).toBe(400);
  });

  test('injection strings in every filter answer 4xx or an empty page, and break nothing', async () => {
    const hostile = ["' OR 1=1 --", "'; DROP TABLE audit_events; --", '\\', '{tenantId:String}', 'acme\u0000', '☃\u202e', "u1' OR subject != '"];
    for (const value of hostile) {
      for (const field of ['orgId', 'actor', 'subject', 'type', 'from', 'to', 'cursor', 'limit']) {
        const res = await get(`/v1/tenants/acme/audit/events?${field}=${encodeURIComponent(value)}`);
        expect([200, 400]).toContain(res.status);
        if (res.status === 200) expect(res.body.events).toEqual([]);
      }
    }
    const tenant = await get(`/v1/tenants/${encodeURIComponent("acme' OR 1=1 --")}/audit/events`);
    expect([401, 403, 404]).toContain(tenant.status);
    expect((await get('/v1/tenants/acme/audit/events')).body.events).toHaveLength(ACME_EVENTS);
  });
});

describe('GET /v1/tenants/{t}/orgs/{o}/reports/…', () => {
  const at = (n: number) => new Date(Date.UTC(2026, 3, 1, n)).toISOString();
  const change = (userId: string, permission: string, level: string, hour: number, kind: 'open' | 'close'): AccessIntervalChange => ({
    tenantId: 'acme',
    orgId: 'org-review',
    userId,
    permission,
    level,
    at: at(hour),
    eventId: `ev-${userId}-${permission}-${hour}-${kind}`,
    kind,
  });

  beforeAll(async () => {
    // The intervals as the access-interval writer stores them (the evaluator's changes), for an organization
    // with no members in the event store, so the assertions hold whether or not an interval projection also runs.
    // It is created there all the same: a report on an organization the tenant does not have is a 404.
    await command(
      'acme',
      'CreateOrganization',
      { orgId: 'org-review', name: 'Review', dualSeat: false, provisioningMode: 'invite_only', usageBased: false },
      at(0),
    );
    await ingestAccessIntervalChanges(side.readModel.client, [
      change('alice', 'capability:claude_code', 'granted', 1, 'open'),
      change('alice', 'admin:billing', 'manage', 2, 'open'),
      change('alice', 'admin:identity_access', 'manage', 3, 'open'),
      change('=cmd|calc', 'capability:chat', 'granted', 1, 'open'),
      change('bob', 'capability:claude_code', 'granted', 1, 'open'),
      change('bob', 'capability:claude_code', 'granted', 5, 'close'),
    ]);
  });

  test('access-review JSON: every member with the permissions held at `at`, since when and by which event', async () => {
    const { status, body } = await get(`/v1/tenants/acme/orgs/org-review/reports/access-review?at=${at(4)}`);
    expect(status).toBe(200);
    expect(body.at).toBe(at(4));
    expect(body.members.map((m: any) => m.userId)).toEqual(['=cmd|calc', 'alice', 'bob']);
    const alice = body.members.find((m: any) => m.userId === 'alice');
    expect(alice.permissions).toEqual([
      { permission: 'admin:billing', level: 'manage', since: at(2), grantedBy: 'ev-alice-admin:billing-2-open', until: null },
      { permission: 'admin:identity_access', level: 'manage', since: at(3), grantedBy: 'ev-alice-admin:identity_access-3-open', until: null },
      { permission: 'capability:claude_code', level: 'granted', since: at(1), grantedBy: 'ev-alice-capability:claude_code-1-open', until: null },
    ]);
    expect(body.members.find((m: any) => m.userId === 'bob').permissions[0].until).toBe(at(5));
    const later = await get(`/v1/tenants/acme/orgs/org-review/reports/access-review?at=${at(6)}`);
    expect(later.body.members.map((m: any) => m.userId)).toEqual(['=cmd|calc', 'alice']);
  });

  test('access-review and holders from the commands themselves: the interval projection follows the store (R6, R33)', async () => {
    const during = await get(`/v1/tenants/acme/orgs/org-1/reports/access-review?at=${new Date(Date.UTC(2026, 2, 1, 9, 6, 30)).toISOString()}`);
    expect(during.status).toBe(200);
    expect(during.body.members.map((m: any) => m.userId)).toEqual(['po', 'u1', 'u2']);
    const perms = (userId: string) => during.body.members.find((m: any) => m.userId === userId).permissions;
    expect(perms('po')).toContainEqual(expect.objectContaining({ permission: 'role:primary_owner', since: minute(1), until: null }));
    // R6: a custom member whose groups carry no role has no capability.
    expect(perms('u1').map((p: any) => p.permission)).toEqual(['role:custom']);
    // R33: the suspension at 09:07 ends the admin's access.
    expect(perms('u2')).toContainEqual(expect.objectContaining({ permission: 'role:admin', since: minute(6), until: minute(7) }));
    const after = await get(`/v1/tenants/acme/orgs/org-1/reports/access-review?at=${minute(20)}`);
    expect(after.body.members.map((m: any) => m.userId)).toEqual(['po', 'u1']);
    const admins = await get(`/v1/tenants/acme/orgs/org-1/reports/holders-during?permission=role:admin&from=${minute(0)}&to=${minute(30)}`);
    expect(admins.body.holders.map((h: any) => h.userId)).toEqual(['u2']);
    expect(admins.body.holders[0].intervals[0]).toMatchObject({ from: minute(6), to: minute(7) });
  });

  test('access-review CSV: text/csv, one row per permission, formula cells guarded', async () => {
    const { status, type, text } = await get(`/v1/tenants/acme/orgs/org-review/reports/access-review?at=${at(4)}&format=csv`);
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/csv/);
    const lines = text.trimEnd().split('\r\n');
    expect(lines[0]).toBe('userId,permission,level,since,grantedBy,until');
    expect(lines).toHaveLength(1 + 5);
    expect(lines[1]!.startsWith("'=cmd|calc,capability:chat,granted,")).toBe(true);
    expect(lines).toContain(`bob,capability:claude_code,granted,${at(1)},ev-bob-capability:claude_code-1-open,${at(5)}`);
  });

  test('the other reports answer JSON and CSV from the same catalog', async () => {
    const period = `from=${at(0)}&to=${at(10)}`;
    const base = '/v1/tenants/acme/orgs/org-review/reports';
    const holders = await get(`${base}/holders-during?${period}&permission=capability:claude_code`);
    expect(holders.status).toBe(200);
    expect(holders.body.holders.map((h: any) => [h.userId, h.totalMs])).toEqual([
      ['alice', 9 * 3600_000],
      ['bob', 4 * 3600_000],
    ]);
    const sod = await get(`${base}/sod-violations?${period}`);
    expect(sod.status).toBe(200);
    expect(sod.body.violations).toEqual([
      expect.objectContaining({ userId: 'alice', permissionA: 'admin:billing', permissionB: 'admin:identity_access', from: at(3), to: at(10) }),
    ]);
    const changes = await get(`${base}/changes?${period}`);
    expect(changes.status).toBe(200);
    expect(changes.body.changes.filter((c: any) => c.userId === 'bob').map((c: any) => c.change)).toEqual(['gained', 'lost']);
    const privileged = await get(`${base}/privileged?${period}&bucket=day`);
    expect(privileged.status).toBe(200);
    expect(privileged.body.buckets.some((b: any) => b.permission === 'admin:billing' && b.userIds.includes('alice'))).toBe(true);
    for (const name of ['orphaned-api-keys', 'custom-without-group']) {
      const r = await get(`/v1/tenants/acme/orgs/org-1/reports/${name}`);
      expect(r.status).toBe(200);
    }
    // R6: u1 is custom and left its only group at minute 9.
    const custom = await get(`/v1/tenants/acme/orgs/org-1/reports/custom-without-group?at=${minute(20)}`);
    expect(custom.body.members.map((m: any) => m.userId)).toEqual(['u1']);
    const inGroup = await get(`/v1/tenants/acme/orgs/org-1/reports/custom-without-group?at=${minute(6)}`);
    expect(inGroup.body.members).toEqual([]);
    // The CSV header names exactly the fields of the JSON rows.
    const rowsOf: [string, any][] = [
      [`holders-during?${period}&permission=capability:claude_code`, holders.body.holders[0].intervals[0]],
      [`sod-violations?${period}`, sod.body.violations[0]],
      [`changes?${period}`, changes.body.changes[0]],
      [`privileged?${period}&bucket=day`, privileged.body.buckets[0]],
    ];
    for (const [query, row] of rowsOf) {
      const csv = await get(`${base}/${query}&format=csv`);
      expect(csv.type).toMatch(/^text\/csv/);
      expect(csv.text.split('\r\n')[0]!.split(',').sort()).toEqual(Object.keys(row).sort());
    }
    const empty = await get(`/v1/tenants/acme/orgs/org-1/reports/orphaned-api-keys?format=csv`);
    expect(empty.text).toBe('orgId,workspaceId,apiKeyId,name,createdBy,createdAt,createdByEvent,creatorStatus,creatorLeftAt,creatorLeftEvent\r\n');
  });

  test('access-review pages by member: `limit` members after `cursor`, `nextCursor` until the last; together they are the CSV, which is complete', async () => {
    const base = `/v1/tenants/acme/orgs/org-review/reports/access-review?at=${at(4)}`;
    const csv = (await get(`${base}&format=csv`)).text.trimEnd().split('\r\n').slice(1);
    const seen: string[] = [];
    const lines: string[] = [];
    let next: string | null = null;
    let pages = 0;
    do {
      const page = await get(`${base}&limit=1${next ? `&cursor=${next}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.members).toHaveLength(1);
      for (const m of page.body.members) {
        seen.push(m.userId);
        for (const p of m.permissions) lines.push([m.userId, p.permission, p.level, p.since, p.grantedBy, p.until ?? ''].join(','));
      }
      next = page.body.nextCursor;
      pages++;
    } while (next);
    expect(pages).toBe(3);
    expect(seen).toEqual(['=cmd|calc', 'alice', 'bob']);
    // The CSV guards the formula cell; the JSON gives the id as it is.
    expect(lines.map((l) => l.replace(/^=/, "'="))).toEqual(csv);
    const all = await get(base);
    expect(all.body.nextCursor).toBeNull();
    expect(all.body.members.map((m: any) => m.userId)).toEqual(seen);
    // Paging parameters of the JSON form are refused with the CSV, which is always the whole review.
    const csvPage = await get(`${base}&format=csv&limit=1&cursor=${(await get(`${base}&limit=1`)).body.nextCursor}`);
    expect(csvPage.status).toBe(400);
    expect(csvPage.body.errors.map((e: any) => e.path).sort()).toEqual(['cursor', 'limit']);
    for (const cursor of ['alice', 'eyJ1IjoxfQ', '', '%3D%3D']) {
      const bad = await get(`${base}&cursor=${cursor}`);
      expect(bad.status).toBe(400);
      expect(bad.type).toContain('application/problem+json');
      expect(bad.body.errors.map((e: any) => e.path)).toEqual(['cursor']);
    }
    for (const limit of ['0', '1001', 'ten']) expect((await get(`${base}&limit=${limit}`)).body.errors.map((e: any) => e.path)).toEqual(['limit']);
  });

  test('bad report requests: missing period, bad format, bad org id → 400 with every field; unknown report → 404', async () => {
    const missing = await get('/v1/tenants/acme/orgs/org-review/reports/holders-during?format=xml');
    expect(missing.status).toBe(400);
    expect(missing.body.errors.map((e: any) => e.path)).toEqual(expect.arrayContaining(['format', 'from', 'to', 'permission']));
    const backwards = await get(`/v1/tenants/acme/orgs/org-review/reports/changes?from=${at(5)}&to=${at(1)}`);
    expect(backwards.status).toBe(400);
    const org = await get(`/v1/tenants/acme/orgs/${encodeURIComponent("x' OR 1=1 --")}/reports/access-review`);
    expect(org.status).toBe(400);
    expect(org.body.errors[0].path).toBe('orgId');
    const unknown = await get('/v1/tenants/acme/orgs/org-review/reports/everything');
    expect(unknown.status).toBe(404);
    expect(unknown.type).toContain('application/problem+json');
    expect((await get('/v1/tenants/acme/orgs/org-review/reports/access-review', keys.globex)).status).toBe(403);
    expect((await get('/v1/tenants/acme/orgs/org-review/reports/access-review', keys.acmeNoAudit)).status).toBe(403);
  });
});

describe('how current an answer is: Ledger-Projected-Through and minPosition (read your writes)', () => {
  let key = '';
  const tenant = 'initech';
  /** A command whose answer gives the store position of its (last) event. */
  async function positionOf(type: string, payload: object, occurredAt: string): Promise<number> {
    const res = await fetch(`${url}/v1/tenants/${tenant}/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ type, actor: system, payload, occurredAt }),
    });
    expect(res.status).toBe(201);
    const { events } = (await res.json()) as { events: { position: number }[] };
    return events.at(-1)!.position;
  }
  const getWithHeaders = async (path: string) => {
    const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: res.status, headers: res.headers, body: (await res.json()) as any };
  };

  beforeAll(() => {
    key = app.get(ApiKeyStore).create({ tenantId: tenant, scopes: SCOPES }).key;
  });

  test('every audit and report answer says through which store position its table was complete', async () => {
    const position = await positionOf(
      'CreateOrganization',
      { orgId: 'ini-1', name: 'Initech', dualSeat: false, provisioningMode: 'invite_only', usageBased: false },
      minute(0),
    );
    await side.readModel.caughtUp();
    const audit = await getWithHeaders(`/v1/tenants/${tenant}/audit/events`);
    expect(audit.status).toBe(200);
    const through = Number(audit.headers.get('ledger-projected-through'));
    expect(through).toBeGreaterThanOrEqual(position);
    for (const e of audit.body.events) expect(e.position).toBeLessThanOrEqual(through);
    const review = await getWithHeaders(`/v1/tenants/${tenant}/orgs/ini-1/reports/access-review?at=${minute(30)}`);
    expect(review.status).toBe(200);
    expect(Number(review.headers.get('ledger-projected-through'))).toBeGreaterThanOrEqual(position);
  });

  test('minPosition: an answer right after a command includes that command, in the audit trail and in the interval reports', async () => {
    await positionOf(
      'CreateOrganization',
      { orgId: 'ini-2', name: 'Initech 2', dualSeat: false, provisioningMode: 'invite_only', usageBased: false },
      minute(0),
    );
    const position = await positionOf('AddMember', { orgId: 'ini-2', userId: 'milton', email: 'milton@initech.test', role: 'primary_owner' }, minute(1));
    // No catch-up here: the projections batch for up to 250 ms, so only the wait makes the answer hold the event.
    const audit = await getWithHeaders(`/v1/tenants/${tenant}/audit/events?minPosition=${position}&subject=milton`);
    expect(audit.status).toBe(200);
    expect(audit.body.events.map((e: any) => [e.type, e.position])).toEqual([['MemberAdded', position]]);
    expect(Number(audit.headers.get('ledger-projected-through'))).toBeGreaterThanOrEqual(position);
    const later = await positionOf('AddMember', { orgId: 'ini-2', userId: 'peter', email: 'peter@initech.test', role: 'user' }, minute(2));
    const review = await getWithHeaders(`/v1/tenants/${tenant}/orgs/ini-2/reports/access-review?at=${minute(30)}&minPosition=${later}`);
    expect(review.status).toBe(200);
    expect(review.body.members.map((m: any) => m.userId)).toEqual(['milton', 'peter']);
  });

  test('minPosition the read model does not reach within the wait → 503 read-model-behind with Retry-After, nothing else', async () => {
    const ahead = 1e12;
    const started = Date.now();
    const res = await fetch(`${url}/v1/tenants/${tenant}/audit/events?minPosition=${ahead}`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(503);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.headers.get('retry-after')).toBe('1');
    expect(Number(res.headers.get('ledger-projected-through'))).toBeLessThan(ahead);
    const body = (await res.json()) as any;
    expect(body).toMatchObject({ status: 503, type: 'urn:access-ledger:problem:read-model-behind' });
    expect(body.detail).toContain(String(ahead));
  });

  test('a malformed minPosition → 400 naming it, together with every other failing field', async () => {
    for (const bad of ['-1', '1.5', 'abc', '1e3', '']) {
      const audit = await getWithHeaders(`/v1/tenants/${tenant}/audit/events?minPosition=${encodeURIComponent(bad)}&limit=0`);
      expect(audit.status).toBe(400);
      expect(audit.body.errors.map((e: any) => e.path).sort()).toEqual(['limit', 'minPosition']);
    }
    const report = await getWithHeaders(`/v1/tenants/${tenant}/orgs/ini-1/reports/access-review?minPosition=x&format=xml`);
    expect(report.status).toBe(400);
    expect(report.body.errors.map((e: any) => e.path).sort()).toEqual(['format', 'minPosition']);
    const twice = await getWithHeaders(`/v1/tenants/${tenant}/audit/events?minPosition=1&minPosition=2`);
    expect(twice.status).toBe(400);
  });
});

describe('operations', () => {
  test('/ready reports the read model and its lag; /metrics has the read-model series', async () => {
    const ready = await get('/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ready', eventStore: true, readModel: true, readModelLag: { audit_events: 0 } });
    const metrics = await get('/metrics');
    expect(metrics.text).toContain('ledger_read_model_lag_events{projection="audit_events"} 0');
    expect(metrics.text).toMatch(/ledger_read_model_events_projected_total \d+/);
  });

  test('/docs/openapi.json documents the audit, report and export routes with their parameters', async () => {
    const doc = (await get('/docs/openapi.json')).body;
    const audit = doc.paths['/v1/tenants/{tenantId}/audit/events'].get;
    expect(audit.parameters.map((p: any) => p.name)).toEqual(
      expect.arrayContaining(['orgId', 'actor', 'subject', 'type', 'from', 'to', 'limit', 'cursor', 'minPosition']),
    );
    expect(audit.responses['200'].headers['Ledger-Projected-Through']).toBeDefined();
    expect(audit.responses['503']).toBeDefined();
    for (const name of ['access-review', 'holders-during', 'changes', 'privileged', 'sod-violations', 'orphaned-api-keys', 'custom-without-group'])
      expect(doc.paths[`/v1/tenants/{tenantId}/orgs/{orgId}/reports/${name}`].get.parameters.map((p: any) => p.name)).toEqual(
        expect.arrayContaining(['format', 'minPosition']),
      );
    expect(doc.paths['/v1/tenants/{tenantId}/exports'].post).toBeDefined();
    expect(doc.paths['/v1/tenants/{tenantId}/exports/{exportId}'].get).toBeDefined();
  });
});

/** The compiled CLI (`npm run build` first; `npm test` does) as a child process with Node 24. */
const cli = LEDGER_CLI;
const ledger = (dir: string, ...args: string[]) => runLedger(dir, args, { LEDGER_URL: '', LEDGER_KEY: '' });

describe('ledger report', () => {
  const line = (id: string, type: string, minute: number, data: object) =>
    JSON.stringify({
      id,
      type,
      occurredAt: new Date(Date.UTC(2026, 0, 5, 10, minute)).toISOString(),
      actor: { kind: 'import' },
      source: 'console_import',
      data,
    });

  test('on a data directory the server is not running on: imports in, the audit trail caught up, the report out (JSON and CSV)', async () => {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
    const dir = mkdtempSync(join(tmpdir(), 'report-cli-'));
    try {
      writeFileSync(
        join(dir, 'events.ndjson'),
        [
          line('e-org', 'OrganizationCreated', 0, { orgId: 'acme-eng', name: 'Acme', dualSeat: false, provisioningMode: 'invite_only', usageBased: false }),
          line('e-po', 'MemberAdded', 1, { orgId: 'acme-eng', userId: 'po', email: 'po@a.test', role: 'primary_owner' }),
          line('e-u1', 'MemberAdded', 2, { orgId: 'acme-eng', userId: 'u1', email: 'u1@a.test', role: 'custom' }),
        ].join('\n') + '\n',
      );
      expect((await ledger(dir, 'import', join(dir, 'events.ndjson'), '--tenant', 'acme')).status).toBe(0);
      const audit = await ledger(dir, 'report', 'audit', '--tenant', 'acme', '-p', 'limit=2');
      expect(audit.status).toBe(0);
      const page = JSON.parse(audit.stdout);
      expect(page.events.map((e: any) => e.id)).toEqual(['e-u1', 'e-po']);
      expect(page.nextCursor).toEqual(expect.any(String));
      // minPosition as the route takes it: met by construction on disk (caught up first), still validated.
      expect((await ledger(dir, 'report', 'audit', '--tenant', 'acme', '-p', 'minPosition=2')).status).toBe(0);
      const badPosition = await ledger(dir, 'report', 'audit', '--tenant', 'acme', '-p', 'minPosition=x');
      expect(badPosition.status).toBe(2);
      expect(badPosition.stderr).toContain('minPosition');
      // R6: the custom member in no group.
      const custom = await ledger(dir, 'report', 'custom-without-group', '-t', 'acme', '-o', 'acme-eng', '--format', 'csv');
      expect(custom.status).toBe(0);
      expect(custom.stdout.split('\r\n')[0]).toBe('orgId,userId,status,customSince,roleEvent');
      expect(custom.stdout).toContain('acme-eng,u1,active,2026-01-05T10:02:00.000Z,e-u1');
      // The access review: one page of members (the next cursor on stderr), and the complete CSV streamed to stdout.
      const firstPage = await ledger(dir, 'report', 'access-review', '-t', 'acme', '-o', 'acme-eng', '--at', '2026-02-01', '-p', 'limit=1');
      expect(firstPage.status).toBe(0);
      expect(JSON.parse(firstPage.stdout).members.map((m: any) => m.userId)).toEqual(['po']);
      const next = /more members: -p cursor=(\S+)/.exec(firstPage.stderr)?.[1];
      expect(next).toEqual(expect.any(String));
      const secondPage = await ledger(
        dir,
        'report',
        'access-review',
        '-t',
        'acme',
        '-o',
        'acme-eng',
        '--at',
        '2026-02-01',
        '-p',
        'limit=1',
        '-p',
        `cursor=${next}`,
      );
      expect(JSON.parse(secondPage.stdout)).toMatchObject({ members: [{ userId: 'u1' }], nextCursor: null });
      const review = await ledger(dir, 'report', 'access-review', '-t', 'acme', '-o', 'acme-eng', '--at', '2026-02-01', '--format', 'csv');
      expect(review.status).toBe(0);
      const reviewLines = review.stdout.split('\r\n');
      expect(reviewLines[0]).toBe('userId,permission,level,since,grantedBy,until');
      expect(reviewLines).toContain('u1,role:custom,custom,2026-01-05T10:02:00.000Z,e-u1,');
      expect(new Set(reviewLines.slice(1, -1).map((l) => l.split(',')[0]))).toEqual(new Set(['po', 'u1']));
      // As the route: an organization, permission or level the tenant never had is an error, never an empty report.
      const unknownOrg = await ledger(dir, 'report', 'access-review', '-t', 'acme', '-o', 'acme-engg');
      expect({ status: unknownOrg.status, stdout: unknownOrg.stdout }).toEqual({ status: 1, stdout: '' });
      expect(unknownOrg.stderr).toContain('organization "acme-engg" is not known in this tenant; known: acme-eng');
      const period = ['--from', '2026-01-01', '--to', '2026-02-01'];
      const badPair = await ledger(dir, 'report', 'sod-violations', '-t', 'acme', '-o', 'acme-eng', ...period, '-p', 'pairs=admin:billing+admin:billng');
      expect(badPair.status).toBe(2);
      expect(badPair.stderr).toContain('pairs: "billng" is not an admin area; known: analytics, billing');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("while the server holds the data directory: a clear refusal (exit 2); with --url and --key the server's route answers", async () => {
    const at = new Date(Date.UTC(2026, 3, 1, 4)).toISOString();
    const [held, csv] = await Promise.all([
      ledger(dataDir, 'report', 'audit', '-t', 'acme'),
      ledger(dataDir, 'report', 'access-review', '-t', 'acme', '-o', 'org-review', '--at', at, '--format', 'csv', '--url', url, '--key', keys.acme),
    ]);
    expect(held.status).toBe(2);
    expect(held.stderr).toContain('in use by another process');
    expect(held.stderr).not.toMatch(/DB::Exception|Cannot lock file|^\s{4}at /m); // asked before chDB opens (and prints)
    expect(csv.status).toBe(0);
    expect(csv.stdout.split('\r\n')[0]).toBe('userId,permission,level,since,grantedBy,until');
  });
});
