import { capabilityCatalog } from './evaluate.js';
import { lookupKey, type GroupFacts, type MemberStatus } from './fact-keys.js';
import { FactReader, type FactStore, type View } from './facts.js';
import { ADMIN_AREAS, ADMIN_LEVELS, TOOL_LEVELS, type BuiltInRole, type ProvisioningMode, type Seat } from './vocabulary.js';

/**
 * What there is to ask about (discovery, docs/api.md § Routes): the organizations, members, groups and catalog at an instant as known
 * at another, so that a client learns the ids it may ask for instead of guessing them.
 */

const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export interface OrganizationEntry {
  readonly orgId: string;
  readonly name: string;
  readonly dualSeat: boolean;
  readonly usageBased: boolean;
  readonly provisioningMode: ProvisioningMode | null;
  readonly createdAt: string;
}

/** The organizations that exist at the view's instant, sorted by orgId. */
export function organizationsAt(facts: FactStore, view: View): OrganizationEntry[] {
  const r = new FactReader(facts, view);
  const orgs: OrganizationEntry[] = [];
  for (const orgId of r.items(lookupKey.orgs)) {
    const org = r.get<{ name: string; dualSeat: boolean; usageBased: boolean }>(lookupKey.org(orgId));
    if (org === undefined || org.value === null) continue;
    orgs.push({
      orgId,
      name: org.value.name,
      dualSeat: org.value.dualSeat === true,
      usageBased: org.value.usageBased === true,
      provisioningMode: r.value<ProvisioningMode>(lookupKey.orgMode(orgId)) ?? null,
      createdAt: org.ev.occurredAt, // only OrganizationCreated writes it
    });
  }
  return orgs.sort((a, b) => byId(a.orgId, b.orgId));
}

export interface MemberEntry {
  readonly userId: string;
  readonly email: string | null;
  readonly role: BuiltInRole;
  readonly seat: Seat | null;
  readonly status: MemberStatus;
}

/** Every member of the organization at the view's instant (removed ones with status `removed`), sorted by userId. */
export function membersAt(facts: FactStore, view: View, orgId: string): MemberEntry[] {
  const r = new FactReader(facts, view);
  const members: MemberEntry[] = [];
  for (const userId of r.items(lookupKey.members(orgId))) {
    const role = r.value<BuiltInRole>(lookupKey.memberRole(orgId, userId));
    const status = r.value<MemberStatus>(lookupKey.memberStatus(orgId, userId));
    if (role === undefined || status === undefined) continue;
    members.push({
      userId,
      email: r.value<string>(lookupKey.memberEmail(orgId, userId)) ?? null,
      role,
      seat: r.value<Seat | null>(lookupKey.memberSeat(orgId, userId)) ?? null,
      status,
    });
  }
  return members.sort((a, b) => byId(a.userId, b.userId));
}

export interface OrganizationCatalog {
  /** Every capability of the tenant's catalog, with whether this organization has it switched on. */
  readonly capabilities: readonly { readonly capability: string; readonly enabled: boolean; readonly platformDisabled: boolean }[];
  /** The organization's connectors that exist at the instant, each with its tools (removed tools left out). */
  readonly connectors: readonly { readonly connectorId: string; readonly name: string; readonly tools: readonly string[] }[];
  readonly customRoles: readonly { readonly roleId: string; readonly name: string }[];
  readonly adminAreas: readonly string[];
  readonly adminLevels: readonly string[];
  readonly toolLevels: readonly string[];
}

/** The names an access question may use for this organization at the view's instant. */
export function catalogAt(facts: FactStore, view: View, orgId: string): OrganizationCatalog {
  const r = new FactReader(facts, view);
  const capabilities = capabilityCatalog(r)
    .sort(byId)
    .map((capability) => ({
      capability,
      enabled: r.value<boolean>(lookupKey.orgCapability(orgId, capability)) === true,
      platformDisabled: r.value<boolean>(lookupKey.platformOverride(orgId, capability)) === true,
    }));
  const connectors = [];
  for (const connectorId of [...r.items(lookupKey.connectors(orgId))].sort(byId)) {
    const connector = r.value<{ name: string } | null>(lookupKey.connector(orgId, connectorId));
    if (!connector) continue;
    const tools = [...r.items(lookupKey.tools(orgId, connectorId))].filter((t) => r.value<boolean>(lookupKey.tool(orgId, connectorId, t)) === true).sort(byId);
    connectors.push({ connectorId, name: connector.name, tools });
  }
  const customRoles = [];
  for (const roleId of [...r.items(lookupKey.roles(orgId))].sort(byId)) {
    if (r.value<boolean | null>(lookupKey.role(orgId, roleId)) !== true) continue;
    customRoles.push({ roleId, name: r.value<string>(lookupKey.roleName(orgId, roleId)) ?? roleId });
  }
  return { capabilities, connectors, customRoles, adminAreas: [...ADMIN_AREAS], adminLevels: [...ADMIN_LEVELS], toolLevels: [...TOOL_LEVELS] };
}

export interface GroupRoleEntry {
  readonly roleId: string;
  readonly name: string;
}

export interface GroupEntry {
  readonly groupId: string;
  readonly name: string;
  readonly source: GroupFacts['source'];
  /** Members of this organization (active or suspended) in the group. */
  readonly memberCount: number;
  /** The custom roles assigned to the group in this organization (R30: assignments are per organization). */
  readonly roles: readonly GroupRoleEntry[];
  /** False when those roles grant nothing here: a SCIM group in an organization that provisions by invite_only or jit (R31). */
  readonly rolesGrant: boolean;
}

export interface GroupDetail extends GroupEntry {
  /** Its members in this organization, sorted by userId. */
  readonly members: readonly MemberEntry[];
}

