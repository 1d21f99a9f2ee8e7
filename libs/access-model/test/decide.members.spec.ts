import { describe, expect, it } from '@jest/globals';
import { lookupKey, type BuiltInRole } from '../src/index.js';
import { acme, aGroup, aMember, as, inGroup, organization } from './builders.js';
import { e, given, platform, scim, system } from './given.js';

/** Members (R22: user_management = manage; only owners make or unmake owners; R23: one primary owner). */

const newcomer = { orgId: 'acme', userId: 'new', email: 'new@acme.test' } as const;
const suspended = (userId: string) => e.MemberSuspended({ orgId: 'acme', userId });
const removed = (userId: string) => e.MemberRemoved({ orgId: 'acme', userId });

describe('AddMember', () => {
  it.each(['po', 'owner', 'admin', 'um'])('R22: %s (user_management = manage) adds a user', (actor) => {
    given(acme())
      .when(as(actor).AddMember({ ...newcomer, role: 'user' }))
      .then(e.MemberAdded({ ...newcomer, role: 'user' }));
  });

  it.each(['user', 'cm', 'idm', 'bm'])('R22: %s (no user_management = manage) is refused', (actor) => {
    given(acme())
      .when(as(actor).AddMember({ ...newcomer, role: 'user' }))
      .thenRefused('R22', /user_management = manage/);
  });

  it('scenario 14 (R22, R62): an admin tries to create an owner → refused, recorded as AccessChangeDenied, no state change', () => {
    const outcome = given(acme())
      .when(as('admin').AddMember({ ...newcomer, role: 'owner' }))
      .thenRefused('R22', /only an owner may make or unmake an owner/);
    expect(outcome.facts.history(lookupKey.memberStatus('acme', 'new'))).toHaveLength(0);
  });

  it('R22: a custom member with user_management = manage may not add an owner either', () => {
    given(acme())
      .when(as('um').AddMember({ ...newcomer, role: 'owner' }))
      .thenRefused('R22');
  });

  it('R22: an owner adds an owner', () => {
    given(acme())
      .when(as('owner').AddMember({ ...newcomer, role: 'owner' }))
      .then(e.MemberAdded({ ...newcomer, role: 'owner' }));
  });

  it.each([
    ['system', system],
    ['platform', platform],
  ])('R23: the first primary owner is added by %s', (_, actor) => {
    const founder = { orgId: 'globex', userId: 'gpo', email: 'gpo@globex.test', role: 'primary_owner' } as const;
    given(organization('globex').slice(0, 1)).when(actor.AddMember(founder)).then(e.MemberAdded(founder));
  });

  it('R24: scim may not add the first primary owner', () => {
    given(organization('globex').slice(0, 1))
      .when(scim.AddMember({ orgId: 'globex', userId: 'x', email: 'x@g.test', role: 'primary_owner' }))
      .thenRefused('R24');
  });

  it('R23: the first member must be the primary owner → violation', () => {
    given(organization('globex').slice(0, 1))
      .when(system.AddMember({ orgId: 'globex', userId: 'x', email: 'x@g.test', role: 'admin' }))
      .thenViolates('R23');
  });

  it.each([
    ['system', system],
    ['platform', platform],
  ])('R23: a second primary owner through AddMember (by %s) → violation', (_, actor) => {
    given(acme())
      .when(actor.AddMember({ ...newcomer, role: 'primary_owner' }))
      .thenViolates('R23', /TransferPrimaryOwnership/);
  });

  it('R23: the primary owner adding a second primary owner → violation (invariants before target rights)', () => {
    given(acme())
      .when(as('po').AddMember({ ...newcomer, role: 'primary_owner' }))
      .thenViolates('R23');
  });

  it('R23: a member never adds a primary owner, even to an organization without one → refused', () => {
    // An organization whose members came from an import without a primary owner.
    given(organization('acme').slice(0, 1), aMember('acme', 'owner', 'owner'))
      .when(as('owner').AddMember({ ...newcomer, role: 'primary_owner' }))
      .thenRefused('R23');
  });

  it.each(['active', 'suspended'])('R62: a user who is already an %s member → violation', (status) => {
    given(acme(), status === 'suspended' ? [suspended('user')] : [])
      .when(as('admin').AddMember({ orgId: 'acme', userId: 'user', email: 'user@acme.test', role: 'user' }))
      .thenViolates('R62', /already a member/);
  });

  it('a removed member may be added again', () => {
    const again = { orgId: 'acme', userId: 'user', email: 'user@acme.test', role: 'custom' } as const;
    given(acme(), removed('user')).when(as('admin').AddMember(again)).then(e.MemberAdded(again));
  });

  it('R62: a seat in an organization that is not dual-seat → violation', () => {
    given(acme())
      .when(as('admin').AddMember({ ...newcomer, role: 'user', seat: 'chat' }))
      .thenViolates('R62', /dual-seat/);
  });

  it('R8: a seat in a dual-seat organization', () => {
    given(acme({ dualSeat: true }))
      .when(as('admin').AddMember({ ...newcomer, role: 'user', seat: 'chat' }))
      .then(e.MemberAdded({ ...newcomer, role: 'user', seat: 'chat' }));
  });

  it('R62: an unknown organization → violation for the system', () => {
    given(acme())
      .when(system.AddMember({ ...newcomer, orgId: 'ghost', role: 'user' }))
      .thenViolates('R62', /unknown organization ghost/);
  });

  it('R22: a member of acme acting on another (even unknown) organization is refused, revealing nothing about it', () => {
    given(acme())
      .when(as('admin').AddMember({ ...newcomer, orgId: 'ghost', role: 'user' }))
      .thenRefused('R22', /only in their own organization/);
  });

  it('R22: an admin of another organization is refused in acme', () => {
    given(acme(), organization('globex'), aMember('globex', 'gadmin', 'admin'))
      .when(as('gadmin', 'globex').AddMember({ ...newcomer, role: 'user' }))
      .thenRefused('R22');
  });

  it.each([
    ['suspended', suspended('admin')],
    ['removed', removed('admin')],
  ])('R22: a %s admin is refused', (_, event) => {
    given(acme(), event)
      .when(as('admin').AddMember({ ...newcomer, role: 'user' }))
      .thenRefused('R22', /not an active member/);
  });

  it('R22: a user who was never a member is refused', () => {
    given(acme())
      .when(as('stranger').AddMember({ ...newcomer, role: 'user' }))
      .thenRefused('R22', /not an active member/);
  });

  it.each(['user', 'custom'] as const)('R24: scim provisions a %s member', (role) => {
    given(acme())
      .when(scim.AddMember({ ...newcomer, role }))
      .then(e.MemberAdded({ ...newcomer, role }));
  });

  it.each(['admin', 'owner'] as const)('R24, R32: scim may not add an %s directly (built-in roles come through mappings)', (role) => {
    given(acme())
      .when(scim.AddMember({ ...newcomer, role }))
      .thenRefused('R24');
  });

  it('R24: the platform adds only a first primary owner', () => {
    given(acme())
      .when(platform.AddMember({ ...newcomer, role: 'user' }))
      .thenRefused('R24');
  });

  it('R32: a user already in a group mapped to admin joins with the mapped role, caused by the MemberAdded', () => {
    given(
      acme(),
      e.GroupMappingsEnabledSet({ orgId: 'acme', enabled: true }),
      aGroup('idp-admins', 'scim'),
      e.GroupRoleMappingSet({ orgId: 'acme', idpGroupId: 'idp-admins', role: 'admin' }),
      inGroup('idp-admins', 'new'),
    )
      .when(scim.AddMember({ ...newcomer, role: 'user' }))
      .then(e.MemberAdded({ ...newcomer, role: 'user' }), e.MemberRoleChanged({ orgId: 'acme', userId: 'new', role: 'admin' }));
  });

  it('R22, R32: an admin adding a user whom a mapping would make an owner is refused', () => {
    given(
      acme(),
      e.GroupMappingsEnabledSet({ orgId: 'acme', enabled: true }),
      aGroup('idp-owners', 'scim'),
      e.GroupRoleMappingSet({ orgId: 'acme', idpGroupId: 'idp-owners', role: 'owner' }),
      inGroup('idp-owners', 'new'),
    )
      .when(as('admin').AddMember({ ...newcomer, role: 'user' }))
      .thenRefused('R22', /through group mappings/);
  });
});

