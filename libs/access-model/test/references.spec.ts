import { describe, expect, it } from '@jest/globals';
import { BatchWorld, NOW, checkReferences, createdBy, worldAt, worldEver, type EventType, type World } from '../src/index.js';
import { acme, aConnector, aRole, anApiKey, aWorkspace, organization } from './builders.js';
import { START, at, e, fold, type GivenEvent } from './given.js';

/**
 * Reference validation of imported facts (http-api.md § Importing; R61, R62): no rights check, but every reference
 * must name something that exists — for imports, something that ever existed, since facts may arrive late.
 */

const ever = (...events: Array<GivenEvent | GivenEvent[]>) => worldEver(fold(events.flat()).facts);
const check = (world: World, event: GivenEvent) => checkReferences(world, event.type, event.data);

describe('createdBy', () => {
  it.each([
    [e.OrganizationCreated({ orgId: 'o', name: 'O', dualSeat: false, provisioningMode: 'jit', usageBased: false }), [{ kind: 'org', key: 'o' }]],
    [e.MemberAdded({ orgId: 'o', userId: 'u', email: 'u@o.test', role: 'user' }), [{ kind: 'member', key: 'o|u' }]],
    [e.GroupCreated({ groupId: 'g', name: 'G', source: 'scim' }), [{ kind: 'group', key: 'g' }]],
    [e.RoleCreated({ orgId: 'o', roleId: 'r', name: 'R' }), [{ kind: 'role', key: 'o|r' }]],
    [
      e.ConnectorAdded({ orgId: 'o', connectorId: 'c', name: 'C', tools: ['t1', 't2'] }),
      [
        { kind: 'connector', key: 'o|c' },
        { kind: 'tool', key: 'o|c|t1' },
        { kind: 'tool', key: 'o|c|t2' },
      ],
    ],
    [e.ConnectorToolsAdded({ orgId: 'o', connectorId: 'c', tools: ['t3'] }), [{ kind: 'tool', key: 'o|c|t3' }]],
    [e.WorkspaceCreated({ orgId: 'o', workspaceId: 'w', name: 'W' }), [{ kind: 'workspace', key: 'o|w' }]],
    [e.ApiKeyCreated({ orgId: 'o', workspaceId: 'w', apiKeyId: 'k', name: 'K', createdBy: 'u' }), [{ kind: 'apiKey', key: 'o|w|k' }]],
    [e.MemberRoleChanged({ orgId: 'o', userId: 'u', role: 'admin' }), []],
    [e.AccessChangeDenied({ command: { type: 'AddMember', payload: {} }, reason: 'r', rule: 'R22' }), []],
  ])('%#: %j creates what it names', (event, things) => {
    expect(createdBy(event.type, event.data)).toEqual(things);
  });
});

describe('worldEver and worldAt', () => {
  it('R61: what was removed, deleted, archived or revoked still existed, for imports; not at the instant after', () => {
    const history = [
      acme(),
      e.MemberRemoved({ orgId: 'acme', userId: 'user' }),
      e.GroupDeleted({ groupId: 'g-cm' }),
      e.RoleDeleted({ orgId: 'acme', roleId: 'r-cm' }),
      aConnector('acme', 'jira', ['search']),
      e.ConnectorToolsRemoved({ orgId: 'acme', connectorId: 'jira', tools: ['search'] }),
      aWorkspace('acme', 'w1'),
      anApiKey('acme', 'w1', 'k1', 'po'),
      e.ApiKeyRevoked({ orgId: 'acme', workspaceId: 'w1', apiKeyId: 'k1' }),
      e.WorkspaceArchived({ orgId: 'acme', workspaceId: 'w1' }),
    ].flat();
    const { facts } = fold(history);
    const asked = (w: World) => [
      w.orgExists('acme'),
      w.memberExists('acme', 'user'),
      w.groupExists('g-cm'),
      w.roleExists('acme', 'r-cm'),
      w.connectorExists('acme', 'jira'),
      w.toolExists('acme', 'jira', 'search'),
      w.workspaceExists('acme', 'w1'),
      w.apiKeyExists('acme', 'w1', 'k1'),
    ];
    expect(asked(worldEver(facts))).toEqual([true, true, true, true, true, true, true, true]);
    expect(asked(worldAt(facts, NOW))).toEqual([true, false, false, false, true, false, false, false]);
    expect(worldEver(facts).memberExists('acme', 'nobody')).toBe(false);
  });

  it('R60: worldAt answers at an instant: before a member was added, they do not exist', () => {
    const added = Date.parse('2026-05-01T00:00:00.000Z');
    const { facts } = fold([...organization('acme'), at(added, e.MemberAdded({ orgId: 'acme', userId: 'late', email: 'l@a.test', role: 'user' }))]);
    expect(worldAt(facts, { at: added - 1, knownAt: Infinity }).memberExists('acme', 'late')).toBe(false);
    expect(worldAt(facts, { at: added, knownAt: Infinity }).memberExists('acme', 'late')).toBe(true);
    expect(worldEver(facts).memberExists('acme', 'late')).toBe(true);
  });

  it('R30: a role id of one organization does not exist in another', () => {
    const world = ever(acme(), organization('globex', { primaryOwner: 'gpo' }), aRole('globex', 'r-g'));
    expect(world.roleExists('globex', 'r-g')).toBe(true);
    expect(world.roleExists('acme', 'r-g')).toBe(false);
  });
});

