import {
  ADMIN_AREAS,
  FactReader,
  lookupKey,
  NOW,
  adminLevelOf,
  availability,
  capabilityCatalog,
  capabilityOf,
  consoleAccessOf,
  groupCountsIn,
  isFullMember,
  memberCore,
  memberSpendLimitOf,
  orgToolLevel,
  permissionsOf,
  rolePaths,
  toolLevelOf,
  type AdminArea,
  type EventRef,
  type FactKey,
  type Link,
  type FactStore,
  type LedgerEvent,
  type MemberAccess,
  type MemberCore,
  type RolePaths,
  type View,
} from '@access-ledger/access-model';
import {
  ACCESS_PROFILES,
  ORG_CAPABILITIES_PERMISSION,
  ORG_CAPABILITIES_USER,
  ORG_CHAT_SEAT_CAPABILITIES_PERMISSION,
  ORG_CHAT_SEAT_CAPABILITIES_USER,
  ORG_SPEND_PERMISSION,
  ORG_SPEND_USER,
  ORG_TOOLS_PERMISSION,
  ORG_TOOLS_USER,
  ROLE_SET_PERMISSION,
  ROLE_SET_USER_PREFIX,
  isProfileUser,
  roleSetOf,
  roleSetUser,
  type AccessIntervalChange,
  type IntervalRewrite,
  type PermissionScope,
} from '@access-ledger/read-model';

/**
 * What the evaluator says, as the rows of `access_intervals` (docs/access-intervals.md): for every event, the
 * members it can affect are evaluated just before and just after it, and the differences become open/close changes
 * caused by that event. Pure: facts in, changes out; no I/O.
 */

/**
 * A member's permissions under the names the read-model reports match (privileged access looks for `role:owner`,
 * `console:admin`; SoD pairs for `admin:billing=manage`): `role:<builtInRole>` and `console:<role>` carry the role
 * as their level, every other permission of `permissionsOf` keeps its name and level. A member who is not active
 * holds nothing (their `status` is not a permission).
 */
export function intervalPermissionsOf(access: MemberAccess | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (access === undefined) return out;
  for (const [permission, level] of permissionsOf(access)) {
    if (permission === 'status') continue;
    if (permission === 'role') out.set(`role:${level}`, level);
    else if (permission === 'console') out.set(`console:${level}`, level);
    else out.set(permission, level);
  }
  return out;
}

export type MemberKey = readonly [orgId: string, userId: string];

const str = (data: unknown, field: string): string | undefined => {
  const v = (data as Record<string, unknown>)[field];
  return typeof v === 'string' ? v : undefined;
};

/**
 * Which permissions an event can change: all of a member's, or one family (`capability:C`, the tools of a connector
 * or of every connector, `admin:A`, `spend`, the Console ones). Evaluating only that family for an organization-wide
 * toggle is what keeps a change to an organization of thousands cheap.
 */
export type Family =
  | { readonly kind: 'all' }
  /** What groups change: everything for a custom member (R5, R30), only the spend limit for the others (R4, R42). */
  | { readonly kind: 'groups' }
  | { readonly kind: 'capability'; readonly capability: string }
  | { readonly kind: 'tools'; readonly connectorId: string | undefined }
  | { readonly kind: 'admin'; readonly area: AdminArea }
  | { readonly kind: 'spend' }
  | { readonly kind: 'console' };

export interface Impact {
  readonly members: MemberKey[];
  readonly family: Family;
}

const ALL: Family = { kind: 'all' };
const ALL_TOOLS: Family = { kind: 'tools', connectorId: undefined };

/**
 * The sets of roles of one tenant whose tool profile the table holds (`*role-set:<set>`, docs/access-intervals.md §
 * Access profiles), by organization: every set a custom member of an organization with connector permissions
 * enabled (ever) held. Known sets are evaluated like the other profiles by whatever can change their tools; a set
 * seen for the first time gets its whole history written once (`roleSetHistoryOf`).
 */
export class RoleSets {
  private readonly byOrg = new Map<string, Set<string>>();
  /** By organization and role: the known sets holding the role (a role's grant reaches those sets only). */
  private readonly byRole = new Map<string, string[]>();

  constructor(known?: ReadonlyMap<string, ReadonlySet<string>>) {
    for (const [orgId, sets] of known ?? []) for (const set of sets) this.add(orgId, set);
  }

  all(): ReadonlyMap<string, ReadonlySet<string>> {
    return this.byOrg;
  }

  of(orgId: string): Iterable<string> {
    return this.byOrg.get(orgId) ?? [];
  }

  withRole(orgId: string, roleId: string): readonly string[] {
    return this.byRole.get(`${orgId}\u0000${roleId}`) ?? [];
  }

  /** Adds the set; true if it was not known. */
  add(orgId: string, set: string): boolean {
    let sets = this.byOrg.get(orgId);
    if (sets === undefined) this.byOrg.set(orgId, (sets = new Set()));
    if (sets.has(set)) return false;
    sets.add(set);
    for (const roleId of set.split(',')) {
      const key = `${orgId}\u0000${roleId}`;
      const withRole = this.byRole.get(key);
      if (withRole === undefined) this.byRole.set(key, [set]);
      else withRole.push(set);
    }
    return true;
  }

  /** The sets that changes open and that were not known, now known. */
  note(changes: readonly AccessIntervalChange[]): [orgId: string, set: string][] {
    const fresh: [string, string][] = [];
    for (const c of changes) if (c.permission === ROLE_SET_PERMISSION && c.kind === 'open' && this.add(c.orgId, c.level)) fresh.push([c.orgId, c.level]);
    return fresh;
  }
}

const NO_ROLE_SETS = new RoleSets();

/**
 * The members whose permissions an event can change, and which of them, from its type and data (what evolve.ts
 * writes and what the evaluator reads): a member event → that member; group membership → that user in every
 * organization; a role or an assignment → the members of the groups holding that role there; organization
 * settings, connectors, tools, policies, workspaces → every member of the organization (one family); the catalog
 * → everyone; a type not listed here → everyone, everything (correctness first).
 * Sets are read as of now, so the members are a superset of those concerned at the event's instant.
 *
 * `atEvent`, readers just before and just after the event at its own instant, is for the event evaluated there alone
 * (`changesOfEvent`), not for a late event's rewrite, which must reach every instant from the event on. Three kinds of
 * event then name fewer, read at that instant (the event changes none of what is read; docs/access-intervals.md ³):
 * a role's event only the users of the groups the role is assigned to; a join or a leave only the organizations where
 * the group gives a role or its limit; a ceiling only the members whose own or group limit it caps differently.
 */
