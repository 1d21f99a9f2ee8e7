import { describe, it } from '@jest/globals';
import { acme, aGroup, as, inGroup, mappedGroups, organization } from './builders.js';
import { e, given, platform, scim, system } from './given.js';

/** Organizations and their settings (R1–R3, R22–R24, R32, R42). */

const roleChanged = (orgId: string, userId: string, role: 'owner' | 'admin' | 'custom' | 'user') => e.MemberRoleChanged({ orgId, userId, role });

describe('CreateOrganization', () => {
  const globex = { orgId: 'globex', name: 'Globex', dualSeat: true, provisioningMode: 'scim', usageBased: true } as const;

  it('R23, R24: the system creates an organization (with no members)', () => {
    given().when(system.CreateOrganization(globex)).then(e.OrganizationCreated(globex));
  });

  it.each([
    ['an owner of another organization', as('po')],
    ['scim', scim],
    ['the platform', platform],
  ])('R24: %s may not create organizations', (_, actor) => {
    given(acme()).when(actor.CreateOrganization(globex)).thenRefused('R24');
  });

  it('R62: an organization id is never reused → violation', () => {
    given(acme())
      .when(system.CreateOrganization({ ...globex, orgId: 'acme' }))
      .thenViolates('R62', /never reused/);
  });

  it('R62: ids are never reused, even by a command back-dated before the first creation', () => {
    given(acme())
      .when(system.CreateOrganization({ ...globex, orgId: 'acme' }), Date.parse('2020-01-01T00:00:00.000Z'))
      .thenViolates('R62');
  });
});

describe('SetOrganizationCapability', () => {
  const toggle = (capability: string, enabled = false) => ({ orgId: 'acme', capability, enabled });

  it.each(['po', 'owner'])('R2, R22: %s switches a capability', (actor) => {
    given(acme())
      .when(as(actor).SetOrganizationCapability(toggle('cowork')))
      .then(e.OrganizationCapabilitySet(toggle('cowork')));
  });

  it.each(['admin', 'idm', 'um', 'bm', 'user'])('R22: %s (not an owner) is refused', (actor) => {
    given(acme())
      .when(as(actor).SetOrganizationCapability(toggle('cowork')))
      .thenRefused('R22', /only owners/);
  });

  it('R3, R62: a capability not in the catalog → violation; after AddCapabilityToCatalog it may be switched on', () => {
    given(acme())
      .when(as('owner').SetOrganizationCapability(toggle('voice', true)))
      .thenViolates('R62', /not in the catalog/);
    given(acme(), e.CapabilityAddedToCatalog({ capability: 'voice' }))
      .when(as('owner').SetOrganizationCapability(toggle('voice', true)))
      .then(e.OrganizationCapabilitySet(toggle('voice', true)));
  });

  it('R24: the platform switches nothing but overrides', () => {
    given(acme())
      .when(platform.SetOrganizationCapability(toggle('cowork')))
      .thenRefused('R24');
  });
});

describe('SetPlatformOverride', () => {
  const override = { orgId: 'acme', capability: 'research', disabled: true };

  it('R1, R24: the platform (or the system) disables a capability at contract level', () => {
    given(acme()).when(platform.SetPlatformOverride(override)).then(e.PlatformOverrideSet(override));
    given(acme()).when(system.SetPlatformOverride(override)).then(e.PlatformOverrideSet(override));
  });

  it('R1, R24: no member, the primary owner included, sets platform overrides; nor does scim', () => {
    given(acme())
      .when(as('po').SetPlatformOverride(override))
      .thenRefused('R24', /only the platform/);
    given(acme()).when(scim.SetPlatformOverride(override)).thenRefused('R24');
  });

  it('R62: unknown organization or capability → violation', () => {
    given(acme())
      .when(platform.SetPlatformOverride({ ...override, orgId: 'ghost' }))
      .thenViolates('R62', /unknown organization/);
    given(acme())
      .when(platform.SetPlatformOverride({ ...override, capability: 'voice' }))
      .thenViolates('R62', /not in the catalog/);
  });
});

describe('AddCapabilityToCatalog', () => {
  it('R3, R24: the platform adds a capability to the catalog', () => {
    given(acme())
      .when(platform.AddCapabilityToCatalog({ capability: 'voice' }))
      .then(e.CapabilityAddedToCatalog({ capability: 'voice' }));
  });

  it('R62: a capability already in the catalog (shipped or added) → violation', () => {
    given(acme())
      .when(platform.AddCapabilityToCatalog({ capability: 'chat' }))
      .thenViolates('R62', /already in the catalog/);
    given(acme(), e.CapabilityAddedToCatalog({ capability: 'voice' }))
      .when(system.AddCapabilityToCatalog({ capability: 'voice' }))
      .thenViolates('R62');
  });

  it('R24: members and scim may not extend the catalog', () => {
    given(acme())
      .when(as('po').AddCapabilityToCatalog({ capability: 'voice' }))
      .thenRefused('R24');
    given(acme())
      .when(scim.AddCapabilityToCatalog({ capability: 'voice' }))
      .thenRefused('R24');
  });
});

describe('SetProvisioningMode', () => {
  it.each(['owner', 'idm'])('R22: %s (identity_access = manage) changes SSO/SCIM settings', (actor) => {
    given(acme())
      .when(as(actor).SetProvisioningMode({ orgId: 'acme', mode: 'scim' }))
      .then(e.ProvisioningModeSet({ orgId: 'acme', mode: 'scim' }));
  });

  it.each(['admin', 'um'])('R22: %s is refused', (actor) => {
    given(acme())
      .when(as(actor).SetProvisioningMode({ orgId: 'acme', mode: 'scim' }))
      .thenRefused('R22', /identity_access/);
  });

  it('R24: scim may not change the provisioning mode', () => {
    given(acme())
      .when(scim.SetProvisioningMode({ orgId: 'acme', mode: 'jit' }))
      .thenRefused('R24');
  });
});