describe('ChangeMemberRole', () => {
  const change = (userId: string, role: BuiltInRole) => ({ orgId: 'acme', userId, role });

  it('R22: an admin changes a user to custom', () => {
    given(acme())
      .when(as('admin').ChangeMemberRole(change('user', 'custom')))
      .then(e.MemberRoleChanged(change('user', 'custom')));
  });

  it('R22: a member without user_management = manage is refused', () => {
    given(acme())
      .when(as('idm').ChangeMemberRole(change('user', 'custom')))
      .thenRefused('R22');
  });

  it('scenario 14 (R22): an admin tries to make a user an owner → refused, recorded, no state change', () => {
    const outcome = given(acme())
      .when(as('admin').ChangeMemberRole(change('user', 'owner')))
      .thenRefused('R22', /only an owner/);
    expect(outcome.reader().value(lookupKey.memberRole('acme', 'user'))).toBe('user');
  });

  it('R22: an admin may not unmake an owner', () => {
    given(acme())
      .when(as('admin').ChangeMemberRole(change('owner', 'admin')))
      .thenRefused('R22', /only an owner/);
  });

  it.each([
    ['makes an admin an owner', change('admin', 'owner')],
    ['makes an owner an admin', change('owner', 'admin')],
  ])('R22: an owner %s', (_, c) => {
    given(acme()).when(as('po').ChangeMemberRole(c)).then(e.MemberRoleChanged(c));
  });

  it.each([
    ['the system', system],
    ['the primary owner', as('po')],
  ])('R23: making a member primary_owner through ChangeMemberRole (by %s) → violation', (_, actor) => {
    given(acme())
      .when(actor.ChangeMemberRole(change('owner', 'primary_owner')))
      .thenViolates('R23', /TransferPrimaryOwnership/);
  });

  it("R23: nobody changes the primary owner's role, not even the system", () => {
    given(acme())
      .when(system.ChangeMemberRole(change('po', 'owner')))
      .thenViolates('R23');
  });

  it.each([
    ['an unknown', []],
    ['a removed', [removed('user')]],
  ])('R62: %s member → violation', (_, events) => {
    given(acme(), events)
      .when(as('admin').ChangeMemberRole(change(events.length ? 'user' : 'nobody', 'custom')))
      .thenViolates('R62', /unknown member/);
  });

  it('R24, R32: scim never changes a built-in role directly (mappings do)', () => {
    given(acme())
      .when(scim.ChangeMemberRole(change('user', 'custom')))
      .thenRefused('R24');
  });

  it("a suspended member's role may change", () => {
    given(acme(), suspended('user'))
      .when(as('admin').ChangeMemberRole(change('user', 'custom')))
      .then(e.MemberRoleChanged(change('user', 'custom')));
  });
});