export function impactOf(
  facts: FactStore,
  event: Pick<LedgerEvent, 'type' | 'data'>,
  sets: RoleSets = NO_ROLE_SETS,
  since?: number,
  atEvent?: { readonly before: FactReader; readonly after: FactReader },
): Impact {
  const d = event.data;
  /**
   * Sets with a membership fact (a group's users, the limited members and groups) without the items that left them
   * for good before `since`, the event's instant: the event cannot reach those (neither at its instant nor, for a
   * late event's rewrite, later). Without `since`, every item ever added.
   */
  const current = (key: FactKey): Iterable<string> => (since === undefined ? facts.items(key, NOW) : facts.liveItems(key, NOW, since));
  const orgId = str(d, 'orgId');
  // By organization, then user: no key string built per member (thousands per organization-wide event).
  const out = new Map<string, Set<string>>();
  const add = (o: string, u: string) => {
    let users = out.get(o);
    if (users === undefined) out.set(o, (users = new Set()));
    users.add(u);
  };
  // The organization's profiles (docs/access-intervals.md § Access profiles): whatever an organization-wide event
  // can change, they are evaluated with the members.
  const orgProfiles = (o: string) => {
    for (const profile of ACCESS_PROFILES) add(o, profile.user);
  };
  /** The organization's role-set profiles: their tools follow its connectors, tools and policy, and their roles. */
  const roleSetProfiles = (o: string) => {
    for (const set of sets.of(o)) add(o, roleSetUser(set));
  };
  const setsWithRole = (o: string, roleId: string) => {
    for (const set of sets.withRole(o, roleId)) add(o, roleSetUser(set));
  };
  const orgMembers = (o: string) => {
    for (const u of facts.items(lookupKey.members(o), NOW)) add(o, u);
    orgProfiles(o);
    roleSetProfiles(o);
  };
  const everyone = () => {
    for (const o of facts.items(lookupKey.orgs, NOW)) orgMembers(o);
  };
  /**
   * A group reaches a member of an organization only through the roles it (ever) held there (R5, R30) and the limit
   * it (ever) had there (R42): a change of a group's members, or of a group without either there, changes nothing
   * there. Memoized: a group change visits every user of the group.
   */
  const reaches = new Map<string, boolean>();
  const groupReaches = (o: string, g: string) => {
    const key = `${o}\u0000${g}`;
    let r = reaches.get(key);
    if (r === undefined) {
      r = facts.anyInSet(lookupKey.rolesOfGroup(o, g), NOW) || facts.inSet(lookupKey.limitedGroups(o), g, NOW);
      reaches.set(key, r);
    }
    return r;
  };
  const userEverywhere = (u: string, g: string) => {
    for (const o of facts.items(lookupKey.userOrgs(u), NOW)) if (groupReaches(o, g)) add(o, u);
  };
  // Groups are the tenant's (R30): in one organization, only their users who are (ever) members there.
  const groupUsers = (g: string, o: string | undefined) => {
    if (o === undefined) {
      for (const u of current(lookupKey.usersOfGroup(g))) userEverywhere(u, g);
      return;
    }
    const member = facts.everAdded(lookupKey.members(o));
    for (const u of current(lookupKey.usersOfGroup(g))) if (member(u)) add(o, u);
  };
  const roleHolders = (o: string, roleId: string) => {
    for (const g of facts.items(lookupKey.groups, NOW)) {
      for (const r of facts.items(lookupKey.rolesOfGroup(o, g), NOW)) {
        if (r !== roleId) continue;
        // R5, R30: a role reaches a member only through a group it is assigned to.
        if (atEvent === undefined || atEvent.after.value<boolean>(lookupKey.assigned(o, g, roleId)) === true) groupUsers(g, o);
      }
    }
  };
  /**
   * An organization's availability of C changes only what a custom member holds through a role that (ever) granted
   * C (R5): the users of the groups (ever) holding such a role. Full members follow the capability profile (R4).
   */
  const grantHolders = (o: string, capability: string) => {
    const grants = new Map<string, boolean>();
    for (const g of facts.items(lookupKey.groups, NOW)) {
      for (const r of facts.items(lookupKey.rolesOfGroup(o, g), NOW)) {
        let grant = grants.get(r);
        if (grant === undefined) grants.set(r, (grant = facts.written(lookupKey.roleCapability(o, r, capability))));
        if (grant) {
          groupUsers(g, o);
          break;
        }
      }
    }
  };
  /**
   * A ceiling (R43) or the precedence of group limits (R42) changes only members with a limit of their own or of a
   * group; the others follow the spend profile (its ceiling).
   */
  const limitHolders = (o: string) => {
    for (const u of current(lookupKey.limitedMembers(o))) add(o, u);
    for (const g of current(lookupKey.limitedGroups(o))) groupUsers(g, o);
  };
  /**
   * R43 at the event's instant: a ceiling going from c0 to c1 changes a member's spend row only if their own limit
   * (R41, R42) is above the lower of the two — a member without one follows the spend profile, whose row is the
   * ceiling. So: the profiles, the members with an individual limit above it, the users of the groups with a limit
   * above it (a member's own limit is one of their groups' when they have no individual one); nobody when c0 = c1.
   * On the benchmark history the ceilings were the producer's costliest events, nearly all of it spent on members
   * whose row they could not change.
   */
  const ceilingHolders = (o: string, before: FactReader, after: FactReader) => {
    const was = before.value<number | null>(lookupKey.spendCeiling(o)) ?? null;
    const is = after.value<number | null>(lookupKey.spendCeiling(o)) ?? null;
    if (was === is) return;
    const floor = was === null ? is! : is === null ? was : Math.min(was, is);
    orgProfiles(o);
    for (const u of current(lookupKey.limitedMembers(o))) {
      const own = after.value<number | null>(lookupKey.memberLimit(o, u));
      if (own != null && own > floor) add(o, u);
    }
    for (const g of current(lookupKey.limitedGroups(o))) {
      const limit = after.value<number | null>(lookupKey.groupLimit(o, g));
      if (limit != null && limit > floor) groupUsers(g, o);
    }
  };
  const connectorId = str(d, 'connectorId');
  const tools: Family = { kind: 'tools', connectorId: connectorId === '*' ? undefined : connectorId };
  let family: Family = ALL;
  switch (event.type) {
    case 'MemberAdded':
    case 'MemberRoleChanged':
    case 'MemberSeatChanged':
    case 'MemberSuspended':
    case 'MemberReactivated':
    case 'MemberRemoved':
      add(orgId!, str(d, 'userId')!);
      break;
    case 'MemberSpendLimitSet':
      add(orgId!, str(d, 'userId')!);
      family = { kind: 'spend' };
      break;
    case 'ConsoleRoleSet':
    case 'WorkspaceRoleSet':
      add(orgId!, str(d, 'userId')!);
      family = { kind: 'console' };
      break;
    case 'UserAddedToGroup':
    case 'UserRemovedFromGroup': {
      const userId = str(d, 'userId')!;
      const groupId = str(d, 'groupId')!;
      // R5, R30, R31, R42: at the event's instant, only where the group then gives a role or its limit.
      if (atEvent === undefined) userEverywhere(userId, groupId);
      else for (const o of facts.items(lookupKey.userOrgs(userId), NOW)) if (groupCountsIn(atEvent.after, o, groupId)) add(o, userId);
      family = { kind: 'groups' };
      break;
    }
    case 'GroupCreated':
    case 'GroupDeleted':
      groupUsers(str(d, 'groupId')!, undefined);
      family = { kind: 'groups' };
      break;
    case 'RoleAssignedToGroup':
    case 'RoleUnassignedFromGroup':
      groupUsers(str(d, 'groupId')!, orgId);
      family = { kind: 'groups' };
      break;
    case 'GroupSpendLimitSet':
      groupUsers(str(d, 'groupId')!, orgId);
      family = { kind: 'spend' };
      break;
    case 'RoleCreated':
    case 'RoleDeleted':
      roleHolders(orgId!, str(d, 'roleId')!);
      setsWithRole(orgId!, str(d, 'roleId')!);
      break;
    case 'RoleCapabilitySet':
      roleHolders(orgId!, str(d, 'roleId')!);
      family = { kind: 'capability', capability: str(d, 'capability')! };
      break;
    case 'RoleAdminPermissionSet':
      roleHolders(orgId!, str(d, 'roleId')!);
      family = { kind: 'admin', area: str(d, 'area') as AdminArea };
      break;
    case 'RoleConnectorPermissionSet':
    case 'RoleToolPermissionSet':
      // A member's tools follow their roles only as their role set's profile (R14–R16), or the organization's policy
      // (R11, R16): the role's grant changes the sets holding it, and no member.
      setsWithRole(orgId!, str(d, 'roleId')!);
      family = tools;
      break;
    case 'OrganizationCapabilitySet':
    case 'PlatformOverrideSet':
      orgProfiles(orgId!);
      grantHolders(orgId!, str(d, 'capability')!);
      family = { kind: 'capability', capability: str(d, 'capability')! };
      break;
    case 'CapabilityAddedToCatalog':
      everyone();
      family = { kind: 'capability', capability: str(d, 'capability')! };
      break;
    case 'ConnectorAdded':
    case 'ConnectorToolsAdded':
    case 'ConnectorToolsRemoved':
    case 'ConnectorRemoved':
    case 'OrgToolPolicySet':
      // Every member's tools are a profile's: the organization's policy (R11, R16) or their role set's (R14–R16).
      orgProfiles(orgId!);
      roleSetProfiles(orgId!);
      family = tools;
      break;
    case 'ConnectorPermissionsEnabled':
      orgMembers(orgId!);
      family = { kind: 'tools', connectorId: undefined };
      break;
    case 'OrgSpendCeilingSet':
      if (atEvent === undefined) {
        orgProfiles(orgId!);
        limitHolders(orgId!);
      } else ceilingHolders(orgId!, atEvent.before, atEvent.after);
      family = { kind: 'spend' };
      break;
    case 'SpendingPrecedenceSet':
      orgProfiles(orgId!);
      limitHolders(orgId!);
      family = { kind: 'spend' };
      break;
    case 'WorkspaceCreated':
    case 'WorkspaceArchived':
      // R50–R52: a workspace gives something only to Console admins and billing members (everywhere) and to those
      // with a role in it.
      for (const u of facts.items(lookupKey.workspaceWideMembers(orgId!), NOW)) add(orgId!, u);
      for (const u of facts.items(lookupKey.usersOfWorkspace(orgId!, str(d, 'workspaceId')!), NOW)) add(orgId!, u);
      family = { kind: 'console' };
      break;
    // Nothing the evaluator reads: names, SCIM mappings, API keys, refusals (R62), drift found by a source and a source's baseline (docs/sources.md).
    case 'GroupRenamed':
    case 'RoleRenamed':
    case 'GroupRoleMappingSet':
    case 'GroupMappingsEnabledSet':
    case 'ApiKeyCreated':
    case 'ApiKeyRevoked':
    case 'AccessChangeDenied':
    case 'DriftDetected':
    case 'BaselineRecorded':
      break;
    default:
      // OrganizationCreated, ProvisioningModeSet (R31), PrimaryOwnershipTransferred, and any type not listed.
      if (orgId !== undefined) orgMembers(orgId);
      else everyone();
  }
  const members: MemberKey[] = [];
  for (const [o, users] of out) for (const u of users) members.push([o, u]);
  return { members, family };
}

