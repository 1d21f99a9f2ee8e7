/**
 * Issue 11 items 1–2: no silent empty answers. A typo — an unknown organization, member, capability, connector,
 * tool, event type, report or query parameter, a period backwards — is a 404 or a 400 naming the valid choices,
 * never a 200 that reads as "nobody had access"; and every route reads instants in one grammar.
 * The real server (SQLite store, chDB read model, the access projection) on loopback.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { INSTANT_MESSAGE } from '@access-ledger/access-model';
import { composeServer, type ReadSide } from '../apps/api/src/compose.js';
import { ApiKeyStore } from '../apps/api/src/keys/api-key-store.js';
import { SCOPES } from '../apps/api/src/keys/scopes.js';
import { QUIET, testConfig } from '../apps/api/test/support/test-server.js';
import { runLedger } from './support/ledger-cli.js';

let app: NestFastifyApplication;
let side: ReadSide;
let url: string;
let dataDir: string;
let key = '';
const T = '/v1/tenants/acme';
const O = `${T}/orgs/org-1`;

async function command(type: string, payload: object, occurredAt: string): Promise<void> {
  const res = await fetch(`${url}${T}/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ type, actor: { kind: 'system' }, payload, occurredAt }),
  });
  if (res.status !== 201) throw new Error(`${type} → ${res.status} ${await res.text()}`);
}

async function get(path: string): Promise<{ status: number; type: string; body: any }> {
  const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, type, body: type.includes('json') ? JSON.parse(text) : text };
}

/** A problem+json answer with this status; its errors as `path: message` lines. */
async function problem(path: string, status: number): Promise<{ detail: string; errors: string[] }> {
  const answer = await get(path);
  expect({ path, status: answer.status, type: answer.type }).toEqual({ path, status, type: expect.stringMatching(/^application\/problem\+json/) });
  return { detail: answer.body.detail, errors: (answer.body.errors ?? []).map((e: { path: string; message: string }) => `${e.path}: ${e.message}`) };
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'strict-inputs-'));
  const server = await composeServer(testConfig(dataDir), QUIET);
  ({ app, url } = server);
  side = server.readSide!;
  key = app.get(ApiKeyStore).create({ tenantId: 'acme', scopes: SCOPES }).key;
  await command(
    'CreateOrganization',
    { orgId: 'org-1', name: 'Acme', dualSeat: false, provisioningMode: 'invite_only', usageBased: false },
    '2026-03-01T09:00:00.000Z',
  );
  await command('AddMember', { orgId: 'org-1', userId: 'po', email: 'po@acme.test', role: 'primary_owner' }, '2026-03-01T09:01:00.000Z');
  await command('AddMember', { orgId: 'org-1', userId: 'u1', email: 'u1@acme.test', role: 'admin' }, '2026-03-01T09:02:00.000Z');
  await command('AddConnector', { orgId: 'org-1', connectorId: 'jira', name: 'Jira', tools: ['search', 'create'] }, '2026-03-01T09:03:00.000Z');
  await side.readModel.caughtUp();
}, 60_000);

