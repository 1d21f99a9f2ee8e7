import { IndexedSet } from './indexed-set.js';
import type { ConnectorKind, OrgProfile } from './vocabulary.js';
import { INITIAL_CAPABILITIES } from './vocabulary.js';

/**
 * The generator's own small model of the tenant, kept in step with every command it yields, so that each command is
 * valid when applied in order (R22, R24, R62): actors really hold the right at that moment, and nothing unknown,
 * removed or deleted is referenced. Everything is indexed by small integers; ids are strings only at emission.
 */

export const NONE = -1;
export const PRIMARY_OWNER = 0;
export const OWNER = 1;
export const ADMIN = 2;
export const USER = 3;
export const CUSTOM = 4;
export const ACTIVE = 0;
export const SUSPENDED = 1;
/** Console roles that may create API keys (R50: developer, admin). */
export const CONSOLE_DEVELOPER = 2;
export const CONSOLE_ADMIN = 4;

export class OrgShadow {
  readonly role: Int8Array;
  readonly status: Uint8Array;
  readonly seat: Int8Array;
  readonly everMember: Uint8Array;
  readonly memberSince: Float64Array;
  readonly consoleRole: Int8Array;
  readonly hasLimit: Uint8Array;
  primaryOwner = NONE;
  /** Active owners other than the primary owner. */
  readonly owners: IndexedSet;
  readonly admins: IndexedSet;
  /** Active `user` and `custom` members. */
  readonly regular: IndexedSet;
  readonly suspended: IndexedSet;
  /** Active members whose Console role may create API keys. */
  readonly developers: IndexedSet;
  readonly capabilityOn = new Map<string, boolean>();
  readonly overridden = new Set<string>();
  readonly roles = new IndexedSet();
  rolesCreated = 0;
  readonly connectors = new IndexedSet();
  connectorsAdded = 0;
  connectorPermissions = false;
  readonly groupLimits = new IndexedSet();
  readonly workspaces = new IndexedSet();
  workspacesCreated = 0;
  mappingsEnabled = false;
  ceiling: number | null = null;
  precedence: 'lowest' | 'highest' = 'lowest';
  mode: OrgProfile['mode'];

  constructor(
    readonly index: number,
    readonly profile: OrgProfile,
    users: number,
  ) {
    this.owners = new IndexedSet(users);
    this.admins = new IndexedSet(users);
    this.regular = new IndexedSet(users);
    this.suspended = new IndexedSet(users);
    this.developers = new IndexedSet(users);
    this.role = new Int8Array(users).fill(NONE);
    this.status = new Uint8Array(users);
    this.seat = new Int8Array(users).fill(NONE);
    this.everMember = new Uint8Array(users);
    this.memberSince = new Float64Array(users);
    this.consoleRole = new Int8Array(users).fill(NONE);
    this.hasLimit = new Uint8Array(users);
    this.mode = profile.mode;
    // The decider switches the shipped capabilities on when an organization is created.
    for (const c of INITIAL_CAPABILITIES) this.capabilityOn.set(c, true);
  }

  get id(): string {
    return this.profile.id;
  }

  isMember(u: number): boolean {
    return this.role[u] !== NONE;
  }

  isActive(u: number): boolean {
    return this.role[u] !== NONE && this.status[u] === ACTIVE;
  }

  /** Puts u in exactly the pick-sets its role, status and Console role say. */
  reindex(u: number): void {
    this.owners.delete(u);
    this.admins.delete(u);
    this.regular.delete(u);
    this.suspended.delete(u);
    this.developers.delete(u);
    const r = this.role[u]!;
    if (r === NONE) return;
    if (this.status[u] === SUSPENDED) {
      this.suspended.add(u);
      return;
    }
    if (r === OWNER) this.owners.add(u);
    else if (r === ADMIN) this.admins.add(u);
    else if (r === USER || r === CUSTOM) this.regular.add(u);
    const c = this.consoleRole[u];
    if (c === CONSOLE_DEVELOPER || c === CONSOLE_ADMIN) this.developers.add(u);
  }
}

