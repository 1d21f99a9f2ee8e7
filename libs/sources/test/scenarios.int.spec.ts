/**
 * The scenarios of access-model.md §11 expressed as Compliance API activities (the activity types and fields of
 * mapping.ts; envelope as on the Activity Feed page): fed through the fake server and the sync, they give the answers
 * the spec names, and the same effective access, at every instant of the scenario, as the same history through
 * commands. Scenarios 5 (seat), 10 (SCIM groups in jit mode), 11 (late SCIM sync: see the late-visible test in
 * compliance-sync.int.spec.ts), 13 and 14 (a refused command has no activity) are not expressed here.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ledger } from '@access-ledger/ledger';
import { ComplianceApiClient, SourcesStore, startFakeComplianceApi, syncOnce } from '../src/index.js';

const closers: (() => Promise<void> | void)[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const KEY = 'sk-ant-api01-scenarios';

type Cmd = [type: string, payload: Record<string, unknown>];
/** The activity that reports each command (the inverse of mapping.ts, written independently of it). */
function activityOf([type, p]: Cmd, id: string, at: string): Record<string, unknown> {
  const envelope = {
    id,
    created_at: at,
    organization_id: 'org_x',
    organization_uuid: p.orgId ?? 'o1',
    actor: { type: 'user_actor', user_id: 'po', email_address: 'po@acme.test' },
  };
  const fields: Record<string, () => Record<string, unknown>> = {
    CreateOrganization: () => ({
      type: 'org_created',
      organization_name: p.name,
      dual_seat: p.dualSeat,
      provisioning_mode: p.provisioningMode,
      usage_based: p.usageBased,
    }),
    AddMember: () => ({ type: 'org_user_added', user_id: p.userId, email_address: p.email, role: p.role, ...(p.seat ? { seat_tier: p.seat } : {}) }),
    CreateGroup: () => ({ type: 'group_created', group_id: p.groupId, group_name: p.name }),
    AddUserToGroup: () => ({ type: 'group_member_added', group_id: p.groupId, user_id: p.userId }),
    RemoveUserFromGroup: () => ({ type: 'group_member_removed', group_id: p.groupId, user_id: p.userId }),
    CreateRole: () => ({ type: 'custom_role_created', role_id: p.roleId, role_name: p.name }),
    SetRoleCapability: () => ({ type: 'custom_role_capability_set', role_id: p.roleId, capability: p.capability, granted: p.granted }),
    AssignRoleToGroup: () => ({ type: 'role_assigned_to_group', group_id: p.groupId, role_id: p.roleId }),
    AddConnector: () => ({ type: 'connector_added', connector_id: p.connectorId, connector_name: p.name, tool_names: p.tools }),
    EnableConnectorPermissions: () => ({ type: 'connector_permissions_enabled' }),
    SetRoleConnectorPermission: () => ({ type: 'custom_role_connector_permission_set', role_id: p.roleId, connector_id: p.connectorId, level: p.level }),
    SetRoleToolPermission: () => ({
      type: 'custom_role_tool_permission_set',
      role_id: p.roleId,
      connector_id: p.connectorId,
      tool_name: p.toolName,
      level: p.level,
    }),
    SetOrgToolPolicy: () => ({ type: 'org_tool_policy_set', connector_id: p.connectorId, tool_name: p.toolName, level: p.level }),
    SetOrganizationCapability: () => ({ type: 'org_capability_toggled', capability: p.capability, enabled: p.enabled }),
    SetMemberSpendLimit: () => ({ type: 'member_spend_limit_set', user_id: p.userId, limit_cents: p.cents }),
    SetGroupSpendLimit: () => ({ type: 'group_spend_limit_set', group_id: p.groupId, limit_cents: p.cents }),
    SetSpendingPrecedence: () => ({ type: 'org_spending_precedence_set', precedence: p.precedence }),
    SetOrgSpendCeiling: () => ({ type: 'org_spend_limit_set', limit_cents: p.cents }),
  };
  const f = fields[type];
  if (!f) throw new Error(`no activity for ${type}`);
  return { ...envelope, ...f() };
}

const base = (orgId: string): Cmd[] => [
  ['CreateOrganization', { orgId, name: orgId, dualSeat: false, provisioningMode: 'invite_only', usageBased: false }],
  ['AddMember', { orgId, userId: 'po', email: 'po@acme.test', role: 'primary_owner' }],
  ['AddMember', { orgId, userId: 'u', email: 'u@acme.test', role: 'custom' }],
];
const roleVia = (o: string, g: string, r: string, ...caps: string[]): Cmd[] => [
  ['CreateGroup', { groupId: g, name: g, source: 'manual' }],
  ['AddUserToGroup', { groupId: g, userId: 'u' }],
  ['CreateRole', { orgId: o, roleId: r, name: r }],
  ...caps.map((capability): Cmd => ['SetRoleCapability', { orgId: o, roleId: r, capability, granted: true }]),
  ['AssignRoleToGroup', { orgId: o, groupId: g, roleId: r }],
];