describe('SetGroupMappingsEnabled', () => {
  it('R22: an identity manager switches mappings on; R32: members of mapped groups are synced, each caused by it', () => {
    const mappedButOff = [
      aGroup('idp-admins', 'scim'),
      e.GroupRoleMappingSet({ orgId: 'acme', idpGroupId: 'idp-admins', role: 'admin' }),
      inGroup('idp-admins', 'user'),
      inGroup('idp-admins', 'cm'),
      inGroup('idp-admins', 'admin'),
    ];
    given(acme(), mappedButOff)
      .when(as('idm').SetGroupMappingsEnabled({ orgId: 'acme', enabled: true }))
      .then(e.GroupMappingsEnabledSet({ orgId: 'acme', enabled: true }), roleChanged('acme', 'user', 'admin'), roleChanged('acme', 'cm', 'admin'));
  });

  it('R32: a deleted mapped group, or a user who left it, does not count', () => {
    given(
      acme(),
      aGroup('idp-admins', 'scim'),
      e.GroupRoleMappingSet({ orgId: 'acme', idpGroupId: 'idp-admins', role: 'admin' }),
      inGroup('idp-admins', 'user'),
      e.UserRemovedFromGroup({ groupId: 'idp-admins', userId: 'user' }),
      aGroup('idp-old', 'scim'),
      e.GroupRoleMappingSet({ orgId: 'acme', idpGroupId: 'idp-old', role: 'admin' }),
      inGroup('idp-old', 'cm'),
      e.GroupDeleted({ groupId: 'idp-old' }),
    )
      .when(as('idm').SetGroupMappingsEnabled({ orgId: 'acme', enabled: true }))
      .then(e.GroupMappingsEnabledSet({ orgId: 'acme', enabled: true }));
  });

  it("R32 (decision): switching mappings off changes nobody's role", () => {
    given(acme(), mappedGroups('acme', { 'idp-admins': 'admin' }), inGroup('idp-admins', 'user'), roleChanged('acme', 'user', 'admin'))
      .when(as('idm').SetGroupMappingsEnabled({ orgId: 'acme', enabled: false }))
      .then(e.GroupMappingsEnabledSet({ orgId: 'acme', enabled: false }));
  });

  it('R22, R32: switching on mappings that would make an owner needs an owner', () => {
    const ownersMappedButOff = [
      aGroup('idp-owners', 'scim'),
      e.GroupRoleMappingSet({ orgId: 'acme', idpGroupId: 'idp-owners', role: 'owner' }),
      inGroup('idp-owners', 'user'),
    ];
    given(acme(), ownersMappedButOff)
      .when(as('idm').SetGroupMappingsEnabled({ orgId: 'acme', enabled: true }))
      .thenRefused('R22', /through group mappings/);
    given(acme(), ownersMappedButOff)
      .when(as('po').SetGroupMappingsEnabled({ orgId: 'acme', enabled: true }))
      .then(e.GroupMappingsEnabledSet({ orgId: 'acme', enabled: true }), roleChanged('acme', 'user', 'owner'));
  });

  it('R22: an admin is refused; R24: scim too', () => {
    given(acme())
      .when(as('admin').SetGroupMappingsEnabled({ orgId: 'acme', enabled: true }))
      .thenRefused('R22');
    given(acme())
      .when(scim.SetGroupMappingsEnabled({ orgId: 'acme', enabled: true }))
      .thenRefused('R24');
  });

  it('R62: unknown organization (system) → violation', () => {
    given(acme())
      .when(system.SetGroupMappingsEnabled({ orgId: 'ghost', enabled: true }))
      .thenViolates('R62');
  });
});

describe('SetSpendingPrecedence', () => {
  it('R42, R22: a billing manager sets the precedence', () => {
    given(acme())
      .when(as('bm').SetSpendingPrecedence({ orgId: 'acme', precedence: 'highest' }))
      .then(e.SpendingPrecedenceSet({ orgId: 'acme', precedence: 'highest' }));
  });

  it.each(['admin', 'idm', 'um'])('R22: %s (no billing = manage) is refused', (actor) => {
    given(acme())
      .when(as(actor).SetSpendingPrecedence({ orgId: 'acme', precedence: 'highest' }))
      .thenRefused('R22', /billing = manage/);
  });
});

describe('every command, any actor', () => {
  it("R22: an actor of another tenant organization acting on acme's settings is refused", () => {
    given(acme(), organization('globex', { primaryOwner: 'gpo' }))
      .when(as('gpo', 'globex').SetSpendingPrecedence({ orgId: 'acme', precedence: 'lowest' }))
      .thenRefused('R22', /own organization/);
  });

  it('R60: rights are read at the instant the command takes effect (a back-dated command by a later owner is refused)', () => {
    const t = Date.parse('2026-06-01T00:00:00.000Z');
    given(acme(), { ...e.MemberRoleChanged({ orgId: 'acme', userId: 'admin', role: 'owner' }), at: t })
      .when(as('admin').SetOrganizationCapability({ orgId: 'acme', capability: 'cowork', enabled: false }), t - 1)
      .thenRefused('R22');
    given(acme(), { ...e.MemberRoleChanged({ orgId: 'acme', userId: 'admin', role: 'owner' }), at: t })
      .when(as('admin').SetOrganizationCapability({ orgId: 'acme', capability: 'cowork', enabled: false }), t)
      .then(e.OrganizationCapabilitySet({ orgId: 'acme', capability: 'cowork', enabled: false }));
  });
});
