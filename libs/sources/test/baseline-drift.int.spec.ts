import { afterEach, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FactReader, type FactStore, lookupKey, viewAt } from '@access-ledger/access-model';
import { Ledger } from '@access-ledger/ledger';
import { ComplianceApiClient, SourcesStore, baselineOf, detectDrift, openDrift, startFakeComplianceApi, syncWithBaseline } from '../src/index.js';

const ORG = 'abcdef01-2345-6789-abcd-ef0123456789';
const KEY = 'sk-ant-api01-drift';
const closers: (() => Promise<void> | void)[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const actor = { type: 'user_actor', user_id: 'olivia', email_address: 'olivia@acme.test', ip_address: '192.0.2.1', user_agent: 'x' };
/** The users in a group at an instant, by the facts the evaluator reads. */
function membersOfGroup(facts: FactStore, at: number, groupId: string): string[] {
  const r = new FactReader(facts, viewAt(at));
  return [...r.items(lookupKey.usersOfGroup(groupId))].filter((u) => r.value(lookupKey.inGroup(groupId, u)) === true).sort();
}
const users = (list: [string, string][]) => list.map(([id, role]) => ({ id, email_address: `${id}@acme.test`, role }));

async function setup() {
  const api = await startFakeComplianceApi({ keys: { [KEY]: ['read:compliance_activities', 'read:compliance_org_data', 'read:compliance_user_data'] } });
  closers.push(() => api.close());
  const dir = mkdtempSync(join(tmpdir(), 'drift-'));
  dirs.push(dir);
  const ledger = await Ledger.open({ dataDir: dir });
  const store = new SourcesStore(join(dir, 'sources.sqlite'));
  closers.push(
    () => ledger.close(),
    () => store.close(),
  );
  store.add({ name: 'claude', kind: 'compliance-api', tenantId: 't1', baseUrl: api.url, keyFile: '-' });
  const client = new ComplianceApiClient({ baseUrl: api.url, apiKey: KEY, sleep: async () => {} });
  return { api, ledger, store, client };
}

describe('baseline and drift (fake Compliance API directory)', () => {
  test('an organization whose feed starts after it existed: the directory at the first sync is the initial state, observed at that instant', async () => {
    const { api, ledger, store, client } = await setup();
    // The feed only has zoe joining; olivia and pat were members before the Compliance API was enabled.
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
        [ORG]: users([
          ['olivia', 'primary_owner'],
          ['pat', 'admin'],
          ['zoe', 'user'],
        ]),
      },
      groups: [],
    });
    const before = Date.now();
    const report = await syncWithBaseline(store, 'claude', client, ledger, { pageSize: 10 });
    expect(report.byDisposition.mapped).toBe(1); // zoe's activity was applied, referring to the baseline's organization
    expect(report.baselineEvents).toBe(4); // OrganizationCreated, olivia, pat, BaselineRecorded
    const baseline = baselineOf(store, 'claude')!;
    expect(Date.parse(baseline.at)).toBeGreaterThanOrEqual(before);
    // pat is known from the baseline on, not before: no back-dating of what was only observed.
    expect(((await ledger.queries.memberAccess('t1', ORG, 'pat', {})) as { builtInRole: string }).builtInRole).toBe('admin');
    // Before the baseline the organization's access is unknown — for pat, and for zoe whom the feed did mention.
    for (const userId of ['pat', 'zoe'])
      await expect(ledger.queries.memberAccess('t1', ORG, userId, { at: Date.parse('2026-03-02T00:00:00Z') })).rejects.toThrow(
        expect.objectContaining({ name: 'BeforeBaselineError', availableFrom: baseline.at, source: 'claude' }),
      );
    const recorded = [];
    for await (const e of ledger.store.readAll()) if (e.type === 'BaselineRecorded') recorded.push(e);
    expect(recorded).toEqual([expect.objectContaining({ data: { orgId: ORG, source: 'claude', sourceKind: 'compliance-api' } })]);
    expect((recorded[0]!.metadata as { occurredAt: string }).occurredAt).toBe(baseline.at);
    // The baseline is taken once.
    const again = await syncWithBaseline(store, 'claude', client, ledger);
    expect(again.baselineEvents).toBeUndefined();
    expect(await detectDrift(store, 'claude', client, ledger)).toEqual(expect.objectContaining({ detected: 0, open: [] }));
  });

  test("groups in the baseline: the directory's groups and their members recorded at the baseline instant, observed; no drift right after", async () => {
    const { api, ledger, store, client } = await setup();
    // The feed knows only zoe and the group "ops" (without members); the directory shows two groups and their members.
    api.add([
      {
        id: 'a1',
        created_at: '2026-03-01T10:00:00Z',
        organization_uuid: ORG,
        actor,
        type: 'org_user_added',
        user_id: 'zoe',
        email_address: 'zoe@acme.test',
        role: 'user',
      },
      { id: 'a2', created_at: '2026-03-01T10:01:00Z', organization_uuid: ORG, actor, type: 'group_created', group_id: 'ops', group_name: 'Ops' },
    ]);
    api.setDirectory({
      organizations: [{ uuid: ORG, name: 'Acme' }],
      users: {
        [ORG]: users([
          ['olivia', 'primary_owner'],
          ['pat', 'custom'],
          ['zoe', 'user'],
        ]),
      },
      groups: [
        { id: 'eng', name: 'Engineering', members: ['pat', 'zoe'] },
        { id: 'ops', name: 'Ops', members: ['olivia'] },
      ],
    });
    const report = await syncWithBaseline(store, 'claude', client, ledger);
    // OrganizationCreated, olivia, pat, GroupCreated eng, pat and zoe in eng, olivia in ops, BaselineRecorded
    expect(report.baselineEvents).toBe(8);
    const baseline = baselineOf(store, 'claude')!;
    const recorded = [];
    for await (const e of ledger.store.readAll()) if (e.id.startsWith('cab.claude.group.')) recorded.push(e);
    expect(recorded.map((e) => [e.type, e.data])).toEqual([
      ['GroupCreated', { groupId: 'eng', name: 'Engineering', source: 'manual' }],
      ['UserAddedToGroup', { groupId: 'eng', userId: 'pat' }],
      ['UserAddedToGroup', { groupId: 'eng', userId: 'zoe' }],
      ['UserAddedToGroup', { groupId: 'ops', userId: 'olivia' }],
    ]);
    for (const e of recorded) {
      const m = e.metadata as { occurredAt: string; source: string; evidence: { observedAtIngestion: boolean; baseline: boolean; directoryRecord: unknown } };
      expect(m.occurredAt).toBe(baseline.at);
      expect(m.source).toBe('compliance-api');
      expect(m.evidence).toEqual(expect.objectContaining({ observedAtIngestion: true, baseline: true }));
    }
    expect((recorded[0]!.metadata as { evidence: { directoryRecord: unknown } }).evidence.directoryRecord).toEqual({ id: 'eng', name: 'Engineering' });
    expect((recorded[1]!.metadata as { evidence: { directoryRecord: unknown } }).evidence.directoryRecord).toEqual({ user_id: 'pat' });
    // The baseline is what the directory says: nothing drifts right after it.
    expect(await detectDrift(store, 'claude', client, ledger)).toEqual(expect.objectContaining({ detected: 0, open: [] }));
    // The groups hold from the baseline on, not before (asked as of a later instant than the feed's last activity).
    const facts = await ledger.factsFor('t1');
    expect(membersOfGroup(facts, Date.parse(baseline.at), 'eng')).toEqual(['pat', 'zoe']);
    expect(membersOfGroup(facts, Date.parse(baseline.at) - 1, 'eng')).toEqual([]);
    expect(membersOfGroup(facts, Date.parse(baseline.at) - 1, 'ops')).toEqual([]);
  });

  test('drift: out-of-band changes and missed activities become DriftDetected events, listed as open until they go away', async () => {
    const { api, ledger, store, client } = await setup();
    api.add([
      { id: 'a1', created_at: '2026-03-01T10:00:00Z', organization_uuid: ORG, actor, type: 'org_created', organization_name: 'Acme' },
      {
        id: 'a2',
        created_at: '2026-03-01T10:01:00Z',
        organization_uuid: ORG,
        actor,
        type: 'org_user_added',
        user_id: 'olivia',
        email_address: 'olivia@acme.test',
        role: 'primary_owner',
      },
      {
        id: 'a3',
        created_at: '2026-03-01T10:02:00Z',
        organization_uuid: ORG,
        actor,
        type: 'org_user_added',
        user_id: 'uma',
        email_address: 'uma@acme.test',
        role: 'user',
      },
    ]);
    const consistent = {
      organizations: [{ uuid: ORG, name: 'Acme' }],
      users: {
        [ORG]: users([
          ['olivia', 'primary_owner'],
          ['uma', 'user'],
        ]),
      },
      groups: [],
    };
    api.setDirectory(consistent);
    const first = await syncWithBaseline(store, 'claude', client, ledger);
    expect(first.baselineEvents).toBe(0);
    // Out of band: uma became admin, eve was added, both without an activity the ledger saw.
    api.setDirectory({
      ...consistent,
      users: {
        [ORG]: users([
          ['olivia', 'primary_owner'],
          ['uma', 'admin'],
          ['eve', 'user'],
        ]),
      },
    });
    const drift = await detectDrift(store, 'claude', client, ledger);
    expect(drift.detected).toBe(2);
    expect(drift.open).toEqual([
      expect.objectContaining({ userId: 'eve', ledger: null, api: { role: 'user', email: 'eve@acme.test' } }),
      expect.objectContaining({ userId: 'uma', ledger: { role: 'user', status: 'active' }, api: { role: 'admin', email: 'uma@acme.test' } }),
    ]);
    const events = [];
    for await (const e of ledger.store.readAll()) if (e.type === 'DriftDetected') events.push(e);
    expect(events).toHaveLength(2);
    expect(events[0]!.data).toEqual(
      expect.objectContaining({ orgId: ORG, source: 'claude', subject: { kind: 'member', userId: expect.any(String) }, sinceAtLeast: drift.at }),
    );
    // Detected again: still open, not recorded twice.
    const again = await detectDrift(store, 'claude', client, ledger);
    expect(again.detected).toBe(0);
    expect(again.open).toHaveLength(2);
    // The missed activities arrive: the drift closes.
    api.add([
      {
        id: 'a4',
        created_at: new Date(Date.now() - 1000).toISOString(),
        organization_uuid: ORG,
        actor,
        type: 'org_user_role_changed',
        user_id: 'uma',
        role: 'admin',
      },
      {
        id: 'a5',
        created_at: new Date(Date.now() - 500).toISOString(),
        organization_uuid: ORG,
        actor,
        type: 'org_user_added',
        user_id: 'eve',
        email_address: 'eve@acme.test',
        role: 'user',
      },
    ]);
    await syncWithBaseline(store, 'claude', client, ledger);
    const closed = await detectDrift(store, 'claude', client, ledger);
    expect(closed).toEqual(expect.objectContaining({ detected: 0, resolved: 2, open: [] }));
    expect(openDrift(store, 'claude')).toEqual([]);
  });

  test('drift of group memberships: a member the directory shows in a group and the ledger does not, until the missed activities arrive', async () => {
    const { api, ledger, store, client } = await setup();
    api.add([
      { id: 'a1', created_at: '2026-03-01T10:00:00Z', organization_uuid: ORG, actor, type: 'org_created', organization_name: 'Acme' },
      {
        id: 'a2',
        created_at: '2026-03-01T10:01:00Z',
        organization_uuid: ORG,
        actor,
        type: 'org_user_added',
        user_id: 'olivia',
        email_address: 'olivia@acme.test',
        role: 'primary_owner',
      },
      { id: 'a3', created_at: '2026-03-01T10:02:00Z', organization_uuid: ORG, actor, type: 'group_created', group_id: 'eng', group_name: 'Engineering' },
    ]);
    const directory = { organizations: [{ uuid: ORG, name: 'Acme' }], users: { [ORG]: users([['olivia', 'primary_owner']]) } };
    api.setDirectory({ ...directory, groups: [{ id: 'eng', name: 'Engineering', members: [] }] });
    expect((await syncWithBaseline(store, 'claude', client, ledger)).baselineEvents).toBe(0);
    // Out of band: olivia joined eng without an activity the ledger saw.
    api.setDirectory({ ...directory, groups: [{ id: 'eng', name: 'Engineering', members: ['olivia'] }] });
    const drift = await detectDrift(store, 'claude', client, ledger);
    expect(drift.open).toEqual([expect.objectContaining({ orgId: '', groupId: 'eng', userId: 'olivia', ledger: { member: false }, api: { member: true } })]);
    const events = [];
    for await (const e of ledger.store.readAll()) if (e.type === 'DriftDetected') events.push(e.data);
    expect(events).toEqual([expect.objectContaining({ subject: { kind: 'group-member', userId: 'olivia', groupId: 'eng' } })]);
    api.add([
      {
        id: 'a4',
        created_at: new Date(Date.now() - 1000).toISOString(),
        organization_uuid: ORG,
        actor,
        type: 'group_member_added',
        group_id: 'eng',
        user_id: 'olivia',
      },
    ]);
    await syncWithBaseline(store, 'claude', client, ledger);
    expect(await detectDrift(store, 'claude', client, ledger)).toEqual(expect.objectContaining({ detected: 0, resolved: 1, open: [] }));
  });

  test('a role "updated" without its new definition: read from the roles endpoint at ingestion and recorded as observed', async () => {
    const { api, ledger, store, client } = await setup();
    api.add([
      { id: 'a1', created_at: '2026-03-01T10:00:00Z', organization_uuid: ORG, actor, type: 'org_created', organization_name: 'Acme' },
      {
        id: 'a2',
        created_at: '2026-03-01T10:01:00Z',
        organization_uuid: ORG,
        actor,
        type: 'org_user_added',
        user_id: 'olivia',
        email_address: 'olivia@acme.test',
        role: 'primary_owner',
      },
      {
        id: 'a3',
        created_at: '2026-03-01T10:02:00Z',
        organization_uuid: ORG,
        actor,
        type: 'custom_role_created',
        role_id: 'coder',
        role_name: 'Coder',
        capabilities: ['claude_code'],
      },
      { id: 'a4', created_at: '2026-03-02T10:00:00Z', organization_uuid: ORG, actor, type: 'custom_role_updated', role_id: 'coder' },
      { id: 'a5', created_at: '2026-03-02T11:00:00Z', organization_uuid: ORG, actor, type: 'custom_role_updated', role_id: 'gone' },
    ]);
    api.setDirectory({
      organizations: [{ uuid: ORG, name: 'Acme' }],
      users: { [ORG]: users([['olivia', 'primary_owner']]) },
      groups: [],
      roles: { [ORG]: [{ id: 'coder', name: 'Builder', capabilities: ['chat', 'web_search'] }] },
    });
    const report = await syncWithBaseline(store, 'claude', client, ledger);
    expect(report.byDisposition).toEqual(expect.objectContaining({ mapped: 4, rejected: 1 }));
    expect(store.rejections('claude').map((r) => r.reason)).toEqual([
      'custom_role_updated: role gone is no longer in the directory; its new definition cannot be observed',
    ]);
    const observed = [];
    for await (const e of ledger.store.readAll()) if (e.id.startsWith('ca.a4')) observed.push(e);
    expect(observed[0]).toEqual(expect.objectContaining({ type: 'RoleRenamed', data: { orgId: ORG, roleId: 'coder', name: 'Builder' } }));
    expect(observed[0]!.metadata.occurredAt).toBe('2026-03-02T10:00:00.000Z');
    expect(observed[0]!.metadata.evidence).toEqual(
      expect.objectContaining({
        observedAtIngestion: expect.objectContaining({ directoryRecord: { id: 'coder', name: 'Builder', capabilities: ['chat', 'web_search'] } }),
      }),
    );
    const caps = Object.fromEntries(
      observed
        .filter((e) => e.type === 'RoleCapabilitySet')
        .map((e) => [(e.data as { capability: string }).capability, (e.data as { granted: boolean }).granted]),
    );
    expect(caps).toEqual(expect.objectContaining({ chat: true, web_search: true, claude_code: false }));
  });
});