/** The members whose permissions an event can change (see impactOf). */
export function affectedMembers(facts: FactStore, event: Pick<LedgerEvent, 'type' | 'data'>): MemberKey[] {
  return impactOf(facts, event).members;
}

/**
 * One family of a member's interval permissions, exactly as `intervalPermissionsOf(accessOf(…))` would list them
 * (same guards: not a member or not active → nothing; tools of existing connectors and tools only; capabilities
 * of the catalog only).
 */
export function familyPermissions(r: FactReader, orgId: string, userId: string, family: Family, shared?: SharedMember): Map<string, string> {
  if (isProfileUser(userId)) return profilePermissions(r, orgId, userId, family);
  if (family.kind === 'all') return allStoredPermissions(r, orgId, userId, shared);
  const out = new Map<string, string>();
  const m = shared ? shared.core : memberCore(r, orgId, userId);
  if (m === undefined || m.status !== 'active') return out;
  const paths = shared ? shared.paths : (): RolePaths => (m.role === 'custom' ? rolePaths(r, orgId, userId) : NO_PATHS);
  switch (family.kind) {
    case 'groups': {
      // Full members' capabilities, tools and admin levels do not depend on their groups (R4, R16, R21).
      if (m.role !== 'custom') return familyPermissions(r, orgId, userId, { kind: 'spend' }, shared);
      if (r.value<boolean>(lookupKey.connectorPermissions(orgId)) === true) return allStoredPermissions(r, orgId, userId);
      // R11: without connector permissions a custom member's tools are the organization's levels whatever their
      // roles, so only capabilities, admin levels and the spend limit can follow a group change (no event that
      // changes groups enables connector permissions, so both sides of the diff skip the same tools).
      const p = paths();
      for (const c of catalogOf(r)) if (capabilityOf(r, m, c, p).granted) out.set(`capability:${c}`, 'granted');
      for (const area of ADMIN_AREAS) {
        const { level } = adminLevelOf(r, m, area, p);
        if (level !== 'none') out.set(`admin:${area}`, level);
      }
      spendOf(r, m, out);
      return out;
    }
    case 'capability':
      // A full member follows the capability profile, which only a change of the member (all) can end.
      if (capabilityProfileOf(m) !== undefined) break;
      if (catalogOf(r).includes(family.capability) && capabilityOf(r, m, family.capability, paths()).granted) {
        out.set(`capability:${family.capability}`, 'granted');
      }
      break;
    case 'tools': {
      // A member who follows the organization's tool profile holds ORG_TOOLS_PERMISSION instead of its tools; only
      // the tools of every connector (connector permissions enabled or not) can change that.
      if (followsOrgTools(r, m)) {
        if (family.connectorId === undefined) out.set(ORG_TOOLS_PERMISSION, PROFILE_LEVEL);
        break;
      }
      // The others follow their role set's profile, which only the tools of every connector can change (as above).
      if (family.connectorId === undefined) roleSetRow(m, paths(), out);
      break;
    }
    case 'admin': {
      const { level } = adminLevelOf(r, m, family.area, paths());
      if (level !== 'none') out.set(`admin:${family.area}`, level);
      break;
    }
    case 'spend':
      spendOf(r, m, out);
      break;
    case 'console': {
      const consoleAccess = consoleAccessOf(r, m);
      if (consoleAccess.role) out.set(`console:${consoleAccess.role}`, consoleAccess.role);
      for (const [ws, perms] of Object.entries(consoleAccess.workspaces)) for (const perm of perms) out.set(`workspace:${ws}:${perm}`, 'granted');
      break;
    }
  }
  return out;
}

