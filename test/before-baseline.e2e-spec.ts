/**
 * Access before a source's baseline is unknown, not empty (docs/sources.md § Baseline): a fake Compliance API whose feed
 * starts after the organization existed → `ledger sources sync` → the access questions, the directory and the reports
 * asked before the baseline answer 409 before-baseline with `availableFrom` over HTTP, and exit 3 with the same
 * message through the CLI; at the baseline and after they answer; an organization created through commands answers as
 * before.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { startFakeComplianceApi, type FakeComplianceApi } from '@access-ledger/sources';
import { composeServer, type ReadSide } from '../apps/api/src/compose.js';
import { ApiKeyStore } from '../apps/api/src/keys/api-key-store.js';
import { SCOPES } from '../apps/api/src/keys/scopes.js';
import { QUIET, testConfig } from '../apps/api/test/support/test-server.js';
import { runLedger } from './support/ledger-cli.js';

const ORG = 'abcdef01-2345-6789-abcd-ef0123456789';
const KEY = 'sk-ant-api01-before-baseline';
const BEFORE = '2026-03-02T00:00:00.000Z';
const PROBLEM = 'urn:access-ledger:problem:before-baseline';
const actor = { type: 'user_actor', user_id: 'olivia', email_address: 'olivia@acme.test', ip_address: '192.0.2.1', user_agent: 'x' };

let dir: string;
let api: FakeComplianceApi;
let app: NestFastifyApplication | undefined;
let side: ReadSide;
let url: string;
let key: string;
/** The baseline instant `ledger sources status` reports. */
let baselineAt: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'before-baseline-'));
  api = await startFakeComplianceApi({ keys: { [KEY]: ['read:compliance_activities', 'read:compliance_org_data', 'read:compliance_user_data'] } });
  // The feed starts in March with zoe joining; olivia and pat were members before the Compliance API was enabled.
  api.add([
    {
      id: 'activity_zoe',
      created_at: '2026-03-01T10:00:00Z',
      organization_uuid: ORG,
      organization_id: 'org_1',
      actor,
      type: 'org_user_added',
      user_id: 'zoe',
      email_address: 'zoe@acme.test',
      role: 'user',
    },
  ]);
  api.setDirectory({
    organizations: [{ uuid: ORG, name: 'Acme' }],
    users: {
      [ORG]: [
        { id: 'olivia', email_address: 'olivia@acme.test', role: 'primary_owner' },
        { id: 'pat', email_address: 'pat@acme.test', role: 'admin' },
        { id: 'zoe', email_address: 'zoe@acme.test', role: 'user' },
      ],
    },
    groups: [{ id: 'eng', name: 'Engineering', members: ['pat', 'zoe'] }],
  });
  const keyFile = join(dir, 'compliance.key');
  writeFileSync(keyFile, `${KEY}\n`, { mode: 0o600 });
  const added = await runLedger(dir, ['sources', 'add', 'compliance-api', '--name', 'claude', '--tenant', 't1', '--key-file', keyFile, '--url', api.url]);
  expect(added.status).toBe(0);
  const sync = await runLedger(dir, ['sources', 'sync', '--once']);
  expect(sync.status).toBe(0);
  expect(sync.stdout).toContain('claude: baseline from the directory: 7 events recorded as observed');
  const status = await runLedger(dir, ['sources', 'status', '--json']);
  baselineAt = (JSON.parse(status.stdout) as { baseline: { at: string } }[])[0]!.baseline.at;
}, 60_000);