describe('checkReferences', () => {
  const world = () =>
    ever(acme(), aConnector('acme', 'jira', ['search']), aWorkspace('acme', 'w1'), organization('globex', { primaryOwner: 'gpo' }), aRole('globex', 'r-g'));

  it.each([
    ['an unknown organization', e.SpendingPrecedenceSet({ orgId: 'ghost', precedence: 'lowest' }), /unknown organization ghost/],
    ['an unknown member', e.MemberRoleChanged({ orgId: 'acme', userId: 'nobody', role: 'admin' }), /unknown member nobody of acme/],
    ['a member of another organization', e.MemberSuspended({ orgId: 'globex', userId: 'admin' }), /unknown member admin of globex/],
    ['a role of another organization', e.RoleAssignedToGroup({ orgId: 'acme', groupId: 'g-cm', roleId: 'r-g' }), /unknown role r-g in acme/],
    ['an unknown group', e.UserAddedToGroup({ groupId: 'g-ghost', userId: 'user' }), /unknown group g-ghost/],
    [
      'a tool of an unknown connector',
      e.RoleToolPermissionSet({ orgId: 'acme', roleId: 'r-cm', connectorId: 'slack', toolName: 'post', level: 'blocked' }),
      /unknown connector slack/,
    ],
    ['an unknown tool', e.OrgToolPolicySet({ orgId: 'acme', connectorId: 'jira', toolName: 'nope', level: 'blocked' }), /unknown tool nope/],
    ['removing an unknown tool', e.ConnectorToolsRemoved({ orgId: 'acme', connectorId: 'jira', tools: ['search', 'nope'] }), /unknown tool nope/],
    ['an unknown workspace', e.WorkspaceRoleSet({ orgId: 'acme', workspaceId: 'w9', userId: 'user', role: null }), /unknown workspace w9/],
    ['an unknown API key', e.ApiKeyRevoked({ orgId: 'acme', workspaceId: 'w1', apiKeyId: 'k9' }), /unknown API key k9/],
    [
      'an unknown primary-ownership predecessor',
      e.PrimaryOwnershipTransferred({ orgId: 'acme', toUserId: 'owner', fromUserId: 'nobody' }),
      /unknown member nobody/,
    ],
    [
      'a creator who was never a member',
      e.ApiKeyCreated({ orgId: 'acme', workspaceId: 'w1', apiKeyId: 'k', name: 'k', createdBy: 'u' }),
      /unknown member u of acme/,
    ],
    [
      'an organization created twice',
      e.OrganizationCreated({ orgId: 'acme', name: 'A', dualSeat: false, provisioningMode: 'jit', usageBased: false }),
      /never reused/,
    ],
    ['a group created twice', e.GroupCreated({ groupId: 'g-cm', name: 'x', source: 'manual' }), /never reused/],
    ['a role created twice', e.RoleCreated({ orgId: 'acme', roleId: 'r-cm', name: 'x' }), /never reused/],
    ['a connector added twice', e.ConnectorAdded({ orgId: 'acme', connectorId: 'jira', name: 'x', tools: [] }), /never reused/],
    ['a mapping of an unknown group', e.GroupRoleMappingSet({ orgId: 'acme', idpGroupId: 'idp-ghost', role: 'user' }), /unknown group/],
  ])('R62: %s is refused', (_, event, reason) => {
    const problem = check(world(), event);
    expect(problem?.rule).toBe('R62');
    expect(problem?.reason).toMatch(reason);
  });

  it.each([
    e.MemberAdded({ orgId: 'acme', userId: 'new', email: 'n@a.test', role: 'user' }),
    e.MemberAdded({ orgId: 'acme', userId: 'user', email: 'n@a.test', role: 'user' }),
    e.RoleConnectorPermissionSet({ orgId: 'acme', roleId: 'r-cm', connectorId: '*', level: 'always_allow' }),
    e.OrgToolPolicySet({ orgId: 'acme', connectorId: 'jira', toolName: '*', level: 'needs_approval' }),
    e.ConnectorToolsAdded({ orgId: 'acme', connectorId: 'jira', tools: ['search'] }),
    e.CapabilityAddedToCatalog({ capability: 'voice' }),
    e.OrganizationCapabilitySet({ orgId: 'acme', capability: 'capability_of_the_source_system', enabled: true }),
    e.AccessChangeDenied({ command: { type: 'AddMember', payload: {} }, reason: 'r', rule: 'R22' }),
    e.PrimaryOwnershipTransferred({ orgId: 'acme', toUserId: 'owner' }),
  ])("%#: %j passes (imports skip R22 and the deciders' other invariants)", (event) => {
    expect(check(world(), event)).toBeUndefined();
  });

  it('R61: an import may refer to a member whose MemberAdded is stored with a later occurredAt, or who left since', () => {
    const { facts } = fold([
      ...organization('acme'),
      at(START + 86_400_000, e.MemberAdded({ orgId: 'acme', userId: 'late', email: 'l@a.test', role: 'user' })),
      e.MemberRemoved({ orgId: 'acme', userId: 'late' }),
    ]);
    expect(check(worldEver(facts), e.MemberSeatChanged({ orgId: 'acme', userId: 'late', seat: 'chat' }))).toBeUndefined();
  });
});

