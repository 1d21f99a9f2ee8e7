/**
 * One bad input must not stop anything, against the real server with its embedded SQLite
 * store and chDB read model: an event no projection can take is quarantined and the others go on, for every
 * tenant; the edge refuses JSON nested or sized past one event's limits, and instants the read model cannot hold.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiKeyStore } from '../apps/api/src/keys/api-key-store.js';
import { SCOPES } from '../apps/api/src/keys/scopes.js';
import { composeServer, type ReadSide } from '../apps/api/src/compose.js';
import { QUIET, testConfig } from '../apps/api/test/support/test-server.js';
import { EARLIEST_INSTANT, LATEST_INSTANT, MAX_EVENT_BYTES, MAX_JSON_DEPTH } from '@access-ledger/access-model';
import { tenantStream } from '@access-ledger/event-store';
import { createLedger, type Ledger } from '@access-ledger/ledger';
import { listQuarantined } from '@access-ledger/read-model';
import { runLedger } from './support/ledger-cli.js';

let app: NestFastifyApplication;
let side: ReadSide;
let ledger: Ledger;
let url: string;
let dataDir: string;
const keys = { acme: '', globex: '', inorder: '', backdated: '' };

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'poison-events-'));
  const server = await composeServer(testConfig(dataDir, { READ_MODEL_WAIT_MS: '5000' }), QUIET);
  ({ app, url, core: ledger } = server);
  side = server.readSide!;
  const store = app.get(ApiKeyStore);
  keys.acme = store.create({ tenantId: 'acme', scopes: SCOPES }).key;
  keys.globex = store.create({ tenantId: 'globex', scopes: SCOPES }).key;
  keys.inorder = store.create({ tenantId: 'inorder', scopes: SCOPES }).key;
  keys.backdated = store.create({ tenantId: 'backdated', scopes: SCOPES }).key;
});
afterAll(async () => {
  await app?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function send(path: string, body: string, contentType: string, key = keys.acme): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': contentType, authorization: `Bearer ${key}` }, body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
const command = (tenant: 'acme' | 'globex', body: object) => send(`/v1/tenants/${tenant}/commands`, JSON.stringify(body), 'application/json', keys[tenant]);
/** The store position of a command's last event (what `minPosition` waits for). */
const positionOf = (answer: { body: { events: { position: number }[] } }) => answer.body.events.at(-1)!.position;
const importLines = (tenant: keyof typeof keys, lines: readonly object[]) =>
  send(`/v1/tenants/${tenant}/events:import`, lines.map((l) => JSON.stringify(l)).join('\n'), 'application/x-ndjson', keys[tenant]);
const system = { kind: 'system' } as const;
const createGroup = (groupId: string, occurredAt?: string) => ({
  type: 'CreateGroup',
  actor: system,
  payload: { groupId, name: groupId, source: 'manual' },
  ...(occurredAt ? { occurredAt } : {}),
});
const groupLine = (id: string, groupId: string, occurredAt: string) => ({
  id,
  type: 'GroupCreated',
  occurredAt,
  actor: { kind: 'import' },
  source: 'admin_api_import',
  data: { groupId, name: groupId, source: 'manual' },
});

