import { describe, it } from '@jest/globals';
import { acme, aConnector, aGroup, aRole, as, assigned, inGroup, mappedGroups, organization } from './builders.js';
import { e, given, platform, scim, system } from './given.js';

/** Custom roles, their permissions and group assignments (R22: owner or identity_access = manage; R62 references). */

const withJira = () => [acme(), aConnector('acme', 'jira', ['search_issues', 'create_issue'])].flat();
const roleChanged = (orgId: string, userId: string, role: 'owner' | 'admin' | 'custom' | 'user') => e.MemberRoleChanged({ orgId, userId, role });

describe('CreateRole', () => {
  const role = { orgId: 'acme', roleId: 'r-new', name: 'New' };

  it.each(['po', 'owner', 'idm'])('R22: %s (owner or identity_access = manage) creates a role', (actor) => {
    given(acme()).when(as(actor).CreateRole(role)).then(e.RoleCreated(role));
  });

  it.each(['admin', 'um', 'bm', 'user', 'cm'])('R22: %s is refused', (actor) => {
    given(acme())
      .when(as(actor).CreateRole(role))
      .thenRefused('R22', /identity_access = manage/);
  });

  it('R24: scim and the platform may not create roles', () => {
    given(acme()).when(scim.CreateRole(role)).thenRefused('R24');
    given(acme()).when(platform.CreateRole(role)).thenRefused('R24');
  });

  it.each([
    ['exists', aRole('acme', 'r-new')],
    ['existed (deleted since)', [...aRole('acme', 'r-new'), e.RoleDeleted({ orgId: 'acme', roleId: 'r-new' })]],
  ])('R62: a role id that %s in the organization is never reused → violation', (_, events) => {
    given(acme(), events)
      .when(as('idm').CreateRole(role))
      .thenViolates('R62', /never reused/);
  });

  it('role ids belong to one organization: the same id in another organization is free', () => {
    given(acme(), organization('globex', { primaryOwner: 'gpo' }), aRole('globex', 'r-new'))
      .when(as('idm').CreateRole(role))
      .then(e.RoleCreated(role));
  });

  it('R62: an unknown organization → violation (system)', () => {
    given(acme())
      .when(system.CreateRole({ ...role, orgId: 'ghost' }))
      .thenViolates('R62', /unknown organization/);
  });
});

describe('RenameRole', () => {
  it('R22: an identity manager renames a role', () => {
    given(acme())
      .when(as('idm').RenameRole({ orgId: 'acme', roleId: 'r-cm', name: 'Eng' }))
      .then(e.RoleRenamed({ orgId: 'acme', roleId: 'r-cm', name: 'Eng' }));
  });

  it('R62: a role of another organization is unknown here → violation', () => {
    given(acme(), organization('globex', { primaryOwner: 'gpo' }), aRole('globex', 'r-globex'))
      .when(as('idm').RenameRole({ orgId: 'acme', roleId: 'r-globex', name: 'x' }))
      .thenViolates('R62', /unknown role r-globex in acme/);
  });

  it('R22: an admin is refused', () => {
    given(acme())
      .when(as('admin').RenameRole({ orgId: 'acme', roleId: 'r-cm', name: 'x' }))
      .thenRefused('R22');
  });
});

describe('DeleteRole', () => {
  it('R22: an owner deletes a role; R62: a deleted role is unknown afterwards', () => {
    given(acme())
      .when(as('owner').DeleteRole({ orgId: 'acme', roleId: 'r-cm' }))
      .then(e.RoleDeleted({ orgId: 'acme', roleId: 'r-cm' }));
    given(acme(), e.RoleDeleted({ orgId: 'acme', roleId: 'r-cm' }))
      .when(as('owner').DeleteRole({ orgId: 'acme', roleId: 'r-cm' }))
      .thenViolates('R62', /unknown role/);
  });

  it('R22: a user is refused', () => {
    given(acme())
      .when(as('user').DeleteRole({ orgId: 'acme', roleId: 'r-cm' }))
      .thenRefused('R22');
  });
});

describe('SetRoleCapability', () => {
  const grant = (capability: string) => ({ orgId: 'acme', roleId: 'r-cm', capability, granted: true });

  it('R5, R22: an identity manager grants a capability', () => {
    given(acme())
      .when(as('idm').SetRoleCapability(grant('claude_code')))
      .then(e.RoleCapabilitySet(grant('claude_code')));
  });

  it('R3, R62: a capability not in the catalog → violation; once added to the catalog it may be granted', () => {
    given(acme())
      .when(as('idm').SetRoleCapability(grant('telepathy')))
      .thenViolates('R62', /not in the catalog/);
    given(acme(), e.CapabilityAddedToCatalog({ capability: 'telepathy' }))
      .when(as('idm').SetRoleCapability(grant('telepathy')))
      .then(e.RoleCapabilitySet(grant('telepathy')));
  });

  it('R22: a member with only user_management = manage is refused', () => {
    given(acme())
      .when(as('um').SetRoleCapability(grant('chat')))
      .thenRefused('R22');
  });

  it('R62: unknown role → violation', () => {
    given(acme())
      .when(as('idm').SetRoleCapability({ ...grant('chat'), roleId: 'r-ghost' }))
      .thenViolates('R62', /unknown role/);
  });
});

