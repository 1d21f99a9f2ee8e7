import { describe, it } from '@jest/globals';
import { acme, aGroup, aMember, as, inGroup, mappedGroups, organization } from './builders.js';
import { e, given, platform, scim } from './given.js';

/**
 * Tenant-level groups (R30): identity_access = manage in the actor's own organization (R22), or SCIM (R24, R33);
 * with group mappings on, membership changes sync built-in roles (R32).
 */

const deleted = (groupId: string) => e.GroupDeleted({ groupId });
const roleChanged = (orgId: string, userId: string, role: 'owner' | 'admin' | 'custom' | 'user') => e.MemberRoleChanged({ orgId, userId, role });

describe('CreateGroup', () => {
  const group = { groupId: 'g-new', name: 'New', source: 'manual' } as const;

  it.each(['idm', 'owner', 'po'])('R22: %s (identity_access = manage) creates a group', (actor) => {
    given(acme()).when(as(actor).CreateGroup(group)).then(e.GroupCreated(group));
  });

  it.each(['admin', 'user', 'um', 'bm'])('R22: %s (no identity_access = manage) is refused', (actor) => {
    given(acme())
      .when(as(actor).CreateGroup(group))
      .thenRefused('R22', /identity_access = manage/);
  });

  it('R30: groups are tenant-level: an owner of another organization of the tenant may create one', () => {
    given(acme(), organization('globex', { primaryOwner: 'gpo' }))
      .when(as('gpo', 'globex').CreateGroup(group))
      .then(e.GroupCreated(group));
  });

  it('R22: a suspended identity manager is refused', () => {
    given(acme(), e.MemberSuspended({ orgId: 'acme', userId: 'idm' }))
      .when(as('idm').CreateGroup(group))
      .thenRefused('R22', /not an active member/);
  });

  it('R24, R33: scim creates groups; the platform may not', () => {
    given(acme())
      .when(scim.CreateGroup({ ...group, source: 'scim' }))
      .then(e.GroupCreated({ ...group, source: 'scim' }));
    given(acme()).when(platform.CreateGroup(group)).thenRefused('R24');
  });

  it.each([
    ['exists', [aGroup('g-new')]],
    ['existed (deleted since)', [aGroup('g-new'), deleted('g-new')]],
  ])('R62: a group id that %s is never reused → violation', (_, events) => {
    given(acme(), events)
      .when(as('idm').CreateGroup(group))
      .thenViolates('R62', /never reused/);
  });
});

describe('RenameGroup', () => {
  it('R22: an identity manager renames a group', () => {
    given(acme())
      .when(as('idm').RenameGroup({ groupId: 'g-cm', name: 'Engineering' }))
      .then(e.GroupRenamed({ groupId: 'g-cm', name: 'Engineering' }));
  });

  it('R22: an admin is refused', () => {
    given(acme())
      .when(as('admin').RenameGroup({ groupId: 'g-cm', name: 'x' }))
      .thenRefused('R22');
  });

  it.each([
    ['an unknown', 'g-ghost', []],
    ['a deleted', 'g-cm', [deleted('g-cm')]],
  ])('R62: %s group → violation', (_, groupId, events) => {
    given(acme(), events)
      .when(as('idm').RenameGroup({ groupId, name: 'x' }))
      .thenViolates('R62', /unknown group/);
  });

  it('R24: scim renames', () => {
    given(acme())
      .when(scim.RenameGroup({ groupId: 'g-cm', name: 'x' }))
      .then(e.GroupRenamed({ groupId: 'g-cm', name: 'x' }));
  });
});

describe('DeleteGroup', () => {
  it('R22: an identity manager deletes a group', () => {
    given(acme())
      .when(as('idm').DeleteGroup({ groupId: 'g-cm' }))
      .then(e.GroupDeleted({ groupId: 'g-cm' }));
  });

  it('R22: a user is refused; R62: a deleted group is unknown', () => {
    given(acme())
      .when(as('user').DeleteGroup({ groupId: 'g-cm' }))
      .thenRefused('R22');
    given(acme(), deleted('g-cm'))
      .when(as('idm').DeleteGroup({ groupId: 'g-cm' }))
      .thenViolates('R62');
  });

  it('R32: deleting a mapped group re-syncs its members to the highest role their other mapped groups give', () => {
    given(
      acme(),
      mappedGroups('acme', { 'idp-admins': 'admin', 'idp-staff': 'custom' }),
      inGroup('idp-admins', 'user'),
      inGroup('idp-staff', 'user'),
      roleChanged('acme', 'user', 'admin'),
    )
      .when(scim.DeleteGroup({ groupId: 'idp-admins' }))
      .then(e.GroupDeleted({ groupId: 'idp-admins' }), roleChanged('acme', 'user', 'custom'));
  });
});