async function get(path: string, key = keys.acme): Promise<{ status: number; body: any; text: string }> {
  const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  const text = await res.text();
  return { status: res.status, text, body: (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : undefined };
}

describe('a poisonous event is quarantined, not a stop', () => {
  const meta = (tenantId: string) => ({
    tenantId,
    occurredAt: '2026-03-01T09:00:00.000Z',
    recordedAt: '2026-03-01T09:00:00.000Z',
    actor: { kind: 'system' },
    source: 'api',
    schemaVersion: 1,
  });
  const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

  test("an event stored before the edge limits (5 000 nested arrays) is quarantined; both tenants' later events are projected", async () => {
    // Written to the store directly, as it was stored before the edge check existed.
    // The store's canonical JSON recurses too: cold (interpreted) it overflows on 5 000 levels, warm it takes them,
    // as it did when such events were imported. Events of 1 000–4 000 levels, which every projection takes, warm it.
    for (const depth of [1000, 2000, 3000, 4000]) {
      await ledger.store.append(tenantStream('warm'), [
        {
          id: `warm-${depth}`,
          type: 'AccessChangeDenied',
          data: { command: { type: 'CreateGroup', payload: JSON.parse(nested(depth)) }, reason: 'refused', rule: 'R22' },
          metadata: meta('warm'),
        },
      ]);
    }
    const poison = await ledger.store.append(tenantStream('acme'), [
      {
        id: 'deep-1',
        type: 'AccessChangeDenied',
        data: { command: { type: 'CreateGroup', payload: JSON.parse(nested(5000)) }, reason: 'refused', rule: 'R22' },
        metadata: meta('acme'),
      },
    ]);
    const poisonPosition = poison.events[0]!.position;
    const acme = await command('acme', createGroup('g-after'));
    const globex = await command('globex', createGroup('g-other'));
    expect([acme.status, globex.status]).toEqual([201, 201]);

    const acmeRead = await get(`/v1/tenants/acme/audit/events?minPosition=${positionOf(acme)}`);
    expect(acmeRead.status).toBe(200);
    expect(acmeRead.body.events.map((e: { id: string }) => e.id)).not.toContain('deep-1');
    expect(acmeRead.body.events.map((e: { type: string }) => e.type)).toContain('GroupCreated');
    const globexRead = await get(`/v1/tenants/globex/audit/events?minPosition=${positionOf(globex)}`, keys.globex);
    expect(globexRead.status).toBe(200);
    expect(globexRead.body.events).toHaveLength(1);

    const ready = await fetch(`${url}/ready`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { readModelQuarantined: unknown }).readModelQuarantined).toEqual({ audit_events: { acme: 1 } });
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^ledger_quarantined_events\{projection="audit_events"\} 1$/m);
    const [held] = await listQuarantined(side.readModel.client, 'audit_events');
    expect(held).toMatchObject({ projection: 'audit_events', position: poisonPosition, tenantId: 'acme', eventId: 'deep-1', type: 'AccessChangeDenied' });
    expect(held!.error).not.toBe('');
  }, 30_000);

  test('`ledger quarantine list` on a data directory the server is not running on: caught up, the event listed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quarantine-cli-'));
    try {
      const offline = await createLedger({ dataDir: dir });
      for (const depth of [1000, 2000, 3000, 4000]) {
        await offline.store.append(tenantStream('warm'), [
          {
            id: `warm-${depth}`,
            type: 'AccessChangeDenied',
            data: { command: { type: 'CreateGroup', payload: JSON.parse(nested(depth)) }, reason: 'refused', rule: 'R22' },
            metadata: meta('warm'),
          },
        ]);
      }
      await offline.store.append(tenantStream('acme'), [
        {
          id: 'deep-cli',
          type: 'AccessChangeDenied',
          data: { command: { type: 'CreateGroup', payload: JSON.parse(nested(5000)) }, reason: 'refused', rule: 'R22' },
          metadata: meta('acme'),
        },
      ]);
      await offline.close();
      const listed = await runLedger(dir, ['quarantine', 'list']);
      expect(listed.stderr).toContain('1 event(s) in quarantine');
      expect(listed.status).toBe(0);
      expect(JSON.parse(listed.stdout.trim())).toMatchObject({ projection: 'audit_events', tenantId: 'acme', eventId: 'deep-cli' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test('the edge refuses such a line (400 naming the line and the limit) and stores nothing', async () => {
    const deep = `{"id":"deep-2","type":"AccessChangeDenied","occurredAt":"2026-03-01T09:00:00.000Z","actor":{"kind":"import"},"source":"admin_api_import","data":{"command":{"type":"CreateGroup","payload":${nested(4000)}},"reason":"x","rule":"R22"}}`;
    const ok = JSON.stringify(groupLine('ok-1', 'g-ok-1', '2026-03-01T09:00:00.000Z'));
    const res = await send('/v1/tenants/acme/events:import', `${ok}\n${deep}`, 'application/x-ndjson');
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { path: 'line 2', message: `nests arrays/objects more than ${MAX_JSON_DEPTH} levels deep; at most ${MAX_JSON_DEPTH} are allowed` },
    ]);
    const big = JSON.stringify({
      ...groupLine('big-1', 'g-big', '2026-03-01T09:00:00.000Z'),
      correlationId: 'x',
      data: { groupId: 'g-big', name: 'x'.repeat(MAX_EVENT_BYTES), source: 'manual' },
    });
    const tooBig = await send('/v1/tenants/acme/events:import', big, 'application/x-ndjson');
    expect(tooBig.status).toBe(400);
    expect(tooBig.body.errors[0].path).toBe('line 1');
    expect(tooBig.body.errors[0].message).toContain(`at most ${MAX_EVENT_BYTES} bytes`);
    expect((await ledger.store.knownIds('tenant-acme', ['ok-1', 'deep-2', 'big-1'])).size).toBe(0);
  });

  test('a command body nested past the limit → 400 body-limit, never 500', async () => {
    const body = `{"type":"CreateGroup","actor":{"kind":"system"},"payload":{"groupId":"g-x","name":"x","source":${nested(100_000)}}}`;
    const res = await send('/v1/tenants/acme/commands', body, 'application/json');
    expect(res.status).toBe(400);
    expect(res.body.type).toBe('urn:access-ledger:problem:body-limit');
    expect(res.body.detail).toContain(`at most ${MAX_JSON_DEPTH}`);
  });
});