describe('BatchWorld', () => {
  it('a batch may refer to what its earlier lines created, and may not create anything twice', () => {
    const world = new BatchWorld(ever(acme()));
    const lines: GivenEvent[] = [
      e.OrganizationCreated({ orgId: 'globex', name: 'G', dualSeat: false, provisioningMode: 'scim', usageBased: false }),
      e.MemberAdded({ orgId: 'globex', userId: 'gpo', email: 'g@g.test', role: 'primary_owner' }),
      e.GroupCreated({ groupId: 'g-new', name: 'N', source: 'scim' }),
      e.RoleCreated({ orgId: 'globex', roleId: 'r', name: 'R' }),
      e.RoleAssignedToGroup({ orgId: 'globex', groupId: 'g-new', roleId: 'r' }),
      e.ConnectorAdded({ orgId: 'globex', connectorId: 'c', name: 'C', tools: ['t'] }),
      e.RoleToolPermissionSet({ orgId: 'globex', roleId: 'r', connectorId: 'c', toolName: 't', level: 'needs_approval' }),
      e.WorkspaceCreated({ orgId: 'globex', workspaceId: 'w', name: 'W' }),
      e.ApiKeyCreated({ orgId: 'globex', workspaceId: 'w', apiKeyId: 'k', name: 'K', createdBy: 'gpo' }),
      e.ApiKeyRevoked({ orgId: 'globex', workspaceId: 'w', apiKeyId: 'k' }),
    ];
    for (const line of lines) {
      expect([line.type, check(world, line)]).toEqual([line.type, undefined]);
      world.record(line.type as EventType, line.data);
    }
    expect(check(world, lines[0]!)?.reason).toMatch(/never reused/);
    expect(check(world, e.ApiKeyCreated({ orgId: 'globex', workspaceId: 'w', apiKeyId: 'k', name: 'K', createdBy: 'gpo' }))?.reason).toMatch(/never reused/);
    expect(check(world, e.MemberRoleChanged({ orgId: 'globex', userId: 'someone', role: 'user' }))?.reason).toMatch(/unknown member/);
  });
});