afterAll(async () => {
  await app?.close();
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The detail every before-baseline answer gives: the organization, the source, and from when it is known. */
const detailPattern = () => new RegExp(`organization ${ORG} is known only from ${baselineAt.replace(/\./g, '\\.')}: source claude \\(compliance-api\\)`);

describe('through the CLI on the data directory (no server)', () => {
  test('ledger access before the baseline exits 3 with the message; at the baseline it prints the access', async () => {
    for (const userId of ['pat', 'zoe']) {
      const before = await runLedger(dir, ['access', '-t', 't1', '-o', ORG, '-u', userId, '--at', BEFORE]);
      expect(before.status).toBe(3);
      expect(before.stderr).toMatch(detailPattern());
      expect(before.stdout).toBe('');
    }
    const at = await runLedger(dir, ['access', '-t', 't1', '-o', ORG, '-u', 'pat', '--at', baselineAt, '--no-explain']);
    expect(at.status).toBe(0);
    expect(JSON.parse(at.stdout)).toEqual(expect.objectContaining({ userId: 'pat', builtInRole: 'admin', status: 'active' }));
    // A typo is still a typo before the baseline: an unknown member is named as such (exit 1).
    const typo = await runLedger(dir, ['access', '-t', 't1', '-o', ORG, '-u', 'pta', '--at', BEFORE]);
    expect(typo.status).toBe(1);
    expect(typo.stderr).toContain('member "pta" is not known');
  });

  test('ledger report over a period starting before the baseline exits 3 before opening the read model', async () => {
    const review = await runLedger(dir, ['report', 'access-review', '-t', 't1', '-o', ORG, '--at', BEFORE]);
    expect(review.status).toBe(3);
    expect(review.stderr).toMatch(detailPattern());
    const during = await runLedger(dir, [
      'report',
      'holders-during',
      '-t',
      't1',
      '-o',
      ORG,
      '--from',
      BEFORE,
      '--to',
      '2027-01-01',
      '-p',
      'permission=role:admin',
    ]);
    expect(during.status).toBe(3);
    expect(during.stderr).toMatch(detailPattern());
  });
});

describe('over HTTP (the real server on the same data directory)', () => {
  beforeAll(async () => {
    const server = await composeServer(testConfig(dir), QUIET);
    ({ app, url } = server);
    side = server.readSide!;
    key = app.get(ApiKeyStore).create({ tenantId: 't1', scopes: SCOPES }).key;
    await side.readModel.caughtUp();
  }, 60_000);

  async function get(path: string): Promise<{ status: number; type: string; body: any }> {
    const res = await fetch(`${url}/v1/tenants/t1${path}`, { headers: { authorization: `Bearer ${key}` } });
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    return { status: res.status, type, body: type.includes('json') ? JSON.parse(text) : text };
  }

  function expectBeforeBaseline(answer: { status: number; type: string; body: any }): void {
    expect(answer.status).toBe(409);
    expect(answer.type).toContain('application/problem+json');
    expect(answer.body).toEqual(expect.objectContaining({ type: PROBLEM, status: 409, availableFrom: baselineAt }));
    expect(answer.body.detail).toMatch(detailPattern());
  }

  const o = `/orgs/${ORG}`;
  const q = (params: Record<string, string>) => new URLSearchParams(params).toString();

  test('member access, holders, diff, changes, timeline and the directory before the baseline: 409 before-baseline', async () => {
    expectBeforeBaseline(await get(`${o}/members/pat/access?${q({ at: BEFORE })}`));
    expectBeforeBaseline(await get(`${o}/members/zoe/access?${q({ at: BEFORE })}`));
    expectBeforeBaseline(await get(`${o}/access/holders?${q({ capability: 'chat', at: BEFORE })}`));
    expectBeforeBaseline(await get(`${o}/members/zoe/access/diff?${q({ from: BEFORE })}`));
    expectBeforeBaseline(await get(`${o}/access/changes?${q({ from: BEFORE })}`));
    expectBeforeBaseline(await get(`${o}/members/zoe/access/timeline?${q({ from: BEFORE })}`));
    expectBeforeBaseline(await get(`${o}/members?${q({ at: BEFORE })}`));
    expectBeforeBaseline(await get(`${o}/catalog?${q({ at: BEFORE })}`));
  });

  test('at the baseline and after: the answers, with the baseline members and groups', async () => {
    const pat = await get(`${o}/members/pat/access?${q({ at: baselineAt })}`);
    expect(pat.status).toBe(200);
    expect(pat.body).toEqual(expect.objectContaining({ builtInRole: 'admin', status: 'active' }));
    const holders = await get(`${o}/access/holders?${q({ capability: 'chat', at: baselineAt })}`);
    expect(holders.status).toBe(200);
    expect(holders.body.holders.map((h: { userId: string }) => h.userId)).toEqual(['olivia', 'pat', 'zoe']);
    const changes = await get(`${o}/access/changes?${q({ from: baselineAt })}`);
    expect(changes.status).toBe(200);
    const members = await get(`${o}/members?${q({ at: baselineAt })}`);
    expect(members.body.members.map((m: { userId: string }) => m.userId)).toEqual(['olivia', 'pat', 'zoe']);
    // The whole timeline by default starts at the baseline: nothing is claimed before it.
    const timeline = await get(`${o}/members/zoe/access/timeline`);
    expect(timeline.status).toBe(200);
    expect(timeline.body.from).toBe(baselineAt);
    for (const i of timeline.body.intervals) expect(i.from >= baselineAt).toBe(true);
  });

  test('the reports: a period or instant before the baseline is 409; from the baseline on they answer', async () => {
    expectBeforeBaseline(await get(`${o}/reports/access-review?${q({ at: BEFORE })}`));
    expectBeforeBaseline(await get(`${o}/reports/holders-during?${q({ from: BEFORE, to: '2027-01-01', permission: 'role:admin' })}`));
    expectBeforeBaseline(await get(`${o}/reports/changes?${q({ from: BEFORE, to: '2027-01-01' })}`));
    expectBeforeBaseline(await get(`${o}/reports/custom-without-group?${q({ at: BEFORE })}`));
    const review = await get(`${o}/reports/access-review?${q({ at: baselineAt })}`);
    expect(review.status).toBe(200);
    expect(review.body.members.map((m: { userId: string }) => m.userId)).toEqual(['olivia', 'pat', 'zoe']);
    const during = await get(`${o}/reports/holders-during?${q({ from: baselineAt, to: '2027-01-01', permission: 'role:admin' })}`);
    expect(during.status).toBe(200);
    expect(during.body.holders.map((h: { userId: string }) => h.userId)).toEqual(['pat']);
  });

  test('ledger report --url: the server’s 409 before-baseline is exit 3 with its message', async () => {
    const env = { LEDGER_URL: url, LEDGER_KEY: key };
    const before = await runLedger(dir, ['report', 'access-review', '-t', 't1', '-o', ORG, '--at', BEFORE], env);
    expect(before.status).toBe(3);
    expect(before.stderr).toMatch(detailPattern());
    const after = await runLedger(dir, ['report', 'access-review', '-t', 't1', '-o', ORG, '--at', baselineAt], env);
    expect(after.status).toBe(0);
    expect(JSON.parse(after.stdout).members).toHaveLength(3);
  });

  test('an organization created through commands has no baseline: asked early, it answers exactly as before', async () => {
    const command = async (type: string, payload: object, occurredAt: string) => {
      const res = await fetch(`${url}/v1/tenants/t1/commands`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ type, actor: { kind: 'system' }, payload, occurredAt }),
      });
      expect(res.status).toBe(201);
    };
    await command(
      'CreateOrganization',
      { orgId: 'initech', name: 'Initech', dualSeat: false, provisioningMode: 'invite_only', usageBased: false },
      '2026-01-01T00:00:00.000Z',
    );
    await command('AddMember', { orgId: 'initech', userId: 'bill', email: 'bill@initech.test', role: 'primary_owner' }, '2026-01-01T00:01:00.000Z');
    const early = await get(`/orgs/initech/members/bill/access?${q({ at: '2026-01-15T00:00:00Z' })}`);
    expect(early.status).toBe(200);
    expect(early.body.builtInRole).toBe('primary_owner');
    // Before its creation: "not a member at that instant" (404), as before.
    const tooEarly = await get(`/orgs/initech/members/bill/access?${q({ at: '2025-12-01T00:00:00Z' })}`);
    expect(tooEarly.status).toBe(404);
    expect((await get(`/orgs/initech/access/changes?${q({ from: '2025-01-01T00:00:00Z' })}`)).status).toBe(200);
  });
});
