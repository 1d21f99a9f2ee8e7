import { describe, expect, test } from '@jest/globals';
import { holdersOf, timelineOf, viewAt, type Link } from '../../src/index.js';
import { History } from './history.js';

const types = (why: readonly Link[] | undefined) => (why ?? []).map((l) => l.type);

/** An org with a custom member `u` in groups of their own, ready for role scenarios. */
function customMemberIn(...groups: string[]): History {
  const h = new History().org('acme').member('acme', 'owner', 'primary_owner').member('acme', 'u', 'custom');
  for (const g of groups) h.group(g, 'manual', 'u');
  return h;
}

describe('§11 scenarios', () => {
  test('1. R15 — roles via groups A and B, RA blocks Jira, RB sets it to needs_approval → needs_approval', () => {
    const h = customMemberIn('A', 'B').connector('acme', 'jira', 'search_issues', 'create_issue');
    h.event('ConnectorPermissionsEnabled', { orgId: 'acme' });
    h.role('acme', 'RA').role('acme', 'RB').assign('acme', 'A', 'RA').assign('acme', 'B', 'RB');
    h.event('RoleConnectorPermissionSet', { orgId: 'acme', roleId: 'RA', connectorId: 'jira', level: 'blocked' });
    h.event('RoleConnectorPermissionSet', { orgId: 'acme', roleId: 'RB', connectorId: 'jira', level: 'needs_approval' });
    const a = h.access('acme', 'u');
    expect(a.tools['jira']!['search_issues']!.level).toBe('needs_approval');
    expect(a.tools['jira']!['create_issue']!.level).toBe('needs_approval');
  });

  test('2. R16 — org-wide policy needs_approval beats a role at always_allow', () => {
    const h = customMemberIn('A').connector('acme', 'jira', 'search_issues');
    h.event('ConnectorPermissionsEnabled', { orgId: 'acme' });
    h.role('acme', 'R').assign('acme', 'A', 'R');
    h.event('RoleToolPermissionSet', { orgId: 'acme', roleId: 'R', connectorId: 'jira', toolName: 'search_issues', level: 'always_allow' });
    h.event('RoleConnectorPermissionSet', { orgId: 'acme', roleId: 'R', connectorId: 'jira', level: 'always_allow' });
    h.event('OrgToolPolicySet', { orgId: 'acme', connectorId: 'jira', toolName: 'search_issues', level: 'needs_approval' });
    const tool = h.access('acme', 'u').tools['jira']!['search_issues']!;
    expect(tool.level).toBe('needs_approval');
    expect(types(tool.why)).toContain('OrgToolPolicySet');
  });

  test('3. R14, R17 — Jira at custom with only search_issues at needs_approval', () => {
    const h = customMemberIn('A').connector('acme', 'jira', 'search_issues', 'create_issue', 'delete_issue');
    h.event('ConnectorPermissionsEnabled', { orgId: 'acme' });
    h.role('acme', 'R').assign('acme', 'A', 'R');
    h.event('RoleConnectorPermissionSet', { orgId: 'acme', roleId: 'R', connectorId: 'jira', level: 'custom' });
    h.event('RoleToolPermissionSet', { orgId: 'acme', roleId: 'R', connectorId: 'jira', toolName: 'search_issues', level: 'needs_approval' });
    const a = h.access('acme', 'u');
    expect(a.tools['jira']).toMatchObject({
      search_issues: { level: 'needs_approval' },
      create_issue: { level: 'blocked' },
      delete_issue: { level: 'blocked' },
    });
    expect(a.connectorMenu).toEqual(['jira']);
  });

  test('4. R14 — "All connectors" at custom; a connector added afterwards is blocked for that role', () => {
    const h = customMemberIn('A').connector('acme', 'jira', 'search');
    h.event('ConnectorPermissionsEnabled', { orgId: 'acme' });
    h.role('acme', 'R').assign('acme', 'A', 'R');
    h.event('RoleConnectorPermissionSet', { orgId: 'acme', roleId: 'R', connectorId: '*', level: 'custom' });
    h.connector('acme', 'slack', 'post');
    const a = h.access('acme', 'u');
    expect(a.tools['slack']!['post']!.level).toBe('blocked');
    expect(a.connectorMenu).not.toContain('slack');
  });

  test('5. R8 — custom member granted claude_code on a chat seat of a dual-seat plan has none; the seat explains it', () => {
    const h = new History().org('acme', { dualSeat: true }).member('acme', 'u', 'custom', 'chat').group('A', 'manual', 'u');
    h.role('acme', 'R', 'claude_code').assign('acme', 'A', 'R');
    const cc = h.access('acme', 'u').capabilities['claude_code']!;
    expect(cc.granted).toBe(false);
    expect(cc.why.some((l) => l.type === 'MemberAdded' && /chat seat/.test(l.says))).toBe(true);
    h.event('MemberSeatChanged', { orgId: 'acme', userId: 'u', seat: 'chat_claude_code' });
    expect(h.access('acme', 'u').capabilities['claude_code']!.granted).toBe(true);
  });

  test('6. R2 — an owner has no Cowork while the organization toggle is off', () => {
    const h = new History().org('acme').member('acme', 'o', 'owner');
    h.event('OrganizationCapabilitySet', { orgId: 'acme', capability: 'cowork', enabled: false });
    const cowork = h.access('acme', 'o').capabilities['cowork']!;
    expect(cowork.granted).toBe(false);
    expect(types(cowork.why)).toContain('OrganizationCapabilitySet');
  });

  test('7. R4 — a user member in a group whose role grants nothing has every available capability', () => {
    const h = new History().org('acme').member('acme', 'u', 'user').group('A', 'manual', 'u');
    h.role('acme', 'R', '-chat').assign('acme', 'A', 'R');
    h.event('OrganizationCapabilitySet', { orgId: 'acme', capability: 'research', enabled: false });
    const caps = h.access('acme', 'u').capabilities;
    expect(
      Object.entries(caps)
        .filter(([, g]) => g.granted)
        .map(([c]) => c)
        .sort(),
    ).toEqual(['artifacts', 'chat', 'claude_code', 'code_execution', 'cowork', 'fast_mode', 'file_creation', 'memory', 'projects', 'web_search']);
  });

  test('8. R6, R60 — custom member moved out of their only group has nothing from that instant; earlier access unchanged', () => {
    const h = customMemberIn('A').role('acme', 'R', 'web_search').assign('acme', 'A', 'R');
    const before = h.now();
    h.event('UserRemovedFromGroup', { groupId: 'A', userId: 'u' });
    const now = h.access('acme', 'u');
    expect(Object.values(now.capabilities).some((g) => g.granted)).toBe(false);
    const then = h.access('acme', 'u', before);
    expect(then.capabilities['chat']!.granted).toBe(true);
    expect(then.capabilities['web_search']!.granted).toBe(true);
  });

  describe('9. R41–R43 — spend limits', () => {
    function limits(precedence: 'lowest' | 'highest') {
      const h = new History().org('acme').member('acme', 'u', 'custom').group('G20', 'manual', 'u').group('G80', 'manual', 'u');
      h.event('SpendingPrecedenceSet', { orgId: 'acme', precedence });
      h.event('GroupSpendLimitSet', { orgId: 'acme', groupId: 'G20', cents: 20_000 });
      h.event('GroupSpendLimitSet', { orgId: 'acme', groupId: 'G80', cents: 80_000 });
      h.event('MemberSpendLimitSet', { orgId: 'acme', userId: 'u', cents: 50_000 });
      return h;
    }
    test('R41 individual 50 000 overrides groups of 20 000 and 80 000', () => {
      expect(limits('lowest').access('acme', 'u').spendLimitCents).toBe(50_000);
    });
    test('R42 without it: 20 000 (lowest) or 80 000 (highest)', () => {
      for (const [precedence, cents] of [
        ['lowest', 20_000],
        ['highest', 80_000],
      ] as const) {
        const h = limits(precedence);
        h.event('MemberSpendLimitSet', { orgId: 'acme', userId: 'u', cents: null });
        expect(h.access('acme', 'u').spendLimitCents).toBe(cents);
      }
    });
    test('R43 a ceiling of 30 000 caps the highest case to 30 000', () => {
      const h = limits('highest');
      h.event('MemberSpendLimitSet', { orgId: 'acme', userId: 'u', cents: null });
      h.event('OrgSpendCeilingSet', { orgId: 'acme', cents: 30_000 });
      expect(h.access('acme', 'u').spendLimitCents).toBe(30_000);
    });
    test('R43 no limit at all means unlimited (null)', () => {
      const h = new History().org('acme').member('acme', 'u', 'user');
      expect(h.access('acme', 'u').spendLimitCents).toBeNull();
    });
  });

  test('10. R31 — in a jit org a SCIM group assigned a role grants nothing; the same via a manual group grants', () => {
    const h = new History().org('acme', { mode: 'jit' }).member('acme', 'u', 'custom').member('acme', 'v', 'custom');
    h.group('S', 'scim', 'u').group('M', 'manual', 'v').role('acme', 'R', 'web_search').assign('acme', 'S', 'R').assign('acme', 'M', 'R');
    const u = h.access('acme', 'u').capabilities['web_search']!;
    expect(u.granted).toBe(false);
    expect(u.why.some((l) => /R31/.test(l.says))).toBe(true);
    expect(h.access('acme', 'v').capabilities['web_search']!.granted).toBe(true);
  });

  test('11. R61 — a SCIM sync imported late with an earlier occurredAt: access between the two reflects the sync', () => {
    const h = customMemberIn().group('A').role('acme', 'R', 'research').assign('acme', 'A', 'R');
    h.at('2026-03-01T00:00:00.000Z');
    h.event('RoleCapabilitySet', { orgId: 'acme', roleId: 'R', capability: 'memory', granted: true });
    // Recorded after the role change, but took effect before it.
    h.event(
      'UserAddedToGroup',
      { groupId: 'A', userId: 'u' },
      { actor: { kind: 'scim' }, occurredAt: '2026-02-01T00:00:00.000Z', recordedAt: '2026-03-02T00:00:00.000Z' },
    );
    const between = h.access('acme', 'u', '2026-02-15T00:00:00.000Z');
    expect(between.capabilities['research']!.granted).toBe(true);
    expect(between.capabilities['memory']!.granted).toBe(false);
    expect(h.access('acme', 'u', '2026-03-01T00:00:01.000Z').capabilities['memory']!.granted).toBe(true);
    // R60: as known before the sync was recorded, the member had nothing then.
    expect(h.access('acme', 'u', '2026-02-15T00:00:00.000Z', '2026-03-01T12:00:00.000Z').capabilities['research']!.granted).toBe(false);
  });

  test('12. R30 — group G shared by X and Y, role R in X only: grants in X, nothing in Y', () => {
    const h = new History().org('X').org('Y').member('X', 'u', 'custom').member('Y', 'u', 'custom').group('G', 'manual', 'u');
    h.role('X', 'R', 'projects').assign('X', 'G', 'R');
    expect(h.access('X', 'u').capabilities['projects']!.granted).toBe(true);
    expect(Object.values(h.access('Y', 'u').capabilities).some((g) => g.granted)).toBe(false);
  });

  test('13. R12 — enabling connector permissions (with the seeding events) changes no tool level at that instant', () => {
    const h = customMemberIn('A').connector('acme', 'jira', 'search', 'create').role('acme', 'R').assign('acme', 'A', 'R');
    h.event('OrgToolPolicySet', { orgId: 'acme', connectorId: 'jira', toolName: 'create', level: 'needs_approval' });
    const before = h.access('acme', 'u').tools;
    const enabling = h.event('ConnectorPermissionsEnabled', { orgId: 'acme' });
    h.event('RoleConnectorPermissionSet', { orgId: 'acme', roleId: 'R', connectorId: '*', level: 'always_allow' }, { occurredAt: h.now() });
    const after = h.access('acme', 'u').tools;
    expect(Object.fromEntries(Object.entries(after['jira']!).map(([t, l]) => [t, l.level]))).toEqual(
      Object.fromEntries(Object.entries(before['jira']!).map(([t, l]) => [t, l.level])),
    );
    expect(enabling).toBeTruthy();
  });
});