describe('ChangeMemberSeat', () => {
  const seat = { orgId: 'acme', userId: 'user', seat: 'chat' } as const;

  it('R22, R8: an admin changes a seat in a dual-seat organization', () => {
    given(acme({ dualSeat: true }))
      .when(as('admin').ChangeMemberSeat(seat))
      .then(e.MemberSeatChanged(seat));
  });

  it('R62: seat change in an organization that is not dual-seat → violation', () => {
    given(acme())
      .when(as('admin').ChangeMemberSeat(seat))
      .thenViolates('R62', /dual-seat/);
  });

  it('R22: a user may not change seats', () => {
    given(acme({ dualSeat: true }))
      .when(as('user').ChangeMemberSeat(seat))
      .thenRefused('R22');
  });

  it('R62: unknown member → violation', () => {
    given(acme({ dualSeat: true }))
      .when(as('admin').ChangeMemberSeat({ ...seat, userId: 'nobody' }))
      .thenViolates('R62');
  });

  it('R24: scim may not change seats', () => {
    given(acme({ dualSeat: true }))
      .when(scim.ChangeMemberSeat(seat))
      .thenRefused('R24');
  });
});

describe('SuspendMember', () => {
  const target = (userId: string) => ({ orgId: 'acme', userId });

  it('R22: an admin suspends a user', () => {
    given(acme())
      .when(as('admin').SuspendMember(target('user')))
      .then(e.MemberSuspended(target('user')));
  });

  it('R22: an admin may not suspend an owner; an owner may', () => {
    given(acme())
      .when(as('admin').SuspendMember(target('owner')))
      .thenRefused('R22', /only an owner/);
    given(acme())
      .when(as('po').SuspendMember(target('owner')))
      .then(e.MemberSuspended(target('owner')));
  });

  it.each([
    ['an owner', as('owner')],
    ['the system', system],
    ['scim', scim],
  ])('R23: nobody suspends the primary owner (%s) → violation', (_, actor) => {
    given(acme())
      .when(actor.SuspendMember(target('po')))
      .thenViolates('R23');
  });

  it('R62: an already suspended member → violation', () => {
    given(acme(), suspended('user'))
      .when(as('admin').SuspendMember(target('user')))
      .thenViolates('R62', /already suspended/);
  });

  it('R24, R33: scim suspends (deactivates) a member', () => {
    given(acme())
      .when(scim.SuspendMember(target('cm')))
      .then(e.MemberSuspended(target('cm')));
  });

  it('R22: a suspended actor may not act', () => {
    given(acme(), suspended('admin'))
      .when(as('admin').SuspendMember(target('user')))
      .thenRefused('R22');
  });
});