type Check = (access: (userId: string, orgId?: string) => Promise<any>) => Promise<void>;
const SCENARIOS: { name: string; commands: Cmd[]; check: Check }[] = [
  {
    name: '1. R15 — RA blocks Jira, RB needs_approval → needs_approval',
    commands: [
      ...base('o1'),
      ['AddConnector', { orgId: 'o1', connectorId: 'jira', name: 'Jira', tools: ['search_issues', 'create_issue'] }],
      ['EnableConnectorPermissions', { orgId: 'o1' }],
      ...roleVia('o1', 'ga', 'ra'),
      ...roleVia('o1', 'gb', 'rb'),
      ['SetRoleConnectorPermission', { orgId: 'o1', roleId: 'ra', connectorId: 'jira', level: 'blocked' }],
      ['SetRoleConnectorPermission', { orgId: 'o1', roleId: 'rb', connectorId: 'jira', level: 'needs_approval' }],
    ],
    check: async (access) => expect((await access('u')).tools.jira.create_issue.level).toBe('needs_approval'),
  },
  {
    name: '2. R16 — org-wide needs_approval beats a role at always_allow',
    commands: [
      ...base('o1'),
      ['AddConnector', { orgId: 'o1', connectorId: 'jira', name: 'Jira', tools: ['search_issues'] }],
      ['EnableConnectorPermissions', { orgId: 'o1' }],
      ...roleVia('o1', 'g', 'r'),
      ['SetRoleConnectorPermission', { orgId: 'o1', roleId: 'r', connectorId: 'jira', level: 'always_allow' }],
      ['SetOrgToolPolicy', { orgId: 'o1', connectorId: 'jira', toolName: 'search_issues', level: 'needs_approval' }],
    ],
    check: async (access) => expect((await access('u')).tools.jira.search_issues.level).toBe('needs_approval'),
  },
  {
    name: '3. R14, R17 — Jira at custom with only search_issues at needs_approval',
    commands: [
      ...base('o1'),
      ['AddConnector', { orgId: 'o1', connectorId: 'jira', name: 'Jira', tools: ['search_issues', 'create_issue'] }],
      ['EnableConnectorPermissions', { orgId: 'o1' }],
      ...roleVia('o1', 'g', 'r'),
      ['SetRoleConnectorPermission', { orgId: 'o1', roleId: 'r', connectorId: 'jira', level: 'custom' }],
      ['SetRoleToolPermission', { orgId: 'o1', roleId: 'r', connectorId: 'jira', toolName: 'search_issues', level: 'needs_approval' }],
    ],
    check: async (access) => {
      const a = await access('u');
      expect(a.tools.jira.search_issues.level).toBe('needs_approval');
      expect(a.tools.jira.create_issue.level).toBe('blocked');
      expect(a.connectorMenu).toEqual(['jira']);
    },
  },
  {
    name: '4. R14 — "All connectors" at custom; a connector added afterwards is blocked',
    commands: [
      ...base('o1'),
      ['EnableConnectorPermissions', { orgId: 'o1' }],
      ...roleVia('o1', 'g', 'r'),
      ['SetRoleConnectorPermission', { orgId: 'o1', roleId: 'r', connectorId: '*', level: 'custom' }],
      ['AddConnector', { orgId: 'o1', connectorId: 'slack', name: 'Slack', tools: ['post'] }],
    ],
    check: async (access) => expect((await access('u')).tools.slack.post.level).toBe('blocked'),
  },
  {
    name: '6. R2 — owner with Cowork while the organization toggle is off → no Cowork',
    commands: [
      ...base('o1'),
      ['AddMember', { orgId: 'o1', userId: 'own', email: 'own@acme.test', role: 'owner' }],
      ['SetOrganizationCapability', { orgId: 'o1', capability: 'cowork', enabled: false }],
    ],
    check: async (access) => expect((await access('own')).capabilities.cowork.granted).toBe(false),
  },
  {
    name: '7. R4 — a user member in a group whose role grants nothing → every available capability',
    commands: [...base('o1'), ['AddMember', { orgId: 'o1', userId: 'usr', email: 'usr@acme.test', role: 'user' }], ...roleVia('o1', 'g', 'r')],
    check: async (access) => expect((await access('usr')).capabilities.chat.granted).toBe(true),
  },
  {
    name: '8. R6, R60 — custom member moved out of their only group → nothing from that instant',
    commands: [...base('o1'), ...roleVia('o1', 'g', 'r', 'chat'), ['RemoveUserFromGroup', { groupId: 'g', userId: 'u' }]],
    check: async (access) => expect((await access('u')).capabilities.chat.granted).toBe(false),
  },
  {
    name: '9. R41–R43 — individual 50 000, groups 20 000 and 80 000, precedence highest, ceiling 30 000 → 30 000',
    commands: [
      ...base('o1'),
      ...roleVia('o1', 'g1', 'r1'),
      ...roleVia('o1', 'g2', 'r2'),
      ['SetGroupSpendLimit', { orgId: 'o1', groupId: 'g1', cents: 20_000 }],
      ['SetGroupSpendLimit', { orgId: 'o1', groupId: 'g2', cents: 80_000 }],
      ['SetMemberSpendLimit', { orgId: 'o1', userId: 'u', cents: 50_000 }],
      ['SetMemberSpendLimit', { orgId: 'o1', userId: 'u', cents: null }],
      ['SetSpendingPrecedence', { orgId: 'o1', precedence: 'highest' }],
      ['SetOrgSpendCeiling', { orgId: 'o1', cents: 30_000 }],
    ],
    check: async (access) => expect((await access('u')).spendLimitCents).toBe(30_000),
  },
  {
    name: '12. R30 — child organizations share group G, assigned a role in X only',
    commands: [
      ...base('x'),
      ['CreateOrganization', { orgId: 'y', name: 'y', dualSeat: false, provisioningMode: 'invite_only', usageBased: false }],
      ['AddMember', { orgId: 'y', userId: 'po', email: 'po@acme.test', role: 'primary_owner' }],
      ['AddMember', { orgId: 'y', userId: 'u', email: 'u@acme.test', role: 'custom' }],
      ...roleVia('x', 'g', 'r', 'claude_code'),
    ],
    check: async (access) => {
      expect((await access('u', 'x')).capabilities.claude_code.granted).toBe(true);
      expect((await access('u', 'y')).capabilities.claude_code.granted).toBe(false);
    },
  },
];