/** Why a group cannot be described at the view's instant: never created (as known then), not yet created, or deleted. */
export type GroupAbsence = { readonly absent: 'unknown' } | { readonly absent: 'not-yet' } | { readonly absent: 'deleted'; readonly at: string };

/**
 * The custom roles assigned to a group in an organization and still defined there, read as the evaluator reads them
 * (R5, R30); whether they grant anything (R31: not a SCIM group's where the organization does not provision by SCIM).
 */
function groupRolesIn(r: FactReader, orgId: string, groupId: string, source: GroupFacts['source']): { roles: GroupRoleEntry[]; rolesGrant: boolean } {
  const roles: GroupRoleEntry[] = [];
  for (const roleId of r.items(lookupKey.rolesOfGroup(orgId, groupId))) {
    if (r.value<boolean>(lookupKey.assigned(orgId, groupId, roleId)) !== true) continue;
    if (r.value<boolean | null>(lookupKey.role(orgId, roleId)) !== true) continue;
    roles.push({ roleId, name: r.value<string>(lookupKey.roleName(orgId, roleId)) ?? roleId });
  }
  const rolesGrant = source !== 'scim' || r.value<ProvisioningMode>(lookupKey.orgMode(orgId)) === 'scim';
  return { roles: roles.sort((a, b) => byId(a.roleId, b.roleId)), rolesGrant };
}

/** The user as a member of the organization at the reader's instant, or undefined when not one (never, not yet, removed). */
function memberHere(r: FactReader, orgId: string, userId: string): MemberEntry | undefined {
  const role = r.value<BuiltInRole>(lookupKey.memberRole(orgId, userId));
  const status = r.value<MemberStatus>(lookupKey.memberStatus(orgId, userId));
  if (role === undefined || status === undefined || status === 'removed') return undefined;
  return {
    userId,
    email: r.value<string>(lookupKey.memberEmail(orgId, userId)) ?? null,
    role,
    seat: r.value<Seat | null>(lookupKey.memberSeat(orgId, userId)) ?? null,
    status,
  };
}

const inGroupNow = (r: FactReader, groupId: string, userId: string) => r.value<boolean>(lookupKey.inGroup(groupId, userId)) === true;

/**
 * The group's users who are members of the organization, sorted by userId. Walks the smaller of the group's users and
 * the organization's members: a tenant-wide group of thousands seen from a small organization, or a small group in a
 * large one, costs the smaller side.
 */
function groupMembersIn(r: FactReader, orgId: string, groupId: string): MemberEntry[] {
  const users = [...r.items(lookupKey.usersOfGroup(groupId))];
  const members = [...r.items(lookupKey.members(orgId))];
  const found: MemberEntry[] = [];
  for (const userId of users.length <= members.length ? users : members) {
    if (!inGroupNow(r, groupId, userId)) continue;
    const m = memberHere(r, orgId, userId);
    if (m !== undefined) found.push(m);
  }
  return found.sort((a, b) => byId(a.userId, b.userId));
}

/**
 * The tenant's groups that concern the organization at the view's instant — those with a member of it or a role
 * assigned in it (groups belong to the tenant, their role assignments to one organization: R30) — sorted by groupId.
 * Deleted groups are left out. Member counts come from the organization's members and their groups, so the cost is
 * that organization's memberships plus one look per tenant group at its roles here, not every group's every user.
 */
export function groupsAt(facts: FactStore, view: View, orgId: string): GroupEntry[] {
  const r = new FactReader(facts, view);
  const counts = new Map<string, number>();
  for (const userId of r.items(lookupKey.members(orgId))) {
    const status = r.value<MemberStatus>(lookupKey.memberStatus(orgId, userId));
    if (status === undefined || status === 'removed' || r.value<BuiltInRole>(lookupKey.memberRole(orgId, userId)) === undefined) continue;
    for (const groupId of r.items(lookupKey.groupsOfUser(userId))) if (inGroupNow(r, groupId, userId)) counts.set(groupId, (counts.get(groupId) ?? 0) + 1);
  }
  const groups: GroupEntry[] = [];
  for (const groupId of r.items(lookupKey.groups)) {
    const group = r.value<GroupFacts | null>(lookupKey.group(groupId));
    if (group == null) continue;
    const memberCount = counts.get(groupId) ?? 0;
    const { roles, rolesGrant } = groupRolesIn(r, orgId, groupId, group.source);
    if (memberCount === 0 && roles.length === 0) continue;
    groups.push({ groupId, name: r.value<string>(lookupKey.groupName(groupId)) ?? groupId, source: group.source, memberCount, roles, rolesGrant });
  }
  return groups.sort((a, b) => byId(a.groupId, b.groupId));
}

/**
 * One group of the tenant as the organization sees it at the view's instant: its members there and its roles there
 * (both empty when it concerns the organization in no way), or why there is no such group then.
 */
export function groupAt(facts: FactStore, view: View, orgId: string, groupId: string): GroupDetail | GroupAbsence {
  const ever = facts.get<GroupFacts | null>(lookupKey.group(groupId), { at: Number.POSITIVE_INFINITY, knownAt: view.knownAt });
  if (ever === undefined) return { absent: 'unknown' };
  const r = new FactReader(facts, view);
  const group = r.get<GroupFacts | null>(lookupKey.group(groupId));
  if (group === undefined) return { absent: 'not-yet' };
  if (group.value === null) return { absent: 'deleted', at: group.ev.occurredAt };
  const members = groupMembersIn(r, orgId, groupId);
  return {
    groupId,
    name: r.value<string>(lookupKey.groupName(groupId)) ?? groupId,
    source: group.value.source,
    memberCount: members.length,
    ...groupRolesIn(r, orgId, groupId, group.value.source),
    members,
  };
}