/**
 * A member and their role paths as read on one side of an event that changes neither (`bothSides`): evaluated once
 * for both sides.
 */
interface SharedMember {
  readonly core: MemberCore | undefined;
  readonly paths: () => RolePaths;
}

function sharedMember(r: FactReader, orgId: string, userId: string): SharedMember {
  const core = memberCore(r, orgId, userId);
  let paths: RolePaths | undefined;
  return {
    core,
    paths: () => (paths ??= core?.role === 'custom' ? rolePaths(r, orgId, userId) : NO_PATHS),
  };
}

/** No role paths: a full member's (their roles are built in). */
const NO_PATHS: RolePaths = { paths: [], excluded: [] };

/** The level of every profile row of a member (the profile says what it stands for). */
const PROFILE_LEVEL = 'org';

/** The capability catalog, once per reader (every member evaluated at one view shares it). */
const catalogOf = (r: FactReader): string[] => r.memo('capabilityCatalog', () => capabilityCatalog(r));

/**
 * R4, R8: an active full member's capabilities are exactly those available in the organization (R1, R2), less
 * claude_code on a chat seat of a dual-seat plan — whatever else they hold. The member "follows the capability
 * profile" (one of two); a custom member's follow their roles (R5) and stay one row each.
 */
function capabilityProfileOf(m: MemberCore): string | undefined {
  if (m.status !== 'active' || !isFullMember(m.role)) return undefined;
  return m.dualSeat && m.seat === 'chat' ? ORG_CHAT_SEAT_CAPABILITIES_PERMISSION : ORG_CAPABILITIES_PERMISSION;
}

/**
 * R41–R43: a member without a limit of their own or of a group has the organization's ceiling: they follow the spend
 * profile (ORG_SPEND_PERMISSION, the ceiling stored once as the `spend` row of ORG_SPEND_USER); the others hold their
 * limit capped by the ceiling, as `spendLimitOf` gives it.
 */
function spendOf(r: FactReader, m: MemberCore, out: Map<string, string>): void {
  // The member's own groups, not the organization's limited ones (`limitedGroupsOf`): this runs for events that name
  // one member as well, where reading every limited group of the organization cost more than it saved.
  const own = memberSpendLimitOf(r, m).cents;
  for (const [permission, level] of spendRowOf(own, own === null ? null : (r.value<number | null>(lookupKey.spendCeiling(m.orgId)) ?? null))) {
    out.set(permission, level);
  }
}

/**
 * The groups with a limit in the organization at the reader's view (every group ever given one, looked up once per
 * reader) for a side that evaluates many members' limits: each then skips their other groups without reading them
 * (R42).
 */
function limitedGroupsOf(r: FactReader, orgId: string): ReadonlySet<string> {
  const byOrg = r.memo('limitedGroups', () => new Map<string, Set<string>>());
  let limited = byOrg.get(orgId);
  if (limited === undefined) {
    limited = new Set();
    for (const g of r.liveItems(lookupKey.limitedGroups(orgId))) if (r.value<number | null>(lookupKey.groupLimit(orgId, g)) != null) limited.add(g);
    byOrg.set(orgId, limited);
  }
  return limited;
}

/** One side of a spend change: members' own limits and the organization's ceiling at one view. */
class SpendSide {
  private readonly ceilings = new Map<string, number | null>();

  constructor(private readonly r: FactReader) {}

  own(m: MemberCore | undefined): number | null | typeof INACTIVE {
    if (m === undefined || m.status !== 'active') return INACTIVE;
    return memberSpendLimitOf(this.r, m, limitedGroupsOf(this.r, m.orgId)).cents;
  }

  ceiling(orgId: string): number | null {
    let ceiling = this.ceilings.get(orgId);
    if (ceiling === undefined) this.ceilings.set(orgId, (ceiling = this.r.value<number | null>(lookupKey.spendCeiling(orgId)) ?? null));
    return ceiling;
  }
}

/** An active member's spend row from their own (or group) limit and the ceiling. */
function spendRowOf(own: number | null | typeof INACTIVE, ceiling: number | null): ReadonlyMap<string, string> {
  if (own === INACTIVE) return NOTHING;
  if (own === null) return new Map([[ORG_SPEND_PERMISSION, PROFILE_LEVEL]]);
  return new Map([['spend', String(capped(own, ceiling))]]);
}

/** A limit of their own capped by the organization's ceiling (R43). */
const capped = (own: number, ceiling: number | null): number => (ceiling !== null && own > ceiling ? ceiling : own);

/**
 * R4, R16, R11: an active full member's tools — and a custom member's while the organization has not enabled
 * connector permissions — are exactly the organization's policy (`orgToolLevel`), whatever else they hold. Such a
 * member "follows the organization's tool profile": the table records that (ORG_TOOLS_PERMISSION) instead of one
 * row per tool, and the organization's tool levels once, as the rows of ORG_TOOLS_USER (docs/access-intervals.md).
 */
function followsOrgTools(r: FactReader, m: MemberCore): boolean {
  return m.status === 'active' && (isFullMember(m.role) || r.value<boolean>(lookupKey.connectorPermissions(m.orgId)) !== true);
}