describe('ReactivateMember', () => {
  const target = (userId: string) => ({ orgId: 'acme', userId });

  it('R22: an admin reactivates a suspended user', () => {
    given(acme(), suspended('user'))
      .when(as('admin').ReactivateMember(target('user')))
      .then(e.MemberReactivated(target('user')));
  });

  it('R62: an active member is not suspended → violation', () => {
    given(acme())
      .when(as('admin').ReactivateMember(target('user')))
      .thenViolates('R62', /not suspended/);
  });

  it("R22: reactivating an owner gives back an owner's powers: owners only", () => {
    given(acme(), suspended('owner'))
      .when(as('admin').ReactivateMember(target('owner')))
      .thenRefused('R22');
    given(acme(), suspended('owner'))
      .when(as('po').ReactivateMember(target('owner')))
      .then(e.MemberReactivated(target('owner')));
  });

  it('R24: scim reactivates', () => {
    given(acme(), suspended('cm'))
      .when(scim.ReactivateMember(target('cm')))
      .then(e.MemberReactivated(target('cm')));
  });

  it('R62: a removed member cannot be reactivated (unknown member)', () => {
    given(acme(), removed('user'))
      .when(as('admin').ReactivateMember(target('user')))
      .thenViolates('R62', /unknown member/);
  });
});

describe('RemoveMember', () => {
  const target = (userId: string) => ({ orgId: 'acme', userId });

  it('R22: an admin removes a user; afterwards the user is unknown (R62)', () => {
    given(acme())
      .when(as('admin').RemoveMember(target('user')))
      .then(e.MemberRemoved(target('user')));
    given(acme(), removed('user'))
      .when(as('admin').RemoveMember(target('user')))
      .thenViolates('R62', /unknown member/);
  });

  it('R22: an admin may not remove an owner; an owner may', () => {
    given(acme())
      .when(as('admin').RemoveMember(target('owner')))
      .thenRefused('R22');
    given(acme())
      .when(as('owner').RemoveMember(target('owner')))
      .then(e.MemberRemoved(target('owner')));
  });

  it.each([
    ['the primary owner', as('po')],
    ['an owner', as('owner')],
    ['the system', system],
  ])('R23, R62: removing the primary owner (by %s) → violation', (_, actor) => {
    given(acme())
      .when(actor.RemoveMember(target('po')))
      .thenViolates('R23', /primary owner/);
  });

  it('R24: scim removes a member; the platform may not', () => {
    given(acme())
      .when(scim.RemoveMember(target('cm')))
      .then(e.MemberRemoved(target('cm')));
    given(acme())
      .when(platform.RemoveMember(target('cm')))
      .thenRefused('R24');
  });

  it('R22, R62: a member of another organization probing an unknown member of acme is refused, not told it is unknown', () => {
    given(acme(), organization('globex'), aMember('globex', 'gadmin', 'admin'))
      .when(as('gadmin', 'globex').RemoveMember(target('nobody')))
      .thenRefused('R22');
  });
});

