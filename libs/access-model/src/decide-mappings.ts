import { lookupKey, type MemberStatus } from './fact-keys.js';
import type { FactReader } from './facts.js';
import { mappedRoleRank, type BuiltInRole, type MappableRole } from './vocabulary.js';

/**
 * R32 group mappings: when an organization has them enabled, a member covered by mappings (in at least one live
 * group mapped to a built-in role in that organization) gets the highest mapped role, owner > admin > custom > user.
 * The deciders recompute the affected members after each triggering change and emit each resulting role change as
 * its own `MemberRoleChanged`, caused by the triggering event.
 *
 * Decisions:
 *  - triggers: a user joining or leaving a mapped group, a mapped group deleted, a mapping set or cleared, mappings
 *    switched on, and a member added to an organization while already in mapped groups;
 *  - a mapping never makes or unmakes a `primary_owner` (R32), and never touches a removed member;
 *  - a member no longer covered by any mapping keeps the role they have (R32 speaks only of covered members);
 *  - switching mappings off changes nobody's role.
 */

/** The triggering change, laid over the facts read just before it. */
export interface MappingChange {
  /** UserAddedToGroup / UserRemovedFromGroup */
  readonly membership?: { readonly groupId: string; readonly userId: string; readonly inGroup: boolean };
  /** GroupDeleted */
  readonly deletedGroupId?: string;
  /** GroupRoleMappingSet */
  readonly mapping?: { readonly orgId: string; readonly groupId: string; readonly role: MappableRole | null };
  /** GroupMappingsEnabledSet(true) */
  readonly enabledOrgId?: string;
  /** MemberAdded */
  readonly added?: { readonly orgId: string; readonly userId: string; readonly role: BuiltInRole };
}

export interface MappedRoleChange {
  readonly orgId: string;
  readonly userId: string;
  readonly from: BuiltInRole;
  readonly role: MappableRole;
}

class MappingView {
  constructor(
    private readonly r: FactReader,
    private readonly change: MappingChange,
  ) {}

  enabled(orgId: string): boolean {
    return this.change.enabledOrgId === orgId || this.r.value<boolean>(lookupKey.groupMappingsEnabled(orgId)) === true;
  }

  mappingOf(orgId: string, groupId: string): MappableRole | null {
    const m = this.change.mapping;
    if (m !== undefined && m.orgId === orgId && m.groupId === groupId) return m.role;
    return this.r.value<MappableRole | null>(lookupKey.mapping(orgId, groupId)) ?? null;
  }

  groupLive(groupId: string): boolean {
    return groupId !== this.change.deletedGroupId && this.r.value(lookupKey.group(groupId)) != null;
  }

  inGroup(groupId: string, userId: string): boolean {
    const m = this.change.membership;
    if (m !== undefined && m.groupId === groupId && m.userId === userId) return m.inGroup;
    return this.r.value<boolean>(lookupKey.inGroup(groupId, userId)) === true;
  }

  /** The highest role mapped over the live groups the user is in, or undefined when no mapping covers them. */
  mappedRole(orgId: string, userId: string): MappableRole | undefined {
    let best: MappableRole | undefined;
    const consider = (groupId: string): void => {
      if (!this.inGroup(groupId, userId) || !this.groupLive(groupId)) return;
      const role = this.mappingOf(orgId, groupId);
      if (role !== null && (best === undefined || mappedRoleRank(role) > mappedRoleRank(best))) best = role;
    };
    const joining = this.change.membership?.userId === userId ? this.change.membership.groupId : undefined;
    for (const groupId of this.r.items(lookupKey.groupsOfUser(userId))) if (groupId !== joining) consider(groupId);
    if (joining !== undefined) consider(joining);
    return best;
  }

  /** The role change a sync causes for one member of one organization, if any. */
  recompute(orgId: string, userId: string): MappedRoleChange | undefined {
    if (!this.enabled(orgId)) return undefined;
    const added = this.change.added;
    const isAdded = added !== undefined && added.orgId === orgId && added.userId === userId;
    const status = isAdded ? 'active' : this.r.value<MemberStatus>(lookupKey.memberStatus(orgId, userId));
    const from = isAdded ? added.role : this.r.value<BuiltInRole>(lookupKey.memberRole(orgId, userId));
    if (status === undefined || status === 'removed' || from === undefined || from === 'primary_owner') return undefined;
    const role = this.mappedRole(orgId, userId);
    return role === undefined || role === from ? undefined : { orgId, userId, from, role };
  }

  usersIn(groupId: string): string[] {
    const users: string[] = [];
    for (const userId of this.r.items(lookupKey.usersOfGroup(groupId))) if (this.inGroup(groupId, userId)) users.push(userId);
    return users;
  }
}

/** R32: the built-in role changes a change causes, in a stable order (the order facts were first seen). */
export function mappedRoleChanges(r: FactReader, change: MappingChange): MappedRoleChange[] {
  const view = new MappingView(r, change);
  const out: MappedRoleChange[] = [];
  const push = (c: MappedRoleChange | undefined): void => {
    if (c !== undefined) out.push(c);
  };

  if (change.membership !== undefined) {
    const { groupId, userId } = change.membership;
    for (const orgId of r.items(lookupKey.userOrgs(userId))) {
      if (view.enabled(orgId) && view.mappingOf(orgId, groupId) !== null) push(view.recompute(orgId, userId));
    }
  } else if (change.deletedGroupId !== undefined) {
    const groupId = change.deletedGroupId;
    const orgs: string[] = [];
    for (const orgId of r.items(lookupKey.orgs)) if (view.enabled(orgId) && view.mappingOf(orgId, groupId) !== null) orgs.push(orgId);
    if (orgs.length === 0) return out;
    for (const userId of view.usersIn(groupId)) for (const orgId of orgs) push(view.recompute(orgId, userId));
  } else if (change.mapping !== undefined) {
    const { orgId, groupId } = change.mapping;
    if (!view.enabled(orgId)) return out;
    for (const userId of view.usersIn(groupId)) push(view.recompute(orgId, userId));
  } else if (change.enabledOrgId !== undefined) {
    const orgId = change.enabledOrgId;
    const users = new Set<string>();
    for (const groupId of r.items(lookupKey.mappings(orgId))) {
      if (view.mappingOf(orgId, groupId) === null || !view.groupLive(groupId)) continue;
      for (const userId of view.usersIn(groupId)) users.add(userId);
    }
    for (const userId of users) push(view.recompute(orgId, userId));
  } else if (change.added !== undefined) {
    push(view.recompute(change.added.orgId, change.added.userId));
  }
  return out;
}
