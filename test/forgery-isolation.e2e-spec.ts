/**
 * Forgery and isolation, end to end on the real server (embedded SQLite store, chDB read model):
 * keys speak for a principal and a command's actor is derived from it, event ids are unique per tenant,
 * and a refused command is filed under the organization it targeted.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiKeyStore } from '../apps/api/src/keys/api-key-store.js';
import { SCOPES, type Scope } from '../apps/api/src/keys/scopes.js';
import { composeServer, type ReadSide } from '../apps/api/src/compose.js';
import { QUIET, testConfig } from '../apps/api/test/support/test-server.js';
import type { Principal } from '@access-ledger/access-model';
import { tenantStream, type RecordedEvent } from '@access-ledger/event-store';
import type { Ledger } from '@access-ledger/ledger';

let app: NestFastifyApplication;
let side: ReadSide;
let ledger: Ledger;
let url: string;
let dataDir: string;
let store: ApiKeyStore;
let admin: string;

const system = { kind: 'system' } as const;
const owner = { kind: 'member', orgId: 'org-1', userId: 'po' } as const;
const user = { kind: 'member', orgId: 'org-1', userId: 'u1' } as const;

function newKey(scopes: readonly Scope[], principal: Principal, tenantId = 'acme'): { key: string; id: string } {
  const created = store.create({ tenantId, scopes, principal });
  return { key: created.key, id: created.id };
}

async function send(key: string, body: object, tenant = 'acme'): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/v1/tenants/${tenant}/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function importLines(key: string, lines: object[], tenant = 'acme'): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/v1/tenants/${tenant}/events:import`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${key}` },
    body: lines.map((l) => JSON.stringify(l)).join('\n'),
  });
  return { status: res.status, body: await res.json() };
}

async function audit(query: string, tenant = 'acme'): Promise<any[]> {
  await side.readModel.caughtUp();
  const res = await fetch(`${url}/v1/tenants/${tenant}/audit/events?${query}`, { headers: { authorization: `Bearer ${admin}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { events: any[] }).events;
}

async function stored(tenant = 'acme'): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for await (const e of ledger.store.readStream(tenantStream(tenant))) events.push(e);
  return events;
}

const count = async (tenant = 'acme') => (await ledger.integrity(tenant)).events;
const transfer = (actor?: object) => ({ type: 'TransferPrimaryOwnership', ...(actor ? { actor } : {}), payload: { orgId: 'org-1', toUserId: 'u1' } });
const group = (groupId: string, actor?: object) => ({
  type: 'CreateGroup',
  ...(actor ? { actor } : {}),
  payload: { groupId, name: groupId, source: 'manual' },
});

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'forgery-isolation-'));
  const server = await composeServer(testConfig(dataDir, { READ_MODEL_WAIT_MS: '5000' }), QUIET);
  ({ app, url, core: ledger } = server);
  side = server.readSide!;
  store = app.get(ApiKeyStore);
  admin = newKey(SCOPES, system).key;
  const setup = [
    {
      type: 'CreateOrganization',
      actor: system,
      payload: { orgId: 'org-1', name: 'Acme', dualSeat: false, provisioningMode: 'invite_only', usageBased: false },
    },
    { type: 'AddMember', actor: system, payload: { orgId: 'org-1', userId: 'po', email: 'po@acme.test', role: 'primary_owner' } },
    { type: 'AddMember', actor: owner, payload: { orgId: 'org-1', userId: 'u1', email: 'u1@acme.test', role: 'user' } },
  ];
  for (const body of setup) expect((await send(admin, body)).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await app?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('Keys speak for a principal; the actor is derived from it', () => {
  test('R22/R24: a commands:write key of a member cannot claim system, platform or another member: 403 actor-not-allowed, nothing stored', async () => {
    const { key, id } = newKey(['commands:write'], user);
    const before = await count();
    for (const [claimed, scope, named] of [
      [system, 'admin', 'system'],
      [{ kind: 'platform' }, 'platform', 'platform'],
      [owner, 'act-as-member', 'member po of org-1'],
    ] as const) {
      const answer = await send(key, transfer(claimed));
      expect(answer.status).toBe(403);
      expect(answer.body.type).toBe('urn:access-ledger:problem:actor-not-allowed');
      expect(answer.body.detail).toBe(`This API key (${id}) acts as member u1 of org-1; acting as ${named} needs the scope ${scope}.`);
    }
    expect(await count()).toBe(before);
    expect((await stored()).some((e) => e.type === 'AccessChangeDenied')).toBe(false);
  });

  test("the issue's exact attack: a commands:write-only scim key sending TransferPrimaryOwnership as system gets 403, nothing stored", async () => {
    const { key } = newKey(['commands:write'], { kind: 'scim' });
    const before = await count();
    const answer = await send(key, transfer(system));
    expect(answer.status).toBe(403);
    expect(answer.body.type).toBe('urn:access-ledger:problem:actor-not-allowed');
    expect(answer.body.detail).toContain('needs the scope admin');
    expect(await count()).toBe(before);
  });

  test('R22: a member key without `actor` acts as its member, and the R22 checks apply to that member', async () => {
    const plain = newKey(['commands:write'], user);
    const refused = await send(plain.key, { type: 'ChangeMemberRole', payload: { orgId: 'org-1', userId: 'po', role: 'user' } });
    expect(refused.status).toBe(403);
    expect(refused.body.type).toBe('urn:access-ledger:problem:command-refused');
    const denied = (await stored()).find((e) => e.id === refused.body.events[0].id)!;
    expect(denied.metadata.actor).toEqual(user);

    const ownerKey = newKey(['commands:write'], owner);
    const added = await send(ownerKey.key, { type: 'AddMember', payload: { orgId: 'org-1', userId: 'u9', email: 'u9@acme.test', role: 'user' } });
    expect(added.status).toBe(201);
    // Naming its own principal is the same as leaving it out.
    expect((await send(ownerKey.key, { type: 'SuspendMember', actor: owner, payload: { orgId: 'org-1', userId: 'u9' } })).status).toBe(201);
    const event = (await stored()).find((e) => e.id === added.body.events[0].id)!;
    expect(event.metadata.actor).toEqual(owner);
  });

  test('scim, admin, platform and act-as-member each allow claiming exactly their kind of actor', async () => {
    const claims = { scim: { kind: 'scim' }, admin: system, platform: { kind: 'platform' }, 'act-as-member': owner } as const;
    let n = 0;
    for (const scope of Object.keys(claims) as (keyof typeof claims)[]) {
      const { key } = newKey(['commands:write', scope], user);
      for (const [other, actor] of Object.entries(claims)) {
        const answer = await send(key, group(`g-claim-${n++}`, actor));
        if (other === scope) expect(answer.body.type).not.toBe('urn:access-ledger:problem:actor-not-allowed');
        else expect(answer.body.type).toBe('urn:access-ledger:problem:actor-not-allowed');
      }
    }
  });

  test('every stored event records the key id and principal beside the claimed actor, and the audit API shows them (commands and imports)', async () => {
    const relay = newKey(['commands:write', 'act-as-member'], { kind: 'scim' });
    const sent = await send(relay.key, { type: 'AddMember', actor: owner, payload: { orgId: 'org-1', userId: 'u7', email: 'u7@acme.test', role: 'user' } });
    expect(sent.status).toBe(201);
    const eventId = sent.body.events[0].id as string;
    const auth = { keyId: relay.id, principal: { kind: 'scim' } };
    expect((await stored()).find((e) => e.id === eventId)!.metadata).toMatchObject({ actor: owner, auth });
    expect((await audit('subject=u7')).find((e) => e.id === eventId)).toMatchObject({ actor: owner, auth });

    const importer = newKey(['events:import'], system);
    const line = {
      id: 'imp-auth-1',
      type: 'GroupCreated',
      occurredAt: '2026-01-01T00:00:00.000Z',
      actor: { kind: 'import' },
      source: 'admin_api_import',
      data: { groupId: 'g-imported', name: 'Imported', source: 'manual' },
    };
    expect(await importLines(importer.key, [line])).toEqual({ status: 200, body: { appended: 1, skipped: 0 } });
    const importedAuth = { keyId: importer.id, principal: system };
    expect((await stored()).find((e) => e.id === 'imp-auth-1')!.metadata).toMatchObject({ actor: { kind: 'import' }, auth: importedAuth });
    expect((await audit('subject=g-imported'))[0]).toMatchObject({ id: 'imp-auth-1', auth: importedAuth });
  });
});

describe('Event ids are unique per tenant', () => {
  test('an id tenant globex imported first is appended, not skipped, when tenant acme imports it; a re-import in acme skips it', async () => {
    const line = {
      id: 'shared-import-id',
      type: 'GroupCreated',
      occurredAt: '2026-01-01T00:00:00.000Z',
      actor: { kind: 'import' },
      source: 'admin_api_import',
      data: { groupId: 'g-shared', name: 'Shared', source: 'manual' },
    };
    const globex = newKey(['events:import'], system, 'globex');
    const acme = newKey(['events:import'], system);
    expect(await importLines(globex.key, [line], 'globex')).toEqual({ status: 200, body: { appended: 1, skipped: 0 } });
    expect(await importLines(acme.key, [line])).toEqual({ status: 200, body: { appended: 1, skipped: 0 } });
    expect(await importLines(acme.key, [line])).toEqual({ status: 200, body: { appended: 0, skipped: 1 } });
    expect((await stored('globex')).filter((e) => e.id === 'shared-import-id')).toHaveLength(1);
    expect((await stored()).filter((e) => e.id === 'shared-import-id')).toHaveLength(1);
  });
});

describe('Ids such as __proto__ and constructor', () => {
  const awkward = ['__proto__', 'constructor', 'hasOwnProperty', 'toString'];

  async function getJson(path: string): Promise<{ status: number; body: any }> {
    const res = await fetch(`${url}/v1/tenants/acme/orgs/org-1/${path}`, { headers: { authorization: `Bearer ${admin}` } });
    return { status: res.status, body: await res.json() };
  }

  test("R17: connectors and tools named __proto__, constructor, hasOwnProperty, toString appear in a member's /access answer and in holders", async () => {
    for (const connectorId of awkward) {
      const added = await send(admin, {
        type: 'AddConnector',
        actor: system,
        payload: { orgId: 'org-1', connectorId, name: connectorId, tools: [...awkward, 'search'] },
      });
      expect(added.status).toBe(201);
    }
    const { status, body } = await getJson('members/po/access');
    expect(status).toBe(200);
    for (const connectorId of awkward) {
      expect(Object.hasOwn(body.tools, connectorId)).toBe(true);
      for (const tool of [...awkward, 'search']) expect(Object.hasOwn(body.tools[connectorId], tool)).toBe(true);
      expect(body.tools[connectorId].search.level).not.toBe('blocked');
      expect(body.connectorMenu).toContain(connectorId);
    }
    for (const connectorId of awkward) {
      for (const tool of ['search', '__proto__']) {
        const holders = await getJson(`access/holders?tool=${encodeURIComponent(`${connectorId}/${tool}`)}`);
        expect(holders.status).toBe(200);
        expect(holders.body.holders.map((h: { userId: string }) => h.userId)).toContain('po');
      }
    }
  });

  test('an imported line with a __proto__ or constructor.prototype key anywhere is refused with 400 naming the line; nothing is stored', async () => {
    const importer = newKey(['events:import'], system);
    const good = {
      id: 'proto-ok',
      type: 'GroupCreated',
      occurredAt: '2026-01-01T00:00:00.000Z',
      actor: { kind: 'import' },
      source: 'admin_api_import',
      data: { groupId: 'g-proto', name: 'P', source: 'manual' },
    };
    const before = await count();
    const body = [
      JSON.stringify(good),
      '{"id":"proto-1","type":"GroupCreated","occurredAt":"2026-01-01T00:00:00.000Z","actor":{"kind":"import"},"source":"admin_api_import","data":{"groupId":"g-p1","name":"P","source":"manual","__proto__":{"admin":true}}}',
      '{"id":"proto-2","type":"GroupCreated","occurredAt":"2026-01-01T00:00:00.000Z","actor":{"kind":"import"},"source":"admin_api_import","data":{"groupId":"g-p2","name":"P","source":"manual","constructor":{"prototype":{"admin":true}}}}',
    ].join('\n');
    const res = await fetch(`${url}/v1/tenants/acme/events:import`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${importer.key}` },
      body,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: unknown[] }).errors).toEqual([
      { path: 'line 2: __proto__', message: 'the key __proto__ is not allowed (prototype pollution)' },
      { path: 'line 3: constructor.prototype', message: 'the key constructor.prototype is not allowed (prototype pollution)' },
    ]);
    expect(await count()).toBe(before);
  });

  test('one id grammar: an imported correlationId or causationId outside it is refused like any other id', async () => {
    const importer = newKey(['events:import'], system);
    const line = {
      id: 'grammar-1',
      type: 'GroupCreated',
      occurredAt: '2026-01-01T00:00:00.000Z',
      actor: { kind: 'import' },
      source: 'admin_api_import',
      correlationId: 'has space',
      data: { groupId: 'g-grammar', name: 'G', source: 'manual' },
    };
    const answer = await importLines(importer.key, [line]);
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([{ path: 'line 1: correlationId', message: 'must be 1–128 characters of A-Z a-z 0-9 . _ : @ -' }]);
  });
});

describe('AccessChangeDenied records the organization the refused command targeted', () => {
  test('R62: a command refused in org-1 is listed by the audit search filtered by orgId=org-1', async () => {
    const plain = newKey(['commands:write'], user);
    const inPayload = await send(plain.key, { type: 'SetOrgSpendCeiling', payload: { orgId: 'org-1', cents: 100 } });
    expect(inPayload.status).toBe(403);
    // CreateGroup names no organization: a member's refusal is filed under the member's own organization.
    const byMember = await send(plain.key, group('g-by-member'));
    expect(byMember.status).toBe(403);
    const ids = [inPayload.body.events[0].id, byMember.body.events[0].id];
    for (const id of ids) expect((await stored()).find((e) => e.id === id)!.data).toMatchObject({ orgId: 'org-1' });
    const listed = await audit('orgId=org-1&type=AccessChangeDenied');
    for (const id of ids) expect(listed.find((e) => e.id === id)).toMatchObject({ orgId: 'org-1', type: 'AccessChangeDenied' });
  });
});