export interface GroupShadow {
  readonly id: string;
  name: string;
  readonly scim: boolean;
  live: boolean;
  readonly createdAt: number;
  readonly members: IndexedSet;
  /** Global indexes of the roles assigned to this group (each in its own organization). */
  readonly roles: IndexedSet;
  /** Mapped to a built-in role (always `custom`, see `mayJoinGroup`) in the mapping organization. */
  mapped: boolean;
  renames: number;
}

export interface RoleShadow {
  readonly id: string;
  readonly org: number;
  name: string;
  live: boolean;
  readonly capabilities: Set<string>;
  readonly adminLevels: number[];
  readonly groups: IndexedSet;
}

export interface ConnectorShadow {
  readonly id: string;
  readonly org: number;
  readonly kind: ConnectorKind;
  live: boolean;
  /** Indexes into kind.tools of the tools the connector has now. */
  readonly tools: IndexedSet;
  nextTool: number;
}

export interface WorkspaceShadow {
  readonly id: string;
  readonly org: number;
  readonly createdAt: number;
  live: boolean;
  readonly roles: Map<number, number>;
  readonly keys: IndexedSet;
}

export class TenantShadow {
  readonly orgs: OrgShadow[];
  readonly userCount: number;
  /** Organizations each user is a member of (active or suspended). */
  readonly orgsOf: Uint8Array;
  readonly firstJoined: Float64Array;
  /** Users who are a member of at least one organization: the only ones groups may reference. */
  readonly known: IndexedSet;
  readonly groupsOf: number[][];
  /** How many groups mapped in the mapping organization each user is in. */
  readonly mappedGroupsOf: Uint16Array;
  /** The organization with group mappings (the first SCIM one), or NONE. */
  mappingOrg = NONE;
  joined = 0;
  left = 0;
  readonly groups: GroupShadow[] = [];
  readonly liveGroups = new IndexedSet();
  memberships = 0;
  /** Instant of each user's last group-membership change: late imports must not cross one (R61). */
  readonly lastGroupChange: Float64Array;
  readonly roles: RoleShadow[] = [];
  readonly connectors: ConnectorShadow[] = [];
  readonly workspaces: WorkspaceShadow[] = [];
  readonly keyIds: string[] = [];
  readonly keyCreators: number[] = [];
  readonly catalog: string[] = [...INITIAL_CAPABILITIES];
  /** Group member sets use flat arrays (faster) while users × groups stays under ~80 MB of them, Maps beyond. */
  private readonly groupSetCapacity: number | undefined;

  constructor(profiles: OrgProfile[], users: number, groups: number) {
    this.userCount = users;
    this.groupSetCapacity = users * (groups + 8) <= 20_000_000 ? users : undefined;
    this.orgs = profiles.map((p, o) => new OrgShadow(o, p, users));
    this.orgsOf = new Uint8Array(users);
    this.known = new IndexedSet(users);
    this.firstJoined = new Float64Array(users);
    this.groupsOf = Array.from({ length: users }, () => []);
    this.mappedGroupsOf = new Uint16Array(users);
    this.lastGroupChange = new Float64Array(users);
  }

  // ---- members

  addMember(o: number, u: number, role: number, seat: number, at: number): void {
    const org = this.orgs[o]!;
    org.role[u] = role;
    org.status[u] = ACTIVE;
    org.seat[u] = seat;
    org.everMember[u] = 1;
    org.memberSince[u] = at;
    org.consoleRole[u] = NONE;
    org.hasLimit[u] = 0;
    if (role === PRIMARY_OWNER) org.primaryOwner = u;
    if (this.orgsOf[u]++ === 0) {
      this.known.add(u);
      if (this.firstJoined[u] === 0) {
        this.firstJoined[u] = at;
        this.joined++;
      }
    }
    org.reindex(u);
  }