describe('TransferPrimaryOwnership', () => {
  it('R23: the primary owner hands over to an owner; the data names the previous one, who becomes an owner', () => {
    const outcome = given(acme())
      .when(as('po').TransferPrimaryOwnership({ orgId: 'acme', toUserId: 'owner' }))
      .then(e.PrimaryOwnershipTransferred({ orgId: 'acme', toUserId: 'owner', fromUserId: 'po' }));
    const r = outcome.reader();
    expect(r.value(lookupKey.memberRole('acme', 'po'))).toBe('owner');
    expect(r.value(lookupKey.memberRole('acme', 'owner'))).toBe('primary_owner');
    expect(r.value(lookupKey.primaryOwner('acme'))).toBe('owner');
  });

  it('R22: an owner who is not the primary owner is refused', () => {
    given(acme())
      .when(as('owner').TransferPrimaryOwnership({ orgId: 'acme', toUserId: 'admin' }))
      .thenRefused('R22', /only the primary owner/);
  });

  it('R24: the system may; scim and the platform may not', () => {
    given(acme())
      .when(system.TransferPrimaryOwnership({ orgId: 'acme', toUserId: 'admin' }))
      .then(e.PrimaryOwnershipTransferred({ orgId: 'acme', toUserId: 'admin', fromUserId: 'po' }));
    given(acme())
      .when(scim.TransferPrimaryOwnership({ orgId: 'acme', toUserId: 'admin' }))
      .thenRefused('R24');
    given(acme())
      .when(platform.TransferPrimaryOwnership({ orgId: 'acme', toUserId: 'admin' }))
      .thenRefused('R24');
  });

  it.each([
    ['a non-member', [], 'nobody', /not an active member|unknown member/],
    ['a suspended member', [suspended('owner')], 'owner', /not an active member/],
    ['a removed member', [removed('owner')], 'owner', /unknown member/],
    ['the primary owner themself', [], 'po', /already the primary owner/],
  ] as const)('R62: transferring to %s → violation', (_, events, toUserId, reason) => {
    given(acme(), events)
      .when(as('po').TransferPrimaryOwnership({ orgId: 'acme', toUserId }))
      .thenViolates('R62', reason);
  });

  it('R23: an organization without a primary owner has nothing to transfer → violation', () => {
    given(organization('acme').slice(0, 1), aMember('acme', 'owner', 'owner'))
      .when(system.TransferPrimaryOwnership({ orgId: 'acme', toUserId: 'owner' }))
      .thenViolates('R23');
  });

  it('after a transfer the new primary owner may transfer, the previous one may not', () => {
    const handover = e.PrimaryOwnershipTransferred({ orgId: 'acme', toUserId: 'owner', fromUserId: 'po' });
    given(acme(), handover)
      .when(as('po').TransferPrimaryOwnership({ orgId: 'acme', toUserId: 'admin' }))
      .thenRefused('R22');
    given(acme(), handover)
      .when(as('owner').TransferPrimaryOwnership({ orgId: 'acme', toUserId: 'po' }))
      .then(e.PrimaryOwnershipTransferred({ orgId: 'acme', toUserId: 'po', fromUserId: 'owner' }));
  });
});
