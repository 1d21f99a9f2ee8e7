import { lookupKey, type GroupFacts, type MemberStatus } from './fact-keys.js';
import type { EventRef, FactReader, Version } from './facts.js';
import { describeActor, type Actor } from './envelope.js';
import {
  ADMIN_AREAS,
  INITIAL_CAPABILITIES,
  adminRank,
  isFullMember,
  maxToolLevel,
  minToolLevel,
  type AdminArea,
  type AdminLevel,
  type BuiltInRole,
  type ConnectorRowLevel,
  type ConsoleRole,
  type ProvisioningMode,
  type Seat,
  type SpendingPrecedence,
  type ToolLevel,
  type WorkspaceRole,
} from './vocabulary.js';

/**
 * The evaluator: §3–§8 of access-model.md as pure functions over facts read at one instant (facts.ts).
 * Every answer carries its explanation (§10): the chain of events that produced it, down to event ids,
 * or the missing link / the ceiling that cut it.
 */

/** One link of an explanation (http-api.md). */
export interface Link {
  readonly eventId: string;
  readonly type: string;
  readonly occurredAt: string;
  readonly actor: Actor;
  readonly says: string;
}

/**
 * A link made lazily: evaluations that nobody asks to explain (holders, checks, diffs) must not pay for turning
 * event rows into ids, ISO instants and objects, so the event is looked up only when a field is read.
 */
class LazyLink implements Link {
  #ref: EventRef | undefined;

  constructor(
    private readonly version: Version,
    readonly says: string,
  ) {}