/**
 * A member's interval permissions as stored: `intervalPermissionsOf(accessOf(…))` (the same functions, in the same
 * way), except that a follower's tools are ORG_TOOLS_PERMISSION — and are not evaluated at all, which is most of
 * what evaluating a member cost (hundreds of tools).
 */
function allStoredPermissions(r: FactReader, orgId: string, userId: string, shared?: SharedMember): Map<string, string> {
  const out = new Map<string, string>();
  const m = shared ? shared.core : memberCore(r, orgId, userId);
  if (m === undefined || m.status !== 'active') return out;
  const paths: RolePaths = shared ? shared.paths() : m.role === 'custom' ? rolePaths(r, orgId, userId) : NO_PATHS;
  out.set(`role:${m.role}`, m.role);
  if (m.seat) out.set('seat', m.seat);
  const capabilityProfile = capabilityProfileOf(m);
  if (capabilityProfile !== undefined) out.set(capabilityProfile, PROFILE_LEVEL);
  else for (const c of catalogOf(r)) if (capabilityOf(r, m, c, paths).granted) out.set(`capability:${c}`, 'granted');
  if (followsOrgTools(r, m)) out.set(ORG_TOOLS_PERMISSION, PROFILE_LEVEL);
  else roleSetRow(m, paths, out);
  for (const area of ADMIN_AREAS) {
    const { level } = adminLevelOf(r, m, area, paths);
    if (level !== 'none') out.set(`admin:${area}`, level);
  }
  spendOf(r, m, out);
  const consoleAccess = consoleAccessOf(r, m);
  if (consoleAccess.role) out.set(`console:${consoleAccess.role}`, consoleAccess.role);
  for (const [ws, perms] of Object.entries(consoleAccess.workspaces)) for (const perm of perms) out.set(`workspace:${ws}:${perm}`, 'granted');
  return out;
}

/** What a profile's pseudo-member holds (one family of it): the rows its followers' profile rows stand for. */
function profilePermissions(r: FactReader, orgId: string, userId: string, family: Family): Map<string, string> {
  if (userId.startsWith(ROLE_SET_USER_PREFIX)) return roleSetTools(r, orgId, userId.slice(ROLE_SET_USER_PREFIX.length), family);
  switch (userId) {
    case ORG_TOOLS_USER:
      return orgToolProfile(r, orgId, family);
    case ORG_CAPABILITIES_USER:
    case ORG_CHAT_SEAT_CAPABILITIES_USER: {
      const out = new Map<string, string>();
      const catalog = catalogOf(r);
      const capabilities =
        family.kind === 'all' || family.kind === 'groups'
          ? catalog
          : family.kind === 'capability' && catalog.includes(family.capability)
            ? [family.capability]
            : [];
      for (const c of capabilities) {
        // R8: the chat-seat profile is followed only on dual-seat plans.
        if (c === 'claude_code' && userId === ORG_CHAT_SEAT_CAPABILITIES_USER) continue;
        if (availability(r, orgId, c).granted) out.set(`capability:${c}`, 'granted');
      }
      return out;
    }
    case ORG_SPEND_USER: {
      const out = new Map<string, string>();
      if (family.kind !== 'all' && family.kind !== 'groups' && family.kind !== 'spend') return out;
      const ceiling = r.value<number | null>(lookupKey.spendCeiling(orgId));
      if (ceiling != null) out.set('spend', String(ceiling));
      return out;
    }
    default:
      throw new Error(`unknown access profile ${userId}; the profiles are ${ACCESS_PROFILES.map((p) => p.user).join(', ')}`);
  }
}

/**
 * The organization's tool profile: every existing tool at the organization-wide level (R10, R18; blocked = not
 * held) — what a follower holds. Every family that can reach tools lists them ('groups' too: its rewrite scope is
 * everything).
 */
function orgToolProfile(r: FactReader, orgId: string, family: Family): Map<string, string> {
  const out = new Map<string, string>();
  if (family.kind !== 'all' && family.kind !== 'groups' && family.kind !== 'tools') return out;
  const connectors = family.kind === 'tools' && family.connectorId !== undefined ? [family.connectorId] : [...r.items(lookupKey.connectors(orgId))];
  for (const connectorId of connectors) {
    if (r.value(lookupKey.connector(orgId, connectorId)) == null) continue;
    for (const toolName of r.items(lookupKey.tools(orgId, connectorId))) {
      if (r.value<boolean>(lookupKey.tool(orgId, connectorId, toolName)) !== true) continue;
      const { level } = orgToolLevel(r, orgId, connectorId, toolName);
      if (level !== 'blocked') out.set(`tool:${connectorId}/${toolName}`, level);
    }
  }
  return out;
}

/**
 * R14–R16: an active custom member of an organization with connector permissions enabled holds each tool at the most
 * permissive level of their roles, capped by the organization's policy — a function of the set of roles alone
 * (`toolLevelOf` reads nothing else of the member). Such a member holds one row naming the set (none without roles:
 * every tool blocked); the set's tools are the rows of its pseudo-member (`roleSetTools`).
 */
function roleSetRow(m: MemberCore, paths: RolePaths, out: Map<string, string>): void {
  if (m.status !== 'active' || paths.paths.length === 0) return;
  out.set(ROLE_SET_PERMISSION, roleSetOf(paths.paths.map((p) => p.roleId)));
}

/** The links of a role set's synthetic member: the answers' `why` is not stored, only the levels. */
const ROLE_SET_LINK: Link = { eventId: '', type: 'RoleSet', occurredAt: '', actor: { kind: 'system' }, says: 'a set of roles' };

/**
 * The tools a set of roles gives (what a member holding exactly those roles holds, R14–R16), through the evaluator's
 * own `toolLevelOf` for an active custom member whose role paths are the set's roles. While the organization has not
 * enabled connector permissions no member follows a role set (R11), so the set holds nothing then.
 */
function roleSetTools(r: FactReader, orgId: string, roleSet: string, family: Family): Map<string, string> {
  const out = new Map<string, string>();
  if (family.kind !== 'all' && family.kind !== 'groups' && family.kind !== 'tools') return out;
  if (r.value<boolean>(lookupKey.connectorPermissions(orgId)) !== true) return out;
  const m: MemberCore = {
    orgId,
    userId: roleSetUser(roleSet),
    role: 'custom',
    seat: null,
    status: 'active',
    dualSeat: false,
    roleLink: ROLE_SET_LINK,
    statusLink: ROLE_SET_LINK,
  };
  const paths: RolePaths = { paths: roleSet.split(',').map((roleId) => ({ groupId: '', roleId, links: [] })), excluded: [] };
  const connectors = family.kind === 'tools' && family.connectorId !== undefined ? [family.connectorId] : [...r.items(lookupKey.connectors(orgId))];
  for (const c of connectors) toolsOf(r, m, c, paths, out);
  return out;
}