describe('AddUserToGroup', () => {
  it('R22: an identity manager adds a member to a group', () => {
    given(acme(), aGroup('g-x'))
      .when(as('idm').AddUserToGroup({ groupId: 'g-x', userId: 'user' }))
      .then(e.UserAddedToGroup({ groupId: 'g-x', userId: 'user' }));
  });

  it('R22: a member without identity_access = manage is refused', () => {
    given(acme(), aGroup('g-x'))
      .when(as('um').AddUserToGroup({ groupId: 'g-x', userId: 'user' }))
      .thenRefused('R22');
  });

  it('R24: scim patches membership; the platform may not', () => {
    given(acme(), aGroup('g-x'))
      .when(scim.AddUserToGroup({ groupId: 'g-x', userId: 'user' }))
      .then(e.UserAddedToGroup({ groupId: 'g-x', userId: 'user' }));
    given(acme(), aGroup('g-x'))
      .when(platform.AddUserToGroup({ groupId: 'g-x', userId: 'user' }))
      .thenRefused('R24');
  });

  it('R62: a user already in the group → violation (no duplicate membership events)', () => {
    given(acme())
      .when(as('idm').AddUserToGroup({ groupId: 'g-cm', userId: 'cm' }))
      .thenViolates('R62', /already in group/);
  });

  it.each([
    ['an unknown group', 'g-ghost', 'user', []],
    ['a deleted group', 'g-x', 'user', [aGroup('g-x'), deleted('g-x')]],
    ['a user who is a member of no organization', 'g-x', 'stranger', [aGroup('g-x')]],
    ['a user removed from every organization', 'g-x', 'user', [aGroup('g-x'), e.MemberRemoved({ orgId: 'acme', userId: 'user' })]],
  ])('R62: %s → violation', (_, groupId, userId, events) => {
    given(acme(), events)
      .when(as('idm').AddUserToGroup({ groupId, userId }))
      .thenViolates('R62', /unknown/);
  });

  it('R30: a user who is a member of another organization only may join (groups are tenant-level)', () => {
    given(acme(), organization('globex', { primaryOwner: 'gpo' }), aMember('globex', 'g-user', 'user'), aGroup('g-x'))
      .when(as('idm').AddUserToGroup({ groupId: 'g-x', userId: 'g-user' }))
      .then(e.UserAddedToGroup({ groupId: 'g-x', userId: 'g-user' }));
  });

  describe('R32 group mappings', () => {
    const join = (groupId: string, userId: string) => scim.AddUserToGroup({ groupId, userId });

    it('R32: joining a group mapped to admin makes the member an admin, as its own event caused by the sync', () => {
      given(acme(), mappedGroups('acme', { 'idp-admins': 'admin' }))
        .when(join('idp-admins', 'user'))
        .then(e.UserAddedToGroup({ groupId: 'idp-admins', userId: 'user' }), roleChanged('acme', 'user', 'admin'));
    });

    it('R32: with mappings switched off nothing else happens', () => {
      given(acme(), mappedGroups('acme', { 'idp-admins': 'admin' }), e.GroupMappingsEnabledSet({ orgId: 'acme', enabled: false }))
        .when(join('idp-admins', 'user'))
        .then(e.UserAddedToGroup({ groupId: 'idp-admins', userId: 'user' }));
    });

    it('R32: joining an unmapped group changes no role', () => {
      given(acme(), mappedGroups('acme', { 'idp-admins': 'admin' }), aGroup('g-x'))
        .when(join('g-x', 'user'))
        .then(e.UserAddedToGroup({ groupId: 'g-x', userId: 'user' }));
    });

    it('R32: the highest mapped role wins (owner > admin > custom > user): joining a lower group changes nothing', () => {
      given(acme(), mappedGroups('acme', { 'idp-admins': 'admin', 'idp-users': 'user' }), inGroup('idp-admins', 'cm'), roleChanged('acme', 'cm', 'admin'))
        .when(join('idp-users', 'cm'))
        .then(e.UserAddedToGroup({ groupId: 'idp-users', userId: 'cm' }));
    });

    it('R32: custom outranks user', () => {
      given(acme(), mappedGroups('acme', { 'idp-users': 'user', 'idp-staff': 'custom' }), inGroup('idp-users', 'user'))
        .when(join('idp-staff', 'user'))
        .then(e.UserAddedToGroup({ groupId: 'idp-staff', userId: 'user' }), roleChanged('acme', 'user', 'custom'));
    });

    it('R32: a mapping never touches the primary owner', () => {
      given(acme(), mappedGroups('acme', { 'idp-admins': 'admin' }))
        .when(join('idp-admins', 'po'))
        .then(e.UserAddedToGroup({ groupId: 'idp-admins', userId: 'po' }));
    });

    it('R32: a removed member is not touched', () => {
      given(
        acme(),
        organization('globex', { primaryOwner: 'gpo' }),
        aMember('globex', 'user', 'user'),
        mappedGroups('acme', { 'idp-admins': 'admin' }),
        e.MemberRemoved({ orgId: 'acme', userId: 'user' }),
      )
        .when(join('idp-admins', 'user'))
        .then(e.UserAddedToGroup({ groupId: 'idp-admins', userId: 'user' }));
    });

    it('R30, R32: one membership change syncs every organization that maps the group, each its own event', () => {
      given(
        acme(),
        organization('globex', { primaryOwner: 'gpo' }),
        aMember('globex', 'user', 'user'),
        mappedGroups('acme', { 'idp-admins': 'admin' }),
        e.GroupMappingsEnabledSet({ orgId: 'globex', enabled: true }),
        e.GroupRoleMappingSet({ orgId: 'globex', idpGroupId: 'idp-admins', role: 'custom' }),
      )
        .when(join('idp-admins', 'user'))
        .then(e.UserAddedToGroup({ groupId: 'idp-admins', userId: 'user' }), roleChanged('acme', 'user', 'admin'), roleChanged('globex', 'user', 'custom'));
    });

    it('R32: an organization without mappings switched on is not synced', () => {
      given(
        acme(),
        organization('globex', { primaryOwner: 'gpo' }),
        aMember('globex', 'user', 'user'),
        mappedGroups('acme', { 'idp-admins': 'admin' }),
        e.GroupRoleMappingSet({ orgId: 'globex', idpGroupId: 'idp-admins', role: 'custom' }),
      )
        .when(join('idp-admins', 'user'))
        .then(e.UserAddedToGroup({ groupId: 'idp-admins', userId: 'user' }), roleChanged('acme', 'user', 'admin'));
    });

    it('R22, R32: an identity manager who is not an owner may not make an owner through a mapped group; scim may', () => {
      given(acme(), mappedGroups('acme', { 'idp-owners': 'owner' }))
        .when(as('idm').AddUserToGroup({ groupId: 'idp-owners', userId: 'user' }))
        .thenRefused('R22', /only an owner/);
      given(acme(), mappedGroups('acme', { 'idp-owners': 'owner' }))
        .when(join('idp-owners', 'user'))
        .then(e.UserAddedToGroup({ groupId: 'idp-owners', userId: 'user' }), roleChanged('acme', 'user', 'owner'));
    });
  });
});