describe('SetRoleAdminPermission', () => {
  const permission = { orgId: 'acme', roleId: 'r-cm', area: 'billing', level: 'manage' } as const;

  it('R20, R22: an identity manager sets an admin permission of a role', () => {
    given(acme()).when(as('idm').SetRoleAdminPermission(permission)).then(e.RoleAdminPermissionSet(permission));
  });

  it('R22: an admin (identity_access = none, R21) is refused', () => {
    given(acme()).when(as('admin').SetRoleAdminPermission(permission)).thenRefused('R22');
  });

  it('R22: a role giving identity_access = view is not enough', () => {
    given(acme(), aRole('acme', 'r-viewer', { admin: { identity_access: 'view' } }), assigned('acme', 'g-cm', 'r-viewer'))
      .when(as('cm').SetRoleAdminPermission(permission))
      .thenRefused('R22');
  });

  it("R20, R22: rights come through any of the member's roles (the maximum)", () => {
    given(acme(), aRole('acme', 'r-idm2', { admin: { identity_access: 'manage' } }), assigned('acme', 'g-cm', 'r-idm2'))
      .when(as('cm').SetRoleAdminPermission(permission))
      .then(e.RoleAdminPermissionSet(permission));
  });

  it('R22, R31: a right through a SCIM group grants nothing in an invite-only organization', () => {
    given(
      acme(),
      aGroup('g-idp', 'scim'),
      inGroup('g-idp', 'cm'),
      aRole('acme', 'r-idm2', { admin: { identity_access: 'manage' } }),
      assigned('acme', 'g-idp', 'r-idm2'),
    )
      .when(as('cm').SetRoleAdminPermission(permission))
      .thenRefused('R22');
  });
});

describe('SetRoleConnectorPermission', () => {
  const row = (connectorId: string) => ({ orgId: 'acme', roleId: 'r-cm', connectorId, level: 'needs_approval' }) as const;

  it('R12, R14: "All connectors" and an added connector may be set', () => {
    given(withJira())
      .when(as('idm').SetRoleConnectorPermission(row('*')))
      .then(e.RoleConnectorPermissionSet(row('*')));
    given(withJira())
      .when(as('idm').SetRoleConnectorPermission(row('jira')))
      .then(e.RoleConnectorPermissionSet(row('jira')));
  });

  it.each([
    ['an unknown', []],
    ['a removed', [e.ConnectorRemoved({ orgId: 'acme', connectorId: 'jira' })]],
  ])('R62: %s connector → violation', (_, events) => {
    given(withJira(), events)
      .when(as('idm').SetRoleConnectorPermission(row(events.length ? 'jira' : 'slack')))
      .thenViolates('R62', /unknown connector/);
  });

  it('R22: a user is refused', () => {
    given(withJira())
      .when(as('user').SetRoleConnectorPermission(row('*')))
      .thenRefused('R22');
  });
});

describe('SetRoleToolPermission', () => {
  const tool = (connectorId: string, toolName: string) => ({ orgId: 'acme', roleId: 'r-cm', connectorId, toolName, level: 'always_allow' }) as const;

  it('R14: a tool of an added connector', () => {
    given(withJira())
      .when(as('idm').SetRoleToolPermission(tool('jira', 'search_issues')))
      .then(e.RoleToolPermissionSet(tool('jira', 'search_issues')));
  });

  it('R62: a tool of an unknown connector → violation naming the connector', () => {
    given(withJira())
      .when(as('idm').SetRoleToolPermission(tool('slack', 'post')))
      .thenViolates('R62', /unknown connector slack/);
  });

  it('R62, R18: an unknown or removed tool → violation', () => {
    given(withJira())
      .when(as('idm').SetRoleToolPermission(tool('jira', 'delete_everything')))
      .thenViolates('R62', /unknown tool/);
    given(withJira(), e.ConnectorToolsRemoved({ orgId: 'acme', connectorId: 'jira', tools: ['create_issue'] }))
      .when(as('idm').SetRoleToolPermission(tool('jira', 'create_issue')))
      .thenViolates('R62', /unknown tool/);
  });

  it('R22: an admin is refused', () => {
    given(withJira())
      .when(as('admin').SetRoleToolPermission(tool('jira', 'search_issues')))
      .thenRefused('R22');
  });
});