afterAll(async () => {
  await app?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('an unknown organization is a 404 on every organization route (the access projection says which exist)', () => {
  const routes = [
    'reports/access-review',
    'reports/holders-during?permission=capability:chat&from=2026-01-01&to=2026-12-31',
    'reports/changes?from=2026-01-01&to=2026-12-31',
    'reports/privileged?from=2026-01-01&to=2026-12-31',
    'reports/sod-violations?from=2026-01-01&to=2026-12-31',
    'reports/orphaned-api-keys',
    'reports/custom-without-group',
    'access/holders?capability=chat',
    'access/changes?from=2026-01-01',
    'members/po/access',
    'members/po/access/diff?from=2026-01-01',
    'members/po/access/timeline',
    'members',
    'groups',
    'groups/g-any',
    'catalog',
  ];
  test.each(routes)('orgs/nope/%s → 404 not-found', async (route) => {
    const { detail } = await problem(`${T}/orgs/nope/${route}`, 404);
    expect(detail).toBe('organization "nope" is not known in this tenant; known: org-1');
  });

  test('the known organization answers (the same routes are not 404 for it)', async () => {
    expect((await get(`${O}/reports/access-review`)).status).toBe(200);
    expect((await get(`${O}/members/po/access`)).status).toBe(200);
  });
});

describe('unknown names are 404/400 naming the valid choices', () => {
  test('an unknown member → 404 on each member route', async () => {
    for (const route of ['access', 'access/diff?from=2026-01-01', 'access/timeline'])
      expect((await problem(`${O}/members/nobody/${route}`, 404)).detail).toBe(
        'member "nobody" is not known in organization org-1; GET /orgs/org-1/members?q=… finds members',
      );
  });

  test('an unknown group → 404 naming the route that lists the groups', async () => {
    expect((await problem(`${O}/groups/nobody`, 404)).detail).toBe(
      'group "nobody" is not known in this tenant; GET /orgs/org-1/groups lists the groups of org-1',
    );
  });

  test('holders?capability=claudecode → 400 listing the capabilities of the catalog at that instant', async () => {
    const { errors } = await problem(`${O}/access/holders?capability=claudecode`, 400);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^capability: is not a capability of this tenant at .*; known: .*\bchat\b.*\bclaude_code\b/);
  });

  test('an unknown connector or tool → 400 naming the known ones; a removed-or-not tool that exists answers', async () => {
    expect((await problem(`${O}/access/holders?tool=jria/search`, 400)).errors).toEqual([
      'tool: connector jria is not known in organization org-1; known: jira',
    ]);
    expect((await problem(`${O}/access/holders?tool=jira/serach`, 400)).errors).toEqual(['tool: connector jira has no tool serach; known: create, search']);
    expect((await get(`${O}/access/holders?tool=jira/search`)).status).toBe(200);
  });

  test('an unknown admin area or level → 400 naming the valid values', async () => {
    const area = await problem(`${O}/access/holders?adminArea=billng`, 400);
    expect(area.errors[0]).toMatch(/^adminArea: .*"billing"/);
    expect((await problem(`${O}/access/holders?adminArea=billing&minLevel=edit`, 400)).errors).toEqual(['minLevel: must be none, view or manage']);
    expect((await problem(`${O}/access/holders?tool=jira/search&minLevel=yes`, 400)).errors).toEqual([
      'minLevel: must be blocked, needs_approval or always_allow',
    ]);
  });

  test('audit/events?type=MemberAddedd → 400 listing the event types', async () => {
    const { errors } = await problem(`${T}/audit/events?type=MemberAddedd`, 400);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^type: MemberAddedd is not an event type; event types: .*\bOrganizationCreated\b.*\bMemberAdded\b/);
    expect((await get(`${T}/audit/events?type=MemberAdded`)).body.events).toHaveLength(2);
  });

  test('holders-during?permission= a permission the organization cannot hold → 400 naming the valid ones', async () => {
    const period = 'from=2026-01-01&to=2026-12-31';
    const base = `${O}/reports/holders-during?${period}&permission=`;
    expect((await problem(`${base}capability:claudecode`, 400)).errors).toEqual([
      expect.stringMatching(/^permission: "claudecode" is not a capability of this tenant; known: .*\bclaude_code\b/),
    ]);
    expect((await problem(`${base}admin:billng`, 400)).errors).toEqual([
      expect.stringMatching(/^permission: "billng" is not an admin area; known: .*\bbilling\b/),
    ]);
    expect((await problem(`${base}tool:jira/serach`, 400)).errors).toEqual(['permission: connector jira has no tool serach; known: create, search']);
    expect((await problem(`${base}capabilty:chat`, 400)).errors).toEqual([expect.stringMatching(/^permission: must be capability:<name>, tool:/)]);
    for (const permission of ['capability:claude_code', 'admin:billing', 'tool:jira/search', 'role:owner', 'console:admin', 'seat', 'spend'])
      expect({ permission, status: (await get(`${base}${permission}`)).status }).toEqual({ permission, status: 200 });
  });

  test('holders-during levels= and sod-violations pairs= name only permissions and levels that can be held → else 400', async () => {
    const period = 'from=2026-01-01&to=2026-12-31';
    expect((await problem(`${O}/reports/holders-during?${period}&permission=admin:billing&levels=mange`, 400)).errors).toEqual([
      'permission: "mange" is not a level admin:billing is held at; levels of admin: view, manage',
    ]);
    expect((await problem(`${O}/reports/holders-during?${period}&permission=tool:jira/search&levels=blocked`, 400)).errors).toEqual([
      'permission: "blocked" is not a level tool:jira/search is held at; levels of tool: needs_approval, always_allow',
    ]);
    expect((await problem(`${O}/reports/sod-violations?${period}&pairs=admin:billing%2Badmin:billng`, 400)).errors).toEqual([
      expect.stringMatching(/^pairs: "billng" is not an admin area; known: .*\bbilling\b/),
    ]);
    expect((await problem(`${O}/reports/sod-violations?${period}&pairs=admin:billing=manage%2Bcapability:chat=manage`, 400)).errors).toEqual([
      'pairs: "manage" is not a level capability:chat is held at; levels of capability: granted',
    ]);
    expect((await get(`${O}/reports/holders-during?${period}&permission=admin:billing&levels=manage`)).status).toBe(200);
    expect((await get(`${O}/reports/sod-violations?${period}&pairs=admin:billing=manage%2Btool:jira/search`)).status).toBe(200);
    expect((await get(`${O}/reports/sod-violations?${period}`)).status).toBe(200);
  });

  test('an unknown report → 404 listing the report names', async () => {
    const { detail } = await problem(`${O}/reports/acess-review`, 404);
    expect(detail).toMatch(/^There is no report named "acess-review"; reports: access-review, holders-during, changes, privileged, sod-violations/);
  });
});