  removeMember(o: number, u: number): void {
    const org = this.orgs[o]!;
    org.role[u] = NONE;
    org.reindex(u);
    org.hasLimit[u] = 0;
    for (const w of org.workspaces.items) this.workspaces[w]!.roles.delete(u);
    if (--this.orgsOf[u] === 0) {
      this.known.delete(u);
      this.left++;
    }
  }

  setRole(o: number, u: number, role: number): void {
    const org = this.orgs[o]!;
    org.role[u] = role;
    if (role === PRIMARY_OWNER) org.primaryOwner = u;
    org.reindex(u);
  }

  setStatus(o: number, u: number, status: number): void {
    const org = this.orgs[o]!;
    org.status[u] = status;
    org.reindex(u);
  }

  setConsoleRole(o: number, u: number, role: number): void {
    const org = this.orgs[o]!;
    org.consoleRole[u] = role;
    org.reindex(u);
  }

  /** Whether u's built-in role in the mapping organization may change (R32: a mapping would override it). */
  roleIsPinned(o: number, u: number): boolean {
    return o === this.mappingOrg && this.mappedGroupsOf[u]! > 0;
  }

  // ---- groups (tenant level, R30)

  createGroup(id: string, name: string, scim: boolean, at: number): number {
    const g = this.groups.length;
    this.groups.push({
      id,
      name,
      scim,
      live: true,
      createdAt: at,
      members: new IndexedSet(this.groupSetCapacity),
      roles: new IndexedSet(),
      mapped: false,
      renames: 0,
    });
    this.liveGroups.add(g);
    return g;
  }

  /**
   * R32 keeps the mapping organization's built-in roles in step with mapped groups; so that no mapping ever
   * changes a role behind the generator's back, only users who are not members there, or are `custom` there, may
   * be in a mapped group (mappings only ever map to `custom`).
   */
  mayJoinGroup(g: number, u: number): boolean {
    const group = this.groups[g]!;
    if (!group.live || group.members.has(u) || !this.known.has(u)) return false;
    if (!group.mapped) return true;
    const r = this.orgs[this.mappingOrg]!.role[u];
    return r === NONE || r === CUSTOM;
  }

  joinGroup(g: number, u: number, at: number): void {
    const group = this.groups[g]!;
    group.members.add(u);
    this.groupsOf[u]!.push(g);
    if (group.mapped) this.mappedGroupsOf[u]!++;
    this.memberships++;
    this.lastGroupChange[u] = at;
  }

  leaveGroup(g: number, u: number, at: number): void {
    const group = this.groups[g]!;
    group.members.delete(u);
    const list = this.groupsOf[u]!;
    const i = list.indexOf(g);
    list[i] = list[list.length - 1]!;
    list.pop();
    if (group.mapped) this.mappedGroupsOf[u]!--;
    this.memberships--;
    this.lastGroupChange[u] = at;
  }

  deleteGroup(g: number, at: number): void {
    const group = this.groups[g]!;
    for (const u of [...group.members.items]) this.leaveGroup(g, u, at);
    group.live = false;
    this.liveGroups.delete(g);
  }

  // ---- roles

  createRole(o: number, id: string, name: string): number {
    const r = this.roles.length;
    // R7: a new custom role grants chat and nothing else.
    this.roles.push({ id, org: o, name, live: true, capabilities: new Set(['chat']), adminLevels: [0, 0, 0, 0, 0, 0], groups: new IndexedSet() });
    this.orgs[o]!.roles.add(r);
    this.orgs[o]!.rolesCreated++;
    return r;
  }

  assign(r: number, g: number): void {
    this.roles[r]!.groups.add(g);
    this.groups[g]!.roles.add(r);
  }

  unassign(r: number, g: number): void {
    this.roles[r]!.groups.delete(g);
    this.groups[g]!.roles.delete(r);
  }

  deleteRole(r: number): void {
    const role = this.roles[r]!;
    role.live = false;
    this.orgs[role.org]!.roles.delete(r);
  }
}