describe('capabilities §3', () => {
  test('R1 — a platform override disables a capability for owners too, whatever the toggle says', () => {
    const h = new History().org('acme').member('acme', 'o', 'primary_owner');
    h.event('PlatformOverrideSet', { orgId: 'acme', capability: 'web_search', disabled: true }, { actor: { kind: 'platform' } });
    const g = h.access('acme', 'o').capabilities['web_search']!;
    expect(g.granted).toBe(false);
    expect(g.why.map((l) => l.type)).toContain('PlatformOverrideSet');
  });
  test('R3 — a capability added to the catalog starts off in every organization', () => {
    const h = new History().org('acme').member('acme', 'o', 'owner');
    h.event('CapabilityAddedToCatalog', { capability: 'voice' }, { actor: { kind: 'platform' } });
    expect(h.access('acme', 'o').capabilities['voice']!.granted).toBe(false);
    h.event('OrganizationCapabilitySet', { orgId: 'acme', capability: 'voice', enabled: true });
    expect(h.access('acme', 'o').capabilities['voice']!.granted).toBe(true);
  });
  test('R5 — grants are additive; the explanation names member, group membership, assignment, grant and toggle events', () => {
    const h = customMemberIn('A', 'B').role('acme', 'RA', '-chat').role('acme', 'RB', 'claude_code').assign('acme', 'A', 'RA').assign('acme', 'B', 'RB');
    const cc = h.access('acme', 'u').capabilities['claude_code']!;
    expect(cc.granted).toBe(true);
    expect(types(cc.why)).toEqual(['MemberAdded', 'UserAddedToGroup', 'RoleAssignedToGroup', 'RoleCapabilitySet', 'OrganizationCreated']);
    expect(cc.why.every((l) => l.eventId && l.occurredAt && l.actor && l.says)).toBe(true);
  });
  test('R6 — a custom member in no group has no capability, not even chat', () => {
    const h = customMemberIn();
    expect(Object.values(h.access('acme', 'u').capabilities).some((g) => g.granted)).toBe(false);
  });
  test('R7 — a new custom role grants chat and nothing else', () => {
    const h = customMemberIn('A').role('acme', 'R').assign('acme', 'A', 'R');
    const granted = Object.entries(h.access('acme', 'u').capabilities)
      .filter(([, g]) => g.granted)
      .map(([c]) => c);
    expect(granted).toEqual(['chat']);
  });
  test('R8 — a chat seat never grants a capability the roles do not', () => {
    const h = new History().org('acme', { dualSeat: true }).member('acme', 'u', 'custom', 'chat_claude_code').group('A', 'manual', 'u');
    h.role('acme', 'R', '-chat').assign('acme', 'A', 'R');
    expect(h.access('acme', 'u').capabilities['chat']!.granted).toBe(false);
  });
  test('R33 — a suspended member has nothing; reactivated, it returns', () => {
    const h = new History().org('acme').member('acme', 'u', 'user');
    h.event('MemberSuspended', { orgId: 'acme', userId: 'u' }, { actor: { kind: 'scim' } });
    expect(h.access('acme', 'u').capabilities['chat']!.granted).toBe(false);
    h.event('MemberReactivated', { orgId: 'acme', userId: 'u' });
    expect(h.access('acme', 'u').capabilities['chat']!.granted).toBe(true);
  });
});