describe('instants the read model cannot hold are refused at the edge', () => {
  const range = `must be between ${EARLIEST_INSTANT} and ${LATEST_INSTANT}`;

  test.each(['0000-01-01T00:00:00.000Z', '1899-12-31T23:59:59.999Z', '2300-01-01T00:00:00.000Z'])(
    '%s: command and import → 400 naming the range',
    async (instant) => {
      const cmd = await command('acme', createGroup('g-range', instant));
      expect(cmd.status).toBe(400);
      expect(cmd.body.errors).toContainEqual({ path: 'occurredAt', message: range });
      const imp = await importLines('acme', [groupLine('range-1', 'g-range', instant)]);
      expect(imp.status).toBe(400);
      expect(imp.body.errors).toContainEqual({ path: 'line 1: occurredAt', message: range });
      const access = await get(`/v1/tenants/acme/orgs/org-x/members/u-x/access?at=${instant}`);
      expect(access.status).toBe(400);
    },
  );

  test('the bounds are accepted and come back exactly through the audit API', async () => {
    const first = await command('acme', createGroup('g-earliest', EARLIEST_INSTANT));
    const last = await importLines('acme', [groupLine('latest-1', 'g-latest', LATEST_INSTANT)]);
    expect([first.status, last.status]).toEqual([201, 200]);
    const earliest = await get(`/v1/tenants/acme/audit/events?subject=g-earliest&minPosition=${positionOf(first)}`);
    expect(earliest.body.events.map((e: { occurredAt: string }) => e.occurredAt)).toEqual([EARLIEST_INSTANT]);
    const latest = await get(`/v1/tenants/acme/audit/events?subject=g-latest&minPosition=${await ledger.store.headPosition()}`);
    expect(latest.body.events.map((e: { occurredAt: string }) => e.occurredAt)).toEqual([LATEST_INSTANT]);
  });
});