/** As accessOf lists tools: connectors still present, tools still present, levels above blocked. */
function toolsOf(r: FactReader, m: MemberCore, connectorId: string, paths: RolePaths, out: Map<string, string>): void {
  if (r.value(lookupKey.connector(m.orgId, connectorId)) == null) return;
  for (const toolName of r.items(lookupKey.tools(m.orgId, connectorId))) {
    if (r.value<boolean>(lookupKey.tool(m.orgId, connectorId, toolName)) !== true) continue;
    const { level } = toolLevelOf(r, m, connectorId, toolName, paths);
    if (level !== 'blocked') out.set(`tool:${connectorId}/${toolName}`, level);
  }
}

/** The members' interval permissions (of one family) at one view; one reader, so members of one group share its roles (memo). */
export function permissionsAtView(facts: FactStore, view: View, members: readonly MemberKey[], family: Family = ALL): Map<string, string>[] {
  const r = new FactReader(facts, view);
  return members.map(([o, u]) => familyPermissions(r, o, u, family));
}

/** Close what was lost or changed, then open what was gained or changed (a level change is close + open). */
export function diffChanges(
  tenantId: string,
  member: MemberKey,
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>,
  at: string,
  eventId: string,
): AccessIntervalChange[] {
  const [orgId, userId] = member;
  const out: AccessIntervalChange[] = [];
  for (const [permission, level] of before) {
    if (after.get(permission) !== level) out.push({ tenantId, orgId, userId, permission, level, at, eventId, kind: 'close' });
  }
  for (const [permission, level] of after) {
    if (before.get(permission) !== level) out.push({ tenantId, orgId, userId, permission, level, at, eventId, kind: 'open' });
  }
  return out;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The interval changes one event caused, as the history stands in `facts` (which must contain it): the affected
 * members evaluated just before it (`beforePos`) and just after it, at its occurredAt.
 */
export function changesOfEvent(tenantId: string, facts: FactStore, event: LedgerEvent, frontier?: FrontierMembers, sets?: RoleSets): AccessIntervalChange[] {
  const at = Date.parse(event.meta.occurredAt);
  const rBefore = new FactReader(facts, { at, knownAt: Number.POSITIVE_INFINITY, beforePos: event.position });
  const rAfter = new FactReader(facts, { at, knownAt: Number.POSITIVE_INFINITY, beforePos: event.position + 1 });
  const { members, family } = impactOf(facts, event, sets, at, { before: rBefore, after: rAfter });
  if (members.length === 0) return [];
  const [before, after] = bothSides(rBefore, rAfter, event, members, family, frontier);
  const out: AccessIntervalChange[] = [];
  const when = iso(at); // once per event, not once per member (5 % of the producer's time on the benchmark history)
  members.forEach((m, i) => {
    out.push(...diffChanges(tenantId, m, before[i]!, after[i]!, when, event.id));
  });
  return out;
}

const NOTHING: ReadonlyMap<string, string> = new Map();

/** Not an active member: holds no spend limit. */
const INACTIVE = 'inactive';

/** A member's answers at the frontier, as far as the producer computed them (`FrontierMembers`). */
interface FrontierEntry {
  /** Their own (or group) limit before the ceiling (R41, R42); INACTIVE when not an active member. */
  own?: number | null | typeof INACTIVE;
  /** `memberCore`; null: not a member. */
  core?: MemberCore | null;
  /** `rolePaths` (a custom member's; none for the others). */
  paths?: RolePaths;
}

/**
 * What the producer last computed of each member for the events taken in store order at the frontier: their own
 * (or group) limit before the ceiling, their core (role, seat, status) and their role paths. Each stays what it is
 * until an event changes what it reads, and every such event names the member in a family that covers it (`impactOf`:
 * a member event, a group or role change, an organization's settings → `all` or `groups`), which reads the side
 * before it from the entry and replaces the entry by the side after (`bothSides`). So an event of any other family — a role's grant, a capability's availability, a ceiling, a
 * workspace, a tool policy — reads the member once, from here, on both sides: an organization-wide ceiling (R43)
 * needs no member evaluated again, a role's capability grant no member's groups walked again (their role paths were
 * a third of the producer's time on the benchmark history). The owner clears everything when facts change
 * otherwise (a replayed fold, a late event, a failure).
 */
export class FrontierMembers {
  private readonly byOrg = new Map<string, Map<string, FrontierEntry>>();

  /** The member's entry, made empty on first use. */
  entry(orgId: string, userId: string): FrontierEntry {
    let byUser = this.byOrg.get(orgId);
    if (byUser === undefined) this.byOrg.set(orgId, (byUser = new Map()));
    let entry = byUser.get(userId);
    if (entry === undefined) byUser.set(userId, (entry = {}));
    return entry;
  }

  /**
   * For an event that can change the member (`all`, `groups`): the member as the side before it reads them, from the
   * entry when there is one (`r` reads that side), and the entry dropped — the side after fills it again.
   */
  take(r: FactReader, orgId: string, userId: string): SharedMember | undefined {
    const byUser = this.byOrg.get(orgId);
    const entry = byUser?.get(userId);
    if (entry === undefined) return undefined;
    byUser!.delete(userId);
    return entry.core === undefined ? undefined : readingOf(entry, r, orgId, userId);
  }

  clear(): void {
    this.byOrg.clear();
  }

  /**
   * The member as a reader at the frontier reads them (`r` reads the facts as the entry stands: either side of an
   * event that does not change them, or the side after one that did), computed once and kept.
   */
  shared(r: FactReader, orgId: string, userId: string): SharedMember {
    const entry = this.entry(orgId, userId);
    if (entry.core === undefined) entry.core = memberCore(r, orgId, userId) ?? null;
    return readingOf(entry, r, orgId, userId);
  }
}

/** An entry's member as `r` reads them (the entry's core; its role paths computed through `r` once, then kept). */
function readingOf(entry: FrontierEntry, r: FactReader, orgId: string, userId: string): SharedMember {
  const core = entry.core ?? undefined;
  return { core, paths: () => (entry.paths ??= core?.role === 'custom' ? rolePaths(r, orgId, userId) : NO_PATHS) };
}

/**
 * The members' permissions (one family) just before and just after an event. An event that writes one
 * organization-wide fact its members read in one place — a capability's availability (R1, R2), the ceiling (R43) —
 * changes nothing else they read, so each member is evaluated once and only that fact is read on both sides: half
 * the work for the events that reach every member of an organization.
 */
function bothSides(
  rBefore: FactReader,
  rAfter: FactReader,
  event: LedgerEvent,
  members: readonly MemberKey[],
  family: Family,
  frontier: FrontierMembers | undefined,
): [ReadonlyMap<string, string>[], ReadonlyMap<string, string>[]] {
  const d = event.data as Record<string, unknown>;
  /**
   * A real member as both sides read them, for an event that changes neither their core nor their role paths (a
   * family other than `all` and `groups`): from the frontier when the producer keeps it.
   */
  const unchanged = (o: string, u: string): SharedMember | undefined =>
    isProfileUser(u) ? undefined : frontier !== undefined ? frontier.shared(rAfter, o, u) : sharedMember(rAfter, o, u);
  if (event.type === 'RoleCapabilitySet' && family.kind === 'capability') {
    // A role's grant changes nothing while the organization does not make the capability available (R1, R2: it
    // stays so across the event, which writes only the grant).
    if (!availability(rAfter, d['orgId'] as string, family.capability).granted) return [members.map(() => NOTHING), members.map(() => NOTHING)];
  }
  if ((event.type === 'OrganizationCapabilitySet' || event.type === 'PlatformOverrideSet') && family.kind === 'capability') {
    const orgId = d['orgId'] as string;
    const was = availability(rBefore, orgId, family.capability).granted;
    const is = availability(rAfter, orgId, family.capability).granted;
    // Still (un)available: nobody's capability, and no profile's, changes.
    if (was === is) return [members.map(() => NOTHING), members.map(() => NOTHING)];
    // Evaluated where it is available; on the other side a member holds nothing of the family (capability:C).
    const held = members.map(([o, u]) => familyPermissions(is ? rAfter : rBefore, o, u, family, unchanged(o, u)));
    return is ? [members.map(() => NOTHING), held] : [held, members.map(() => NOTHING)];
  }
  if (family.kind === 'spend') {
    // A member's spend row is their own (or group) limit capped by the ceiling: the limit on each side (the one
    // before from `frontier` when the producer kept it), the ceiling read once per side.
    const ceilingOnly = event.type === 'OrgSpendCeilingSet';
    const sides = [new SpendSide(rBefore), new SpendSide(rAfter)] as const;
    const before: ReadonlyMap<string, string>[] = [];
    const after: ReadonlyMap<string, string>[] = [];
    for (const [o, u] of members) {
      if (isProfileUser(u)) {
        before.push(familyPermissions(rBefore, o, u, family));
        after.push(familyPermissions(rAfter, o, u, family));
        continue;
      }
      const entry = frontier?.entry(o, u);
      // No spend event changes a member's core: read once for both sides, and only when a limit must be computed.
      let shared: SharedMember | undefined;
      const core = () => (shared ??= unchanged(o, u)!).core;
      const was = entry?.own !== undefined ? entry.own : sides[0].own(core());
      // The ceiling changes nobody's own limit.
      const is = ceilingOnly ? was : sides[1].own(core());
      if (entry !== undefined) entry.own = is;
      const ceilings = [sides[0].ceiling(o), sides[1].ceiling(o)] as const;
      if (ceilingOnly && (typeof was !== 'number' || capped(was, ceilings[0]) === capped(was, ceilings[1]))) {
        // Not capped differently (no limit of their own: the spend profile's row, or not active): nothing to compare.
        before.push(NOTHING);
        after.push(NOTHING);
        continue;
      }
      before.push(spendRowOf(was, ceilings[0]));
      after.push(spendRowOf(is, ceilings[1]));
    }
    return [before, after];
  }
  if (family.kind === 'all' || family.kind === 'groups') {
    // The event can change the member's core, role paths and own limit (every event that can names them so): the side
    // before as the frontier kept it, the side after evaluated afresh and kept in its place.
    const kept = (u: string) => !isProfileUser(u) && frontier !== undefined;
    return [
      members.map(([o, u]) => familyPermissions(rBefore, o, u, family, kept(u) ? frontier!.take(rBefore, o, u) : undefined)),
      members.map(([o, u]) => familyPermissions(rAfter, o, u, family, kept(u) ? frontier!.shared(rAfter, o, u) : undefined)),
    ];
  }
  // Any other family (a role's grant, a workspace, a connector, the catalog) changes neither who is a member nor which
  // roles reach them (R5, R30: groups, assignments, roles): the member and their role paths are read once, the rest
  // on each side.
  const before: ReadonlyMap<string, string>[] = [];
  const after: ReadonlyMap<string, string>[] = [];
  for (const [o, u] of members) {
    const shared = unchanged(o, u);
    before.push(familyPermissions(rBefore, o, u, family, shared));
    after.push(familyPermissions(rAfter, o, u, family, shared));
  }
  return [before, after];
}

/**
 * Every interval change of a whole history, exact also with late events (R61): the events, folded into `facts`
 * beforehand, are taken in (occurredAt, position) order — the order in which they took effect — so the intervals
 * are those of the history as it finally stands. For a rebuild and for tests.
 */
export function intervalChangesOfHistory(tenantId: string, facts: FactStore, events: readonly LedgerEvent[]): AccessIntervalChange[] {
  const sorted = [...events].sort((a, b) => Date.parse(a.meta.occurredAt) - Date.parse(b.meta.occurredAt) || a.position - b.position);
  const out: AccessIntervalChange[] = [];
  // No role set is evaluated event by event: each one's whole history is added once at the end.
  const seen = new RoleSets();
  for (const e of sorted) {
    const changes = changesOfEvent(tenantId, facts, e);
    seen.note(changes);
    for (const c of changes) out.push(c);
  }
  for (const [orgId, sets] of seen.all()) for (const set of sets) for (const c of roleSetHistoryOf(tenantId, facts, orgId, set)) out.push(c);
  return out;
}

/** Before any event of a history: where a role set's history starts. */
const HISTORY_START = 0;

/**
 * A role set's pseudo-member's changes over the whole history that `facts` hold, from before its first event: what
 * event-by-event evaluation would have given if the set had been known from the start.
 */
export function roleSetHistoryOf(tenantId: string, facts: FactStore, orgId: string, set: string): AccessIntervalChange[] {
  return memberChangesFrom(tenantId, facts, [orgId, roleSetUser(set)], ALL_TOOLS, HISTORY_START, 0);
}

/**
 * New role sets' histories as one rewrite (the late events' path: idempotent, so a replay after a crash writes the
 * same rows again); the table holds nothing of them before, or what an interrupted run wrote.
 */
export function roleSetHistoriesOf(tenantId: string, facts: FactStore, sets: readonly (readonly [orgId: string, set: string])[]): IntervalRewrite {
  const changes: AccessIntervalChange[] = [];
  for (const [orgId, set] of sets) for (const c of roleSetHistoryOf(tenantId, facts, orgId, set)) changes.push(c);
  return {
    tenantId,
    members: sets.map(([orgId, set]) => [orgId, roleSetUser(set)] as const),
    scope: scopeOf(ALL_TOOLS),
    from: iso(HISTORY_START),
    eventsBefore: [],
    changes,
  };
}

/** The permission names a family covers, as the table's rows name them (what a late event's rewrite replaces). */
export function scopeOf(family: Family): PermissionScope {
  switch (family.kind) {
    case 'all':
    case 'groups':
      return { names: [], prefixes: [''] };
    case 'capability':
      return { names: [`capability:${family.capability}`], prefixes: [] };
    case 'tools':
      return family.connectorId === undefined
        ? { names: [ORG_TOOLS_PERMISSION, ROLE_SET_PERMISSION], prefixes: ['tool:'] }
        : { names: [], prefixes: [`tool:${family.connectorId}/`] };
    case 'admin':
      return { names: [`admin:${family.area}`], prefixes: [] };
    case 'spend':
      return { names: ['spend', ORG_SPEND_PERMISSION], prefixes: [] };
    case 'console':
      return { names: [], prefixes: ['console:', 'workspace:'] };
  }
}

const byPosition = (a: EventRef, b: EventRef) => a.pos - b.pos;

/** The facts an evaluation read (as the fact store names them): where its answer can change next. */
type Dependencies = NonNullable<ConstructorParameters<typeof FactReader>[2]>;

/**
 * One member's changes (one family) from the instant `at`, position `pos` on, to the end of what `facts` hold, in
 * (occurredAt, position) order — what `changesOfEvent` gives, event after event, for that member — starting from what
 * the member held just before (at, pos). It steps as `transitionsOf` does, from one change instant of the facts the
 * answer read to the next; at an instant with several events it evaluates after each of them (a view ending at its
 * position), so every change names the event that made it, as in the live projection.
 */
export function memberChangesFrom(tenantId: string, facts: FactStore, member: MemberKey, family: Family, at: number, pos: number): AccessIntervalChange[] {
  const [orgId, userId] = member;
  let deps: Dependencies = new Set();
  const evaluate = (view: View) => familyPermissions(new FactReader(facts, view, deps), orgId, userId, family);
  let held = evaluate({ at, knownAt: Number.POSITIVE_INFINITY, beforePos: pos });
  const out: AccessIntervalChange[] = [];
  /** After each event at `t` in turn; the last view is all of `t`, whose dependencies say where to go next. */
  const step = (t: number, events: readonly EventRef[]) => {
    for (let i = 0; i < Math.max(1, events.length); i++) {
      const e = events[i];
      const after = evaluate(
        i >= events.length - 1 ? { at: t, knownAt: Number.POSITIVE_INFINITY } : { at: t, knownAt: Number.POSITIVE_INFINITY, beforePos: e!.pos + 1 },
      );
      // A fact changes only through an event at that instant, so `e` is there; without it the walk still goes on.
      for (const c of diffChanges(tenantId, member, held, after, iso(t), e?.eventId ?? '')) out.push(c);
      held = after;
    }
  };
  step(
    at,
    facts
      .eventsAt(at)
      .filter((e) => e.pos >= pos)
      .sort(byPosition),
  );
  for (let t = at; ; ) {
    let next: number | undefined;
    for (const key of deps) {
      const n = facts.nextChange(key, t, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY);
      if (n !== undefined && (next === undefined || n < next)) next = n;
    }
    if (next === undefined) return out;
    deps = new Set();
    step(next, facts.eventsAt(next).sort(byPosition));
    t = next;
  }
}

/**
 * What a late event (R61: its occurredAt is before events already folded) does to the table: the members it can
 * affect (`impactOf`, read as of now) get exactly the intervals the evaluator gives over the corrected history from
 * its instant on — every change of theirs in that family from the late event to the present, recomputed from
 * `facts` (which must contain it: the fact store puts it where it belongs). `AccessIntervalWriter.rewrite` turns
 * that into rows. A group change is rewritten for every permission: which ones it can change depends on the member's
 * role at each instant (R5, R30).
 */
export function lateRewriteOf(tenantId: string, facts: FactStore, event: LedgerEvent, sets?: RoleSets): IntervalRewrite {
  const late = lateImpactOf(facts, event, sets);
  const changes: AccessIntervalChange[] = [];
  for (const m of late.members) for (const c of memberChangesFrom(tenantId, facts, m, late.family, late.at, late.pos)) changes.push(c);
  return rewriteOf(tenantId, facts, late, changes);
}

/** What a late event's rewrite covers: its members, the family (a group change: all), from its (occurredAt, position). */
export interface LateImpact {
  readonly members: readonly MemberKey[];
  readonly family: Family;
  readonly at: number;
  readonly pos: number;
}

export function lateImpactOf(facts: FactStore, event: LedgerEvent, sets?: RoleSets): LateImpact {
  const impact = impactOf(facts, event, sets, Date.parse(event.meta.occurredAt));
  return { members: impact.members, family: impact.family.kind === 'groups' ? ALL : impact.family, at: Date.parse(event.meta.occurredAt), pos: event.position };
}

/**
 * Several late events of one tenant as one rewrite: every member any of them affects, from the
 * earliest of them, in the family they share (all permissions when they differ). Recomputing a member's intervals from
 * an earlier instant than needed gives the same intervals (`memberChangesFrom` is exact from any point), so one
 * rewrite per batch replaces one per late event. Adding an event costs its own members only (a batch holds thousands).
 */
export class MergedLateImpact implements LateImpact {
  private readonly byKey = new Map<string, MemberKey>();
  family: Family;
  at: number;
  pos: number;

  constructor(first: LateImpact) {
    this.family = first.family;
    this.at = first.at;
    this.pos = first.pos;
    this.add(first);
  }

  get members(): readonly MemberKey[] {
    return [...this.byKey.values()];
  }

  add(impact: LateImpact): void {
    for (const m of impact.members) this.byKey.set(`${m[0]}\u0000${m[1]}`, m);
    if (impact.at < this.at || (impact.at === this.at && impact.pos < this.pos)) {
      this.at = impact.at;
      this.pos = impact.pos;
    }
    if (this.family.kind !== 'all' && JSON.stringify(impact.family) !== JSON.stringify(this.family)) this.family = ALL;
  }
}

/** The rewrite of `late` with its members' changes (from `memberChangesFrom`) as computed by the caller. */
export function rewriteOf(tenantId: string, facts: FactStore, late: LateImpact, changes: AccessIntervalChange[]): IntervalRewrite {
  return {
    tenantId,
    members: [...late.members],
    scope: scopeOf(late.family),
    from: iso(late.at),
    eventsBefore: facts
      .eventsAt(late.at)
      .filter((e) => e.pos < late.pos)
      .map((e) => e.eventId),
    changes,
  };
}