describe('connectors §4', () => {
  test('R10, R11 — before connector permissions are enabled everyone gets the organization-wide level (default always_allow)', () => {
    const h = customMemberIn().connector('acme', 'jira', 'a', 'b');
    h.event('OrgToolPolicySet', { orgId: 'acme', connectorId: 'jira', toolName: 'b', level: 'blocked' });
    const t = h.access('acme', 'u').tools['jira']!;
    expect(t['a']!.level).toBe('always_allow');
    expect(t['b']!.level).toBe('blocked');
  });
  test('R13 — a role created while connector permissions are enabled starts with All connectors at needs_approval', () => {
    const h = customMemberIn('A').connector('acme', 'jira', 'a');
    h.event('ConnectorPermissionsEnabled', { orgId: 'acme' });
    h.role('acme', 'R').assign('acme', 'A', 'R');
    expect(h.access('acme', 'u').tools['jira']!['a']!.level).toBe('needs_approval');
  });
  test('R15 — a custom member with no roles is blocked once permissions are enabled', () => {
    const h = customMemberIn().connector('acme', 'jira', 'a');
    h.event('ConnectorPermissionsEnabled', { orgId: 'acme' });
    expect(h.access('acme', 'u').tools['jira']!['a']!.level).toBe('blocked');
    expect(h.access('acme', 'u').connectorMenu).toEqual([]);
  });
  test('R16 — owners and users get the organization-wide level, roles have no effect', () => {
    const h = new History().org('acme').member('acme', 'o', 'owner').group('A', 'manual', 'o').connector('acme', 'jira', 'a');
    h.event('ConnectorPermissionsEnabled', { orgId: 'acme' });
    h.role('acme', 'R').assign('acme', 'A', 'R');
    h.event('RoleConnectorPermissionSet', { orgId: 'acme', roleId: 'R', connectorId: 'jira', level: 'blocked' });
    h.event('OrgToolPolicySet', { orgId: 'acme', connectorId: 'jira', toolName: '*', level: 'needs_approval' });
    expect(h.access('acme', 'o').tools['jira']!['a']!.level).toBe('needs_approval');
  });
  test('R18 — a removed tool and a removed connector are blocked from that instant, and earlier answers stay', () => {
    const h = new History().org('acme').member('acme', 'o', 'owner').connector('acme', 'jira', 'a', 'b');
    const before = h.now();
    h.event('ConnectorToolsRemoved', { orgId: 'acme', connectorId: 'jira', tools: ['a'] });
    expect(h.access('acme', 'o').tools['jira']!['a']).toBeUndefined();
    expect(h.access('acme', 'o').tools['jira']!['b']!.level).toBe('always_allow');
    h.event('ConnectorRemoved', { orgId: 'acme', connectorId: 'jira' });
    expect(h.access('acme', 'o').tools['jira']).toBeUndefined();
    expect(h.access('acme', 'o', before).tools['jira']!['a']!.level).toBe('always_allow');
  });
});