describe('a period with from later than to → 400 on every route with a period', () => {
  test.each([
    `${T}/audit/events?from=2026-03-02&to=2026-03-01`,
    `${O}/reports/changes?from=2026-03-02&to=2026-03-01`,
    `${O}/reports/holders-during?permission=capability:chat&from=2026-03-02&to=2026-03-01`,
    `${O}/reports/privileged?from=2026-03-02&to=2026-03-01`,
    `${O}/reports/sod-violations?from=2026-03-02&to=2026-03-01`,
    `${O}/access/changes?from=2026-03-02&to=2026-03-01`,
    `${O}/members/po/access/diff?from=2026-03-02&to=2026-03-01`,
    `${O}/members/po/access/timeline?from=2026-03-02&to=2026-03-01`,
  ])('%s', async (path) => {
    const { errors } = await problem(path, 400);
    expect(errors).toEqual([expect.stringMatching(/^to: .*(before|after)/)]);
  });
});

describe('an unknown query parameter → 400 naming it and the accepted ones, on every route', () => {
  test('access?explian=true', async () => {
    expect((await problem(`${O}/members/po/access?explian=true`, 400)).errors).toEqual([
      'explian: is not a parameter of this route; accepted: at, knownAt, explain',
    ]);
  });

  test.each([
    [`${O}/access/holders?capability=chat&limit=5`, 'limit', 'at, knownAt, capability, tool, adminArea, minLevel'],
    [`${O}/access/changes?from=2026-01-01&userId=po`, 'userId', 'from, to, knownAt'],
    [`${O}/members/po/access/diff?from=2026-01-01&at=2026-02-01`, 'at', 'from, to, knownAt'],
    [`${O}/members/po/access/timeline?explain=true`, 'explain', 'from, to, knownAt'],
    [`${T}/audit/events?typ=MemberAdded`, 'typ', 'orgId, actor, subject, type, from, to, limit, cursor, minPosition'],
    [`${O}/groups?status=active`, 'status', 'at, knownAt, q, limit, cursor'],
    [`${O}/groups/g-any?q=x`, 'q', 'at, knownAt, limit, cursor'],
    [`${O}/reports/access-review?userid=po`, 'userid', 'at, userId, limit, cursor, format, minPosition'],
    [`${O}/reports/changes?from=2026-01-01&to=2026-02-01&user=po`, 'user', 'from, to, userId, permissionPrefix, format, minPosition'],
  ])('%s', async (path, parameter, accepted) => {
    expect((await problem(path, 400)).errors).toEqual([`${parameter}: is not a parameter of this route; accepted: ${accepted}`]);
  });
});