describe('RemoveUserFromGroup', () => {
  it('R22: an identity manager removes a member from a group', () => {
    given(acme())
      .when(as('idm').RemoveUserFromGroup({ groupId: 'g-cm', userId: 'cm' }))
      .then(e.UserRemovedFromGroup({ groupId: 'g-cm', userId: 'cm' }));
  });

  it('R22: an admin is refused; R24: scim may', () => {
    given(acme())
      .when(as('admin').RemoveUserFromGroup({ groupId: 'g-cm', userId: 'cm' }))
      .thenRefused('R22');
    given(acme())
      .when(scim.RemoveUserFromGroup({ groupId: 'g-cm', userId: 'cm' }))
      .then(e.UserRemovedFromGroup({ groupId: 'g-cm', userId: 'cm' }));
  });

  it('R62: a user not in the group → violation; an unknown group → violation', () => {
    given(acme())
      .when(as('idm').RemoveUserFromGroup({ groupId: 'g-cm', userId: 'user' }))
      .thenViolates('R62', /not in group/);
    given(acme())
      .when(as('idm').RemoveUserFromGroup({ groupId: 'g-ghost', userId: 'user' }))
      .thenViolates('R62', /unknown group/);
  });

  it('R32: leaving the admin-mapped group drops the member to the next highest mapped role', () => {
    given(
      acme(),
      mappedGroups('acme', { 'idp-admins': 'admin', 'idp-staff': 'custom' }),
      inGroup('idp-admins', 'user'),
      inGroup('idp-staff', 'user'),
      roleChanged('acme', 'user', 'admin'),
    )
      .when(scim.RemoveUserFromGroup({ groupId: 'idp-admins', userId: 'user' }))
      .then(e.UserRemovedFromGroup({ groupId: 'idp-admins', userId: 'user' }), roleChanged('acme', 'user', 'custom'));
  });

  it('R32 (decision): leaving the last mapped group keeps the role the member has', () => {
    given(acme(), mappedGroups('acme', { 'idp-admins': 'admin' }), inGroup('idp-admins', 'user'), roleChanged('acme', 'user', 'admin'))
      .when(scim.RemoveUserFromGroup({ groupId: 'idp-admins', userId: 'user' }))
      .then(e.UserRemovedFromGroup({ groupId: 'idp-admins', userId: 'user' }));
  });

  it('R22, R32: unmaking an owner through a mapped group needs an owner (or scim)', () => {
    const history = [
      acme(),
      mappedGroups('acme', { 'idp-owners': 'owner', 'idp-staff': 'custom' }),
      inGroup('idp-owners', 'user'),
      inGroup('idp-staff', 'user'),
      roleChanged('acme', 'user', 'owner'),
    ].flat();
    given(history)
      .when(as('idm').RemoveUserFromGroup({ groupId: 'idp-owners', userId: 'user' }))
      .thenRefused('R22');
    given(history)
      .when(as('owner').RemoveUserFromGroup({ groupId: 'idp-owners', userId: 'user' }))
      .then(e.UserRemovedFromGroup({ groupId: 'idp-owners', userId: 'user' }), roleChanged('acme', 'user', 'custom'));
  });
});