describe('a back-dated import answers as the same events in order (R61)', () => {
  const day = (month: number, d: number, minute = 0) => new Date(Date.UTC(2026, month - 1, d, 9, minute)).toISOString();
  const line = (tenant: string, id: string, type: string, occurredAt: string, data: object) => ({
    id: `${tenant}-${id}`,
    type,
    occurredAt,
    actor: { kind: 'import' },
    source: 'admin_api_import',
    data,
  });
  const ORG = 'org-r61';
  /**
   * The history: an org, members, groups granting a role with a capability (December 2025: a line may only refer to
   * what an earlier line created), and memberships from June on, which the back-dated lines come after.
   */
  const history = (t: string) => [
    line(t, 'org', 'OrganizationCreated', day(0, 1), { orgId: ORG, name: 'R61', dualSeat: false, provisioningMode: 'invite_only', usageBased: false }),
    line(t, 'owner', 'MemberAdded', day(0, 1, 1), { orgId: ORG, userId: 'owner', email: 'owner@r61.test', role: 'primary_owner' }),
    line(t, 'role', 'RoleCreated', day(0, 1, 2), { orgId: ORG, roleId: 'r-cc', name: 'CC' }),
    line(t, 'role-cc', 'RoleCapabilitySet', day(0, 1, 3), { orgId: ORG, roleId: 'r-cc', capability: 'claude_code', granted: true }),
    ...[0, 1, 2, 3, 4, 5].map((u) => line(t, `u${u}`, 'MemberAdded', day(0, 2, u), { orgId: ORG, userId: `u${u}`, email: `u${u}@r61.test`, role: 'custom' })),
    ...[0, 1, 2].flatMap((g) => [
      line(t, `g${g}`, 'GroupCreated', day(0, 3, g * 2), { groupId: `g${g}`, name: `G${g}`, source: 'manual' }),
      line(t, `a${g}`, 'RoleAssignedToGroup', day(0, 3, g * 2 + 1), { orgId: ORG, groupId: `g${g}`, roleId: 'r-cc' }),
    ]),
    ...[0, 1, 2, 3, 4, 5].map((u) => line(t, `m${u}`, 'UserAddedToGroup', day(6, 10 + u), { groupId: `g${u % 3}`, userId: `u${u}` })),
    line(t, 'rm', 'UserRemovedFromGroup', day(7, 1), { groupId: 'g1', userId: 'u1' }),
  ];
  /** Lines dated January to March: earlier than the memberships above. */
  const backdated = (t: string) =>
    Array.from({ length: 40 }, (_, i) =>
      line(t, `b${i}`, i % 2 === 0 ? 'UserAddedToGroup' : 'UserRemovedFromGroup', day(1 + Math.floor(i / 14), 1 + (i % 14) * 2), {
        groupId: `g${Math.floor(i / 2) % 3}`,
        userId: `u${Math.floor(i / 2) % 6}`,
      }),
    );

  test('access at instants and the access intervals are the same', async () => {
    // In order: everything in occurredAt order in one import. Back-dated: the history first, then the earlier lines.
    const inOrder = [...backdated('inorder'), ...history('inorder')].sort((a, b) => a.occurredAt.localeCompare(b.occurredAt));
    expect((await importLines('inorder', inOrder)).status).toBe(200);
    expect((await importLines('backdated', history('backdated'))).status).toBe(200);
    expect((await importLines('backdated', backdated('backdated'))).status).toBe(200);
    await side.readModel.caughtUp(30_000);

    for (const at of [day(1, 10), day(2, 20), day(3, 5), day(6, 12), day(7, 2)]) {
      for (const user of ['u0', 'u1', 'u3']) {
        const [a, b] = await Promise.all(
          ['inorder', 'backdated'].map((t) => get(`/v1/tenants/${t}/orgs/${ORG}/members/${user}/access?at=${at}`, keys[t as 'inorder' | 'backdated'])),
        );
        expect(a!.status).toBe(200);
        expect(JSON.stringify(b!.body).replaceAll('backdated-', '')).toEqual(JSON.stringify(a!.body).replaceAll('inorder-', ''));
      }
    }
    const intervals = async (tenant: string) => {
      const result = await side.readModel.client.query({
        query: `SELECT user_id, permission, level, valid_from, valid_to, opened_by, closed_by FROM access_intervals FINAL
                WHERE tenant_id = {tenant:String} AND NOT is_deleted ORDER BY user_id, permission, valid_from`,
        query_params: { tenant },
        format: 'JSONEachRow',
      });
      return JSON.stringify(await result.json()).replaceAll(`${tenant}-`, '');
    };
    const expected = await intervals('inorder');
    expect(expected).toContain('capability:claude_code');
    expect(await intervals('backdated')).toEqual(expected);
  }, 60_000);
});