describe('one instant grammar on every route (issue 11 item 2)', () => {
  const forms = [
    '2026-03-01T09:02:30.000Z',
    '2026-03-01T09:02:30Z',
    '2026-03-01T11:02:30+02:00',
    '2026-03-01T09:02:30.000+00:00',
    '2026-03-01T04:02:30.000-05:00',
  ];

  test('the same instant in each accepted form gives the same answer on an access route and a report route', async () => {
    const access = await Promise.all(forms.map((at) => get(`${O}/members/u1/access?at=${encodeURIComponent(at)}`)));
    const review = await Promise.all(forms.map((at) => get(`${O}/reports/access-review?at=${encodeURIComponent(at)}`)));
    for (const answer of [...access, ...review]) expect(answer.status).toBe(200);
    for (const answer of access) expect(answer.body).toEqual(access[0]!.body);
    for (const answer of review) expect(answer.body).toEqual(review[0]!.body);
    expect(access[0]!.body.at).toBe('2026-03-01T09:02:30.000Z');
    expect(review[0]!.body.at).toBe('2026-03-01T09:02:30.000Z');
    expect(review[0]!.body.members.map((m: { userId: string }) => m.userId)).toEqual(['po', 'u1']);
  });

  test('a date is the start of that day UTC, on the audit search as on the access routes', async () => {
    const byDate = await get(`${T}/audit/events?from=2026-03-01&to=2026-03-02`);
    const byInstant = await get(`${T}/audit/events?from=2026-03-01T00:00:00.000Z&to=2026-03-02T00:00:00.000Z`);
    expect(byDate.status).toBe(200);
    expect(byDate.body).toEqual(byInstant.body);
    expect(byDate.body.events).toHaveLength(4);
    const at = await get(`${O}/members/po/access?at=2026-03-02`);
    expect(at.body.at).toBe('2026-03-02T00:00:00.000Z');
  });

  test.each([
    [`${O}/members/po/access?at=2026-02-30T00:00:00Z`, 'at', '2026-02-30 is not a calendar date'],
    [`${O}/reports/access-review?at=2026-02-30`, 'at', '2026-02-30 is not a calendar date'],
    [`${O}/groups?at=2026-02-30`, 'at', '2026-02-30 is not a calendar date'],
    [`${O}/groups/g-any?knownAt=2026-03-01T24:00:01Z`, 'knownAt', '24:00:01 is not a time of day'],
    [`${T}/audit/events?from=2026-02-30T00:00:00.000Z`, 'from', '2026-02-30 is not a calendar date'],
    [`${O}/access/changes?from=2026-03-01T24:00:01Z`, 'from', '24:00:01 is not a time of day'],
    [`${O}/reports/changes?from=2026-03-01T24:00:01Z&to=2026-04-01`, 'from', '24:00:01 is not a time of day'],
  ])('%s → 400 with the one message', async (path, parameter, why) => {
    expect((await problem(path, 400)).errors).toEqual([`${parameter}: ${INSTANT_MESSAGE}; ${why}`]);
  });

  test('a value outside the grammar → the same message on every route', async () => {
    for (const path of [`${O}/members/po/access?at=yesterday`, `${O}/reports/access-review?at=yesterday`, `${T}/audit/events?to=yesterday`])
      expect((await problem(path, 400)).errors).toEqual([expect.stringMatching(/^(at|to): must be an instant: 2026-03-01, /)]);
  });

  test('ledger export --from/--to take the same grammar: 2026-02-30 → exit 2 with the one message', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'strict-inputs-export-'));
    try {
      const refused = await runLedger(empty, ['export', 's3', '-t', 'acme', '--from', '2026-02-30', '--to', '2026-03-02', '--uri', 's3://bucket/prefix']);
      expect(refused.status).toBe(2);
      expect(refused.stderr).toContain(`--from "2026-02-30": ${INSTANT_MESSAGE}; 2026-02-30 is not a calendar date`);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  }, 60_000);

  test('ledger report --at takes the same grammar and refuses 2026-02-30 with the same message, on disk and over HTTP', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'strict-inputs-cli-'));
    try {
      // On the data directory, the parameters are checked before anything opens; over HTTP, the route checks them.
      for (const where of [[], ['--url', url, '--key', key]]) {
        const refused = await runLedger(empty, ['report', 'access-review', '-t', 'acme', '-o', 'org-1', '--at', '2026-02-30', ...where]);
        expect(refused.status).toBe(2);
        expect(refused.stderr).toContain(`at: ${INSTANT_MESSAGE}; 2026-02-30 is not a calendar date`);
      }
      const ok = await runLedger(empty, [
        'report',
        'access-review',
        '-t',
        'acme',
        '-o',
        'org-1',
        '--at',
        '2026-03-01T11:02:30+02:00',
        '--url',
        url,
        '--key',
        key,
      ]);
      expect(ok.status).toBe(0);
      expect(JSON.parse(ok.stdout).at).toBe('2026-03-01T09:02:30.000Z');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('routes that take no query string refuse any parameter (never silently ignored)', () => {
  test.each([
    ['POST', `${T}/commands?dryRun=true`, 'dryRun'],
    ['GET', `${T}/integrity?verbose=1`, 'verbose'],
    ['GET', `${T}/exports?status=failed`, 'status'],
    ['POST', `${T}/events:import?validateOnly=true`, 'validateOnly'],
  ])('%s %s → 400 naming %s; nothing done', async (method, path, name) => {
    const before = (await get(`${T}/integrity`)).body.events;
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': method === 'POST' && path.includes('import') ? 'application/x-ndjson' : 'application/json' },
      ...(method === 'POST'
        ? {
            body: path.includes('import')
              ? ''
              : JSON.stringify({ type: 'CreateGroup', actor: { kind: 'system' }, payload: { groupId: 'g-dry', name: 'Dry', source: 'manual' } }),
          }
        : {}),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      type: 'urn:access-ledger:problem:invalid-input',
      errors: [{ path: name, message: 'is not a parameter of this route, which takes none' }],
    });
    expect((await get(`${T}/integrity`)).body.events).toBe(before);
  });
});