describe('§11 scenarios as Compliance API activities', () => {
  for (const scenario of SCENARIOS) {
    test(scenario.name, async () => {
      const start = Date.parse('2026-05-01T00:00:00Z');
      const at = (i: number) => new Date(start + i * 60_000).toISOString();
      const api = await startFakeComplianceApi({ keys: { [KEY]: ['read:compliance_activities'] }, overlap: 1 });
      closers.push(() => api.close());
      api.add(scenario.commands.map((c, i) => activityOf(c, `activity_${i}`, at(i))));
      const viaSource = await Ledger.open({ dataDir: dir() });
      const viaCommands = await Ledger.open({ dataDir: dir() });
      const store = new SourcesStore(join(dir(), 'sources.sqlite'));
      closers.push(
        () => viaSource.close(),
        () => viaCommands.close(),
        () => store.close(),
      );
      store.add({ name: 's', kind: 'compliance-api', tenantId: 't', baseUrl: api.url, keyFile: '-' });
      const report = await syncOnce(store, 's', new ComplianceApiClient({ baseUrl: api.url, apiKey: KEY }), viaSource, { pageSize: 4 });
      expect(store.rejections('s')).toEqual([]);
      expect(report.byDisposition.mapped).toBe(scenario.commands.length);
      for (const [i, [type, payload]] of scenario.commands.entries()) {
        const outcome = await viaCommands.executeCommand('t', { type, actor: { kind: 'system' }, occurredAt: at(i), payload });
        expect(outcome.kind).toBe('appended');
      }
      await scenario.check((userId, orgId = scenario.commands[0]![1].orgId as string) => viaSource.queries.memberAccess('t', orgId, userId, {}));
      const orgIds = [...new Set(scenario.commands.map(([, p]) => p.orgId).filter((o): o is string => typeof o === 'string'))];
      for (let i = 0; i <= scenario.commands.length; i++) {
        for (const orgId of orgIds) {
          for (const userId of ['po', 'u', 'own', 'usr']) {
            const q = { at: Date.parse(at(i)) + 1 };
            const a = await viaSource.queries.memberAccess('t', orgId, userId, q).catch((e: Error) => e.message);
            const b = await viaCommands.queries.memberAccess('t', orgId, userId, q).catch((e: Error) => e.message);
            expect(a).toEqual(b);
          }
        }
      }
    });
  }
});

function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'scenario-'));
  dirs.push(d);
  return d;
}