describe('AssignRoleToGroup', () => {
  const assignment = (groupId: string, roleId: string) => ({ orgId: 'acme', groupId, roleId });

  it('R5, R22: an identity manager assigns a role to a group', () => {
    given(acme(), aGroup('g-x'))
      .when(as('idm').AssignRoleToGroup(assignment('g-x', 'r-cm')))
      .then(e.RoleAssignedToGroup(assignment('g-x', 'r-cm')));
  });

  it('R62 (decision): assigning a role twice → violation, not a duplicate event', () => {
    given(acme())
      .when(as('idm').AssignRoleToGroup(assignment('g-cm', 'r-cm')))
      .thenViolates('R62', /already assigned/);
  });

  it('R30, R62: a role of another organization → violation', () => {
    given(acme(), organization('globex', { primaryOwner: 'gpo' }), aRole('globex', 'r-globex'))
      .when(as('idm').AssignRoleToGroup(assignment('g-cm', 'r-globex')))
      .thenViolates('R62', /unknown role r-globex in acme/);
  });

  it('R62: an unknown group → violation', () => {
    given(acme())
      .when(as('idm').AssignRoleToGroup(assignment('g-ghost', 'r-cm')))
      .thenViolates('R62', /unknown group/);
  });

  it('R22: a member of another organization may not assign roles in acme (R30: assignments belong to one organization)', () => {
    given(acme(), organization('globex', { primaryOwner: 'gpo' }), aGroup('g-x'))
      .when(as('gpo', 'globex').AssignRoleToGroup(assignment('g-x', 'r-cm')))
      .thenRefused('R22', /own organization/);
  });
});

describe('UnassignRoleFromGroup', () => {
  const assignment = { orgId: 'acme', groupId: 'g-cm', roleId: 'r-cm' };

  it('R22: an owner unassigns; R62 (decision): unassigning an unassigned role → violation', () => {
    given(acme()).when(as('owner').UnassignRoleFromGroup(assignment)).then(e.RoleUnassignedFromGroup(assignment));
    given(acme(), e.RoleUnassignedFromGroup(assignment))
      .when(as('owner').UnassignRoleFromGroup(assignment))
      .thenViolates('R62', /not assigned/);
  });

  it('R22: a billing manager is refused', () => {
    given(acme()).when(as('bm').UnassignRoleFromGroup(assignment)).thenRefused('R22');
  });
});

describe('SetGroupRoleMapping', () => {
  const mapping = (idpGroupId: string, role: 'owner' | 'admin' | 'custom' | 'user' | null) => ({ orgId: 'acme', idpGroupId, role });

  it('R22, R32: an identity manager maps a group; with mappings off nobody is synced', () => {
    given(acme(), aGroup('idp-x', 'scim'), inGroup('idp-x', 'user'))
      .when(as('idm').SetGroupRoleMapping(mapping('idp-x', 'admin')))
      .then(e.GroupRoleMappingSet(mapping('idp-x', 'admin')));
  });

  it('R22: an admin is refused; R24: scim may not map', () => {
    given(acme(), aGroup('idp-x', 'scim'))
      .when(as('admin').SetGroupRoleMapping(mapping('idp-x', 'user')))
      .thenRefused('R22');
    given(acme(), aGroup('idp-x', 'scim'))
      .when(scim.SetGroupRoleMapping(mapping('idp-x', 'user')))
      .thenRefused('R24');
  });

  it('R22: mapping to owner, or away from owner, needs an owner', () => {
    given(acme(), aGroup('idp-x', 'scim'))
      .when(as('idm').SetGroupRoleMapping(mapping('idp-x', 'owner')))
      .thenRefused('R22', /only an owner/);
    given(acme(), aGroup('idp-x', 'scim'))
      .when(as('owner').SetGroupRoleMapping(mapping('idp-x', 'owner')))
      .then(e.GroupRoleMappingSet(mapping('idp-x', 'owner')));
    given(acme(), mappedGroups('acme', { 'idp-x': 'owner' }))
      .when(as('idm').SetGroupRoleMapping(mapping('idp-x', 'admin')))
      .thenRefused('R22');
  });

  it('R62: an unknown group → violation', () => {
    given(acme())
      .when(as('idm').SetGroupRoleMapping(mapping('idp-ghost', 'user')))
      .thenViolates('R62', /unknown group/);
  });

  it("R32: with mappings on, changing a mapping re-syncs the group's members, each change caused by the mapping event", () => {
    given(acme(), mappedGroups('acme', { 'idp-x': 'user' }), inGroup('idp-x', 'user'), inGroup('idp-x', 'cm'), roleChanged('acme', 'cm', 'user'))
      .when(as('idm').SetGroupRoleMapping(mapping('idp-x', 'admin')))
      .then(e.GroupRoleMappingSet(mapping('idp-x', 'admin')), roleChanged('acme', 'user', 'admin'), roleChanged('acme', 'cm', 'admin'));
  });

  it('R32: the primary owner in a mapped group is never touched', () => {
    given(acme(), mappedGroups('acme', { 'idp-x': 'user' }), inGroup('idp-x', 'po'), inGroup('idp-x', 'admin'))
      .when(as('po').SetGroupRoleMapping(mapping('idp-x', 'custom')))
      .then(e.GroupRoleMappingSet(mapping('idp-x', 'custom')), roleChanged('acme', 'admin', 'custom'));
  });

  it('R32 (decision): clearing the only mapping of a member keeps their role', () => {
    given(acme(), mappedGroups('acme', { 'idp-x': 'admin' }), inGroup('idp-x', 'user'), roleChanged('acme', 'user', 'admin'))
      .when(as('idm').SetGroupRoleMapping(mapping('idp-x', null)))
      .then(e.GroupRoleMappingSet(mapping('idp-x', null)));
  });
});