  private get ref(): EventRef {
    return (this.#ref ??= this.version.ev);
  }
  get eventId(): string {
    return this.ref.eventId;
  }
  get type(): string {
    return this.ref.type;
  }
  get occurredAt(): string {
    return this.ref.occurredAt;
  }
  get actor(): Actor {
    return this.ref.actor;
  }
  toJSON(): Link {
    const { eventId, type, occurredAt, actor } = this.ref;
    return { eventId, type, occurredAt, actor, says: this.says };
  }
}

export function link(version: Version, says: string): Link {
  return new LazyLink(version, says);
}

export interface MemberCore {
  readonly orgId: string;
  readonly userId: string;
  readonly role: BuiltInRole;
  readonly seat: Seat | null;
  readonly status: MemberStatus;
  readonly dualSeat: boolean;
  readonly roleLink: Link;
  readonly statusLink: Link;
  readonly seatLink?: Link;
  readonly seatVersion?: Version;
}

/** The member as of the reader's instant, or undefined if (org, user) was never a member by then. */
export function memberCore(r: FactReader, orgId: string, userId: string): MemberCore | undefined {
  const role = r.get<BuiltInRole>(lookupKey.memberRole(orgId, userId));
  const status = r.get<MemberStatus>(lookupKey.memberStatus(orgId, userId));
  if (role === undefined || status === undefined) return undefined;
  const seat = r.get<Seat | null>(lookupKey.memberSeat(orgId, userId));
  const org = r.value<{ dualSeat: boolean }>(lookupKey.org(orgId));
  return {
    orgId,
    userId,
    role: role.value,
    seat: seat?.value ?? null,
    status: status.value,
    dualSeat: org?.dualSeat === true,
    roleLink: link(role, `${userId} has the built-in role ${role.value} in ${orgId}`),
    statusLink: link(status, `${userId}'s membership of ${orgId} is ${status.value}`),
    ...(seat?.value ? { seatLink: link(seat, `${userId} is on a ${seat.value} seat`), seatVersion: seat } : {}),
  };
}

/** A custom role reaching a member: member → group → role in this organization (R5, R30, R31). */
export interface RolePath {
  readonly groupId: string;
  readonly roleId: string;
  readonly links: readonly Link[];
}

export interface RolePaths {
  readonly paths: readonly RolePath[];
  /** Groups that would have granted but do not, with the reason (R31 and deleted groups), for denials. */
  readonly excluded: readonly Link[];
}

interface GroupRoles {
  /** Why the group grants nothing here (deleted, R31), or undefined. */
  readonly excluded?: Link;
  readonly roles: readonly { readonly roleId: string; readonly assigned: Link }[];
}

/** The roles a group holds in an organization at the reader's instant (shared by every member of the group). */
function groupRoles(r: FactReader, orgId: string, groupId: string): GroupRoles | undefined {
  // Memoized by organization and group under one constant key: a key built per call (a new string to hash) cost as
  // much as what it saved when every member of an organization is evaluated.
  const byOrg = r.memo('groupRoles', () => new Map<string, Map<string, GroupRoles | undefined>>());
  let byGroup = byOrg.get(orgId);
  if (byGroup === undefined) byOrg.set(orgId, (byGroup = new Map()));
  if (byGroup.has(groupId)) return byGroup.get(groupId);
  const roles = groupRolesNow(r, orgId, groupId);
  byGroup.set(groupId, roles);
  return roles;
}

function groupRolesNow(r: FactReader, orgId: string, groupId: string): GroupRoles | undefined {
  const group = r.get<GroupFacts | null>(lookupKey.group(groupId));
  if (group === undefined) return undefined;
  if (group.value === null) return { excluded: link(group, `group ${groupId} was deleted`), roles: [] };
  const roles: { roleId: string; assigned: Link }[] = [];
  for (const roleId of r.items(lookupKey.rolesOfGroup(orgId, groupId))) {
    const assigned = r.get<boolean>(lookupKey.assigned(orgId, groupId, roleId));
    if (assigned?.value !== true) continue;
    if (r.value<boolean | null>(lookupKey.role(orgId, roleId)) !== true) continue;
    roles.push({ roleId, assigned: link(assigned, `group ${groupId} is assigned role ${roleId} in ${orgId}`) });
  }
  // R31: in invite-only and JIT organizations, SCIM-sourced groups grant nothing through custom roles.
  const mode = r.value<ProvisioningMode>(lookupKey.orgMode(orgId));
  if (roles.length > 0 && group.value.source === 'scim' && mode !== 'scim') {
    return {
      excluded: link(group, `group ${groupId} comes from SCIM and ${orgId} provisions by ${mode ?? 'invite_only'}, so its roles grant nothing (R31)`),
      roles: [],
    };
  }
  return { roles };
}

/**
 * Does a member of the group hold anything through it in the organization at the reader's instant: a role (R5, R30,
 * R31) or the group's spend limit (R42)? When it does not, joining or leaving the group changes nothing there.
 */
export function groupCountsIn(r: FactReader, orgId: string, groupId: string): boolean {
  const held = groupRoles(r, orgId, groupId);
  if (held === undefined) return false;
  if (held.excluded === undefined && held.roles.length > 0) return true;
  return r.value<GroupFacts | null>(lookupKey.group(groupId)) != null && r.value<number | null>(lookupKey.groupLimit(orgId, groupId)) != null;
}

export function rolePaths(r: FactReader, orgId: string, userId: string): RolePaths {
  const paths: RolePath[] = [];
  const excluded: Link[] = [];
  // The groups the user had not left for good before the reader's instant: a user's groups ever only grow.
  for (const groupId of r.liveItems(lookupKey.groupsOfUser(userId))) {
    const inGroup = r.get<boolean>(lookupKey.inGroup(groupId, userId));
    if (inGroup?.value !== true) continue;
    const held = groupRoles(r, orgId, groupId);
    if (held === undefined) continue;
    if (held.excluded) {
      excluded.push(held.excluded);
      continue;
    }
    if (held.roles.length === 0) {
      excluded.push(link(inGroup, `${userId} is in group ${groupId}, which has no role in ${orgId}`));
      continue;
    }
    const inGroupLink = link(inGroup, `${userId} is in group ${groupId}`);
    for (const { roleId, assigned } of held.roles) paths.push({ groupId, roleId, links: [inGroupLink, assigned] });
  }
  return { paths, excluded };
}

// ------------------------------------------------------------------------------------------------ capabilities §3

export interface Granted {
  readonly granted: boolean;
  readonly why: readonly Link[];
}

/** The capability catalog at the reader's instant: the initial one plus those added by events (R3). */
export function capabilityCatalog(r: FactReader): string[] {
  const caps = new Set<string>(INITIAL_CAPABILITIES);
  for (const c of r.items(lookupKey.catalog)) caps.add(c);
  return [...caps];
}

/** R1, R2: available = organization toggle on and no platform override. */
export function availability(r: FactReader, orgId: string, capability: string): Granted {
  const toggle = r.get<boolean>(lookupKey.orgCapability(orgId, capability));
  const override = r.get<boolean>(lookupKey.platformOverride(orgId, capability));
  if (override?.value === true) {
    return { granted: false, why: [link(override, `the platform disabled ${capability} for ${orgId} at contract level (R1)`)] };
  }
  if (toggle?.value !== true) {
    return {
      granted: false,
      why: toggle ? [link(toggle, `${orgId} switched ${capability} off (R2)`)] : [],
    };
  }
  return { granted: true, why: [link(toggle, `${orgId} has ${capability} switched on (R2)`)] };
}

export function capabilityOf(r: FactReader, m: MemberCore, capability: string, paths: RolePaths): Granted {
  if (m.status !== 'active') return { granted: false, why: [m.statusLink] };
  const available = availability(r, m.orgId, capability);
  if (!available.granted) {
    return { granted: false, why: available.why.length ? [m.roleLink, ...available.why] : [m.roleLink] };
  }
  const seatCut = seatCeiling(m, capability);
  if (isFullMember(m.role)) {
    // R4: primary owners, owners, admins and users have every available capability; custom roles have no effect.
    const why = [m.roleLink, ...available.why];
    return seatCut ? { granted: false, why: [...why, seatCut] } : { granted: true, why };
  }
  // R5: a custom member has C when at least one role assigned to one of their groups grants it (additive).
  for (const path of paths.paths) {
    const grant = r.get<boolean>(lookupKey.roleCapability(m.orgId, path.roleId, capability));
    if (grant?.value === true) {
      const why = [m.roleLink, ...path.links, link(grant, `role ${path.roleId} grants ${capability}`), ...available.why];
      return seatCut ? { granted: false, why: [...why, seatCut] } : { granted: true, why };
    }
  }
  // R6: no group, or no role that grants it: nothing — not even chat.
  const missing: Link[] = [m.roleLink, ...paths.excluded];
  for (const path of paths.paths) {
    const grant = r.get<boolean>(lookupKey.roleCapability(m.orgId, path.roleId, capability));
    if (grant !== undefined) missing.push(link(grant, `role ${path.roleId} does not grant ${capability}`));
    else missing.push(...path.links);
  }
  return { granted: false, why: missing };
}

/** R8: on a dual-seat plan a `chat` seat never has claude_code. */
function seatCeiling(m: MemberCore, capability: string): Link | undefined {
  if (capability !== 'claude_code' || !m.dualSeat || m.seat !== 'chat') return undefined;
  return m.seatVersion && link(m.seatVersion, `${m.userId} is on a chat seat, which never has claude_code (R8)`);
}

// ------------------------------------------------------------------------------------------- connectors §4

export interface Leveled<L> {
  readonly level: L;
  readonly why: readonly Link[];
}

/** R10: the organization-wide level of a tool (tool row, else connector-wide row, else always_allow). */
export function orgToolLevel(r: FactReader, orgId: string, connectorId: string, toolName: string): Leveled<ToolLevel> {
  const own = r.get<ToolLevel>(lookupKey.toolPolicy(orgId, connectorId, toolName));
  if (own) return { level: own.value, why: [link(own, `the organization-wide policy sets ${connectorId}/${toolName} to ${own.value} (R10)`)] };
  const all = r.get<ToolLevel>(lookupKey.toolPolicy(orgId, connectorId, '*'));
  if (all) return { level: all.value, why: [link(all, `the organization-wide policy sets every ${connectorId} tool to ${all.value} (R10)`)] };
  return { level: 'always_allow', why: [] };
}

/** R14: one role's level for one tool. */
export function roleToolLevel(r: FactReader, orgId: string, roleId: string, connectorId: string, toolName: string): Leveled<ToolLevel> {
  const own = r.get<ConnectorRowLevel>(lookupKey.roleConnector(orgId, roleId, connectorId));
  if (own !== undefined) {
    if (own.value !== 'custom') return { level: own.value, why: [link(own, `role ${roleId} sets ${connectorId} to ${own.value}`)] };
    const tool = r.get<ToolLevel>(lookupKey.roleTool(orgId, roleId, connectorId, toolName));
    if (tool)
      return {
        level: tool.value,
        why: [link(own, `role ${roleId} sets ${connectorId} to custom`), link(tool, `role ${roleId} sets ${connectorId}/${toolName} to ${tool.value}`)],
      };
    return { level: 'blocked', why: [link(own, `role ${roleId} sets ${connectorId} to custom with no level for ${toolName}, so it is blocked (R14)`)] };
  }
  const all = r.get<ConnectorRowLevel>(lookupKey.roleConnector(orgId, roleId, '*'));
  if (all === undefined) return { level: 'blocked', why: [] };
  if (all.value === 'custom') {
    return { level: 'blocked', why: [link(all, `role ${roleId} sets "All connectors" to custom and has no row for ${connectorId}, so it is blocked (R14)`)] };
  }
  return { level: all.value, why: [link(all, `role ${roleId} sets "All connectors" to ${all.value}`)] };
}

export function toolExists(r: FactReader, orgId: string, connectorId: string, toolName: string): Version | undefined {
  const connector = r.get<unknown>(lookupKey.connector(orgId, connectorId));
  if (connector?.value == null) return connector;
  const tool = r.get<boolean>(lookupKey.tool(orgId, connectorId, toolName));
  return tool;
}

export function toolLevelOf(r: FactReader, m: MemberCore, connectorId: string, toolName: string, paths: RolePaths): Leveled<ToolLevel> {
  const exists = toolExists(r, m.orgId, connectorId, toolName);
  if (exists?.value == null || exists.value === false) {
    // R18: removed tools and connectors are blocked for everyone.
    return { level: 'blocked', why: exists ? [link(exists, `${connectorId}/${toolName} was removed (R18)`)] : [] };
  }
  if (m.status !== 'active') return { level: 'blocked', why: [m.statusLink] };
  const org = orgToolLevel(r, m.orgId, connectorId, toolName);
  if (isFullMember(m.role)) return { level: org.level, why: [m.roleLink, ...org.why] }; // R16, R4
  const enabled = r.get<boolean>(lookupKey.connectorPermissions(m.orgId));
  if (enabled?.value !== true) {
    return { level: org.level, why: [m.roleLink, ...org.why] }; // R11
  }
  // R15: across roles the most permissive wins; no roles → blocked.
  let best: Leveled<ToolLevel> | undefined;
  let bestPath: RolePath | undefined;
  for (const path of paths.paths) {
    const level = roleToolLevel(r, m.orgId, path.roleId, connectorId, toolName);
    if (best === undefined || maxToolLevel(best.level, level.level) !== best.level) {
      best = level;
      bestPath = path;
    }
  }
  if (best === undefined || bestPath === undefined) {
    return { level: 'blocked', why: [m.roleLink, link(enabled, `${m.orgId} enabled connector permissions (R11)`), ...paths.excluded] };
  }
  // R16: against the organization-wide policy the most restrictive wins.
  const level = minToolLevel(best.level, org.level);
  const why = [m.roleLink, ...bestPath.links, ...best.why];
  if (level !== best.level) why.push(...org.why);
  return { level, why };
}

// ----------------------------------------------------------------------------------------- admin areas §5

/** R21 (decision for admin): the built-in roles' admin levels. */
const BUILT_IN_ADMIN: Record<Exclude<BuiltInRole, 'custom'>, Partial<Record<AdminArea, AdminLevel>>> = {
  primary_owner: Object.fromEntries(ADMIN_AREAS.map((a) => [a, 'manage'])),
  owner: Object.fromEntries(ADMIN_AREAS.map((a) => [a, 'manage'])),
  admin: { user_management: 'manage', libraries: 'manage', analytics: 'view' },
  user: {},
};

export function adminLevelOf(r: FactReader, m: MemberCore, area: AdminArea, paths: RolePaths): Leveled<AdminLevel> {
  if (m.status !== 'active') return { level: 'none', why: [m.statusLink] };
  if (m.role !== 'custom') return { level: BUILT_IN_ADMIN[m.role][area] ?? 'none', why: [m.roleLink] }; // R21
  // R20: the maximum over the member's roles, none by default.
  let best: AdminLevel = 'none';
  let why: Link[] = [m.roleLink];
  for (const path of paths.paths) {
    const level = r.get<AdminLevel>(lookupKey.roleAdmin(m.orgId, path.roleId, area));
    if (level !== undefined && adminRank(level.value) > adminRank(best)) {
      best = level.value;
      why = [m.roleLink, ...path.links, link(level, `role ${path.roleId} gives ${area} = ${level.value}`)];
    }
  }
  return { level: best, why };
}

// ----------------------------------------------------------------------------------------------- spend §7

export interface SpendLimit {
  readonly cents: number | null;
  readonly why: readonly Link[];
}

/**
 * R41, R42: a member's own limit, else the lowest (or highest) of their groups' — before the organization's ceiling.
 * `limited`, when given, holds every group with a limit here at the reader's instant (others are not looked at): the
 * same answer, cheaper when many members are evaluated at one instant.
 */
export function memberSpendLimitOf(r: FactReader, m: MemberCore, limited?: ReadonlySet<string>): SpendLimit {
  const individual = r.get<number | null>(lookupKey.memberLimit(m.orgId, m.userId));
  if (individual?.value != null) {
    // R41: an individual limit overrides the groups', higher or lower.
    return { cents: individual.value, why: [link(individual, `${m.userId} has an individual limit of ${individual.value} cents (R41)`)] };
  }
  let cents: number | null = null;
  let why: Link[] = [];
  // R42: several group limits → lowest or highest, as the organization's precedence says (lowest by default).
  const precedence = r.get<SpendingPrecedence>(lookupKey.spendingPrecedence(m.orgId));
  const highest = precedence?.value === 'highest';
  for (const groupId of r.liveItems(lookupKey.groupsOfUser(m.userId))) {
    if (limited !== undefined && !limited.has(groupId)) continue;
    if (r.value<boolean>(lookupKey.inGroup(groupId, m.userId)) !== true) continue;
    if (r.value<GroupFacts | null>(lookupKey.group(groupId)) == null) continue;
    const limit = r.get<number | null>(lookupKey.groupLimit(m.orgId, groupId));
    if (limit?.value == null) continue;
    if (cents === null || (highest ? limit.value > cents : limit.value < cents)) {
      cents = limit.value;
      why = [link(limit, `group ${groupId} has a per-user limit of ${limit.value} cents, the ${highest ? 'highest' : 'lowest'} of ${m.userId}'s groups (R42)`)];
      if (precedence) why.push(link(precedence, `${m.orgId}'s spending precedence is ${precedence.value}`));
    }
  }
  return { cents, why };
}

export function spendLimitOf(r: FactReader, m: MemberCore): SpendLimit {
  const ceiling = r.get<number | null>(lookupKey.spendCeiling(m.orgId));
  const own = memberSpendLimitOf(r, m);
  // R43: the organization's ceiling caps the result; no limit means unlimited up to the ceiling.
  if (ceiling?.value != null && (own.cents === null || own.cents > ceiling.value)) {
    return { cents: ceiling.value, why: [...own.why, link(ceiling, `${m.orgId}'s ceiling of ${ceiling.value} cents caps it (R43)`)] };
  }
  return own;
}

// ------------------------------------------------------------------------------------------------ Console §8

export const CONSOLE_PERMISSIONS: Record<ConsoleRole, readonly string[]> = {
  // R50
  user: ['workbench'],
  claude_code_user: ['workbench', 'claude_code'],
  developer: ['workbench', 'claude_code', 'manage_api_keys', 'view_usage_cost'],
  billing: ['workbench', 'manage_billing', 'view_usage_cost'],
  admin: ['workbench', 'claude_code', 'manage_api_keys', 'view_usage_cost', 'manage_billing', 'manage_members'],
};
export const WORKSPACE_PERMISSIONS: Record<WorkspaceRole, readonly string[]> = {
  // R52 (workspace_billing: decision)
  workspace_user: ['workbench'],
  workspace_developer: ['workbench', 'manage_api_keys'],
  workspace_admin: ['workbench', 'manage_api_keys', 'manage_workspace_members'],
  workspace_billing: ['view_usage_cost'],
};
/** R51: organization admins are workspace admins everywhere; billing members view cost, usage and limits everywhere. */
const ORG_ROLE_IN_WORKSPACES: Partial<Record<ConsoleRole, readonly string[]>> = {
  admin: WORKSPACE_PERMISSIONS.workspace_admin,
  billing: ['view_usage_cost', 'view_limits'],
};

/** R51: does this Console role give something in every workspace (admin, billing)? */
export function reachesEveryWorkspace(role: ConsoleRole): boolean {
  return ORG_ROLE_IN_WORKSPACES[role] !== undefined;
}

export interface ConsoleAccess {
  readonly role: ConsoleRole | null;
  readonly permissions: readonly string[];
  readonly workspaces: Readonly<Record<string, readonly string[]>>;
  readonly why: readonly Link[];
}

export function consoleAccessOf(r: FactReader, m: MemberCore): ConsoleAccess {
  const roleVersion = r.get<ConsoleRole | null>(lookupKey.consoleRole(m.orgId, m.userId));
  const role = m.status === 'active' ? (roleVersion?.value ?? null) : null;
  const why: Link[] = roleVersion?.value ? [link(roleVersion, `${m.userId} has the Console role ${roleVersion.value} (R50)`)] : [];
  const permissions = role ? CONSOLE_PERMISSIONS[role] : [];
  const workspaces = idRecord<readonly string[]>();
  if (m.status !== 'active') return { role: null, permissions: [], workspaces, why: [m.statusLink] };
  const everywhere = role ? (ORG_ROLE_IN_WORKSPACES[role] ?? []) : [];
  const mine = new Set(r.items(lookupKey.workspacesOfUser(m.orgId, m.userId)));
  for (const workspaceId of r.items(lookupKey.workspaces(m.orgId))) {
    const ws = r.value<{ archived: boolean }>(lookupKey.workspace(m.orgId, workspaceId));
    if (ws === undefined || ws.archived) continue;
    const perms = new Set<string>(everywhere);
    if (mine.has(workspaceId)) {
      // R52: a workspace role adds to the organization role, never removes.
      const wsRole = r.get<WorkspaceRole | null>(lookupKey.workspaceRole(m.orgId, workspaceId, m.userId));
      if (wsRole?.value) {
        for (const p of WORKSPACE_PERMISSIONS[wsRole.value]) perms.add(p);
        why.push(link(wsRole, `${m.userId} is ${wsRole.value} in workspace ${workspaceId} (R52)`));
      }
    }
    if (perms.size > 0) {
      if (role) for (const p of permissions) if (p === 'workbench' || p === 'claude_code') perms.add(p);
      workspaces[workspaceId] = [...perms].sort();
    }
  }
  return { role, permissions, workspaces, why };
}

// --------------------------------------------------------------------------------------------- the whole answer

/**
 * An answer's object keyed by ids (connectors, tools, workspaces, capabilities): without a prototype, an id such as
 * `__proto__` or `constructor` is an own key like any other instead of reaching Object.prototype.
 */
function idRecord<V>(): Record<string, V> {
  return Object.create(null) as Record<string, V>;
}

export interface MemberAccess {
  readonly orgId: string;
  readonly userId: string;
  readonly builtInRole: BuiltInRole;
  readonly seat: Seat | null;
  readonly status: MemberStatus;
  readonly capabilities: Record<string, Granted>;
  readonly tools: Record<string, Record<string, Leveled<ToolLevel>>>;
  /** R17: connectors with at least one tool above blocked. */
  readonly connectorMenu: readonly string[];
  readonly adminAreas: Record<string, Leveled<AdminLevel>>;
  readonly spendLimitCents: number | null;
  readonly spendLimitWhy: readonly Link[];
  readonly console: ConsoleAccess;
}

export function accessOf(r: FactReader, orgId: string, userId: string): MemberAccess | undefined {
  const m = memberCore(r, orgId, userId);
  if (m === undefined) return undefined;
  const paths = m.role === 'custom' ? rolePaths(r, orgId, userId) : { paths: [], excluded: [] };
  const capabilities = idRecord<Granted>();
  for (const c of capabilityCatalog(r)) capabilities[c] = capabilityOf(r, m, c, paths);
  const tools = idRecord<Record<string, Leveled<ToolLevel>>>();
  const connectorMenu: string[] = [];
  for (const connectorId of r.items(lookupKey.connectors(orgId))) {
    if (r.value(lookupKey.connector(orgId, connectorId)) == null) continue;
    const row = idRecord<Leveled<ToolLevel>>();
    let inMenu = false;
    for (const toolName of r.items(lookupKey.tools(orgId, connectorId))) {
      if (r.value<boolean>(lookupKey.tool(orgId, connectorId, toolName)) !== true) continue;
      const level = toolLevelOf(r, m, connectorId, toolName, paths);
      row[toolName] = level;
      if (level.level !== 'blocked') inMenu = true;
    }
    tools[connectorId] = row;
    if (inMenu) connectorMenu.push(connectorId);
  }
  const adminAreas = idRecord<Leveled<AdminLevel>>();
  for (const area of ADMIN_AREAS) adminAreas[area] = adminLevelOf(r, m, area, paths);
  const spend = spendLimitOf(r, m);
  return {
    orgId,
    userId,
    builtInRole: m.role,
    seat: m.seat,
    status: m.status,
    capabilities,
    tools,
    connectorMenu: connectorMenu.sort(),
    adminAreas,
    spendLimitCents: m.status === 'active' ? spend.cents : null,
    spendLimitWhy: spend.why,
    console: consoleAccessOf(r, m),
  };
}

/**
 * An answer flattened to permission → level, the unit of diffs, timelines and the ClickHouse access intervals:
 * `role` → built-in role, `capability:<c>` → granted, `tool:<connector>/<tool>` → level (above blocked),
 * `admin:<area>` → level (above none), `spend` → cents, `console:<role>`, `workspace:<id>:<perm>`.
 */
export function permissionsOf(a: MemberAccess): Map<string, string> {
  const p = new Map<string, string>();
  if (a.status !== 'active') {
    p.set('status', a.status);
    return p;
  }
  p.set('role', a.builtInRole);
  if (a.seat) p.set('seat', a.seat);
  for (const [c, g] of Object.entries(a.capabilities)) if (g.granted) p.set(`capability:${c}`, 'granted');
  for (const [conn, tools] of Object.entries(a.tools)) {
    for (const [t, l] of Object.entries(tools)) if (l.level !== 'blocked') p.set(`tool:${conn}/${t}`, l.level);
  }
  for (const [area, l] of Object.entries(a.adminAreas)) if (l.level !== 'none') p.set(`admin:${area}`, l.level);
  if (a.spendLimitCents !== null) p.set('spend', String(a.spendLimitCents));
  if (a.console.role) p.set('console', a.console.role);
  for (const [ws, perms] of Object.entries(a.console.workspaces)) for (const perm of perms) p.set(`workspace:${ws}:${perm}`, 'granted');
  return p;
}

export { describeActor };