describe('admin areas §5', () => {
  test('R20 — a custom member gets the maximum over their roles, none by default', () => {
    const h = customMemberIn('A', 'B').role('acme', 'RA').role('acme', 'RB').assign('acme', 'A', 'RA').assign('acme', 'B', 'RB');
    h.event('RoleAdminPermissionSet', { orgId: 'acme', roleId: 'RA', area: 'billing', level: 'view' });
    h.event('RoleAdminPermissionSet', { orgId: 'acme', roleId: 'RB', area: 'billing', level: 'manage' });
    const a = h.access('acme', 'u').adminAreas;
    expect(a['billing']!.level).toBe('manage');
    expect(a['privacy']!.level).toBe('none');
  });
  test('R21 — owners manage everything; admins manage users and libraries and view analytics; users nothing', () => {
    const h = new History().org('acme').member('acme', 'o', 'owner').member('acme', 'a', 'admin').member('acme', 'u', 'user');
    const levels = (u: string) => Object.fromEntries(Object.entries(h.access('acme', u).adminAreas).map(([k, v]) => [k, v.level]));
    expect(Object.values(levels('o'))).toEqual(Array(6).fill('manage'));
    expect(levels('a')).toEqual({
      identity_access: 'none',
      billing: 'none',
      analytics: 'view',
      privacy: 'none',
      user_management: 'manage',
      libraries: 'manage',
    });
    expect(Object.values(levels('u'))).toEqual(Array(6).fill('none'));
  });
});

describe('Console §8', () => {
  test('R50–R52 — Console roles, org admins everywhere, workspace roles add', () => {
    const h = new History().org('acme').member('acme', 'd', 'user').member('acme', 'a', 'user').member('acme', 'b', 'user');
    h.event('WorkspaceCreated', { orgId: 'acme', workspaceId: 'w1', name: 'one' });
    h.event('WorkspaceCreated', { orgId: 'acme', workspaceId: 'w2', name: 'two' });
    h.event('ConsoleRoleSet', { orgId: 'acme', userId: 'd', role: 'developer' });
    h.event('ConsoleRoleSet', { orgId: 'acme', userId: 'a', role: 'admin' });
    h.event('ConsoleRoleSet', { orgId: 'acme', userId: 'b', role: 'billing' });
    h.event('WorkspaceRoleSet', { orgId: 'acme', workspaceId: 'w1', userId: 'd', role: 'workspace_admin' });
    const d = h.access('acme', 'd').console;
    expect(d.permissions).toEqual(['workbench', 'claude_code', 'manage_api_keys', 'view_usage_cost']); // R50
    expect(d.workspaces['w1']).toEqual(expect.arrayContaining(['manage_workspace_members', 'manage_api_keys'])); // R52
    expect(d.workspaces['w2']).toBeUndefined();
    const a = h.access('acme', 'a').console; // R51
    expect(a.workspaces['w1']).toEqual(expect.arrayContaining(['manage_workspace_members']));
    expect(a.workspaces['w2']).toEqual(expect.arrayContaining(['manage_workspace_members']));
    const b = h.access('acme', 'b').console; // R50, R51: billing has no claude_code, views cost everywhere
    expect(b.permissions).not.toContain('claude_code');
    expect(b.workspaces['w2']).toEqual(expect.arrayContaining(['view_usage_cost', 'view_limits']));
    h.event('WorkspaceArchived', { orgId: 'acme', workspaceId: 'w2' });
    expect(h.access('acme', 'a').console.workspaces['w2']).toBeUndefined();
  });
});

describe('time travel', () => {
  test('R60 — holders at an instant; timeline intervals name the events that opened and closed them', () => {
    const h = customMemberIn('A').role('acme', 'R', 'research').member('acme', 'v', 'user');
    const t0 = h.now();
    const assigned = h.event('RoleAssignedToGroup', { orgId: 'acme', groupId: 'A', roleId: 'R' });
    const t1 = h.now();
    const removed = h.event('UserRemovedFromGroup', { groupId: 'A', userId: 'u' });
    expect(holdersOf(h.facts, viewAt(Date.parse(t1)), 'acme', { capability: 'research' }).map((x) => x.userId)).toEqual(['owner', 'u', 'v']);
    expect(holdersOf(h.facts, viewAt(Date.parse(t0)), 'acme', { capability: 'research' }).map((x) => x.userId)).toEqual(['owner', 'v']);
    const research = timelineOf(h.facts, 'acme', 'u', Date.parse('2026-01-01T00:00:00.000Z'), Date.now()).filter((i) => i.permission === 'capability:research');
    expect(research).toEqual([{ permission: 'capability:research', level: 'granted', from: t1, to: h.now(), openedBy: assigned, closedBy: removed }]);
  });
});
