import {
  FactReader, K, NOW, accessOf, permissionsOf, type FactStore, type LedgerEvent, type MemberAccess, type View,
} from '../../access-model/src/index.js';
import type { AccessIntervalChange } from '../../read-model/src/index.js';

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
 * The members whose permissions an event can change, from its type and data (what evolve.ts writes and what the
 * evaluator reads): a member event → that member; group membership → that user in every organization; a role or
 * an assignment → the members of the groups holding that role there; organization settings, connectors, tools,
 * policies, workspaces → every member of the organization; the catalog (and any type not listed) → everyone.
 * Sets are read as of now, so the answer is a superset of what the event's instant needs.
 */
export function affectedMembers(facts: FactStore, event: Pick<LedgerEvent, 'type' | 'data'>): MemberKey[] {
  const d = event.data;
  const orgId = str(d, 'orgId');
  const out = new Map<string, MemberKey>();
  const add = (o: string, u: string) => out.set(`${o}|${u}`, [o, u]);
  const orgMembers = (o: string) => {
    for (const u of facts.items(K.members(o), NOW)) add(o, u);
  };
  const userEverywhere = (u: string) => {
    for (const o of facts.items(K.userOrgs(u), NOW)) add(o, u);
  };
  const groupUsers = (g: string, o: string | undefined) => {
    for (const u of facts.items(K.usersOfGroup(g), NOW)) (o === undefined ? userEverywhere(u) : add(o, u));
  };
  switch (event.type) {
    case 'MemberAdded':
    case 'MemberRoleChanged':
    case 'MemberSeatChanged':
    case 'MemberSuspended':
    case 'MemberReactivated':
    case 'MemberRemoved':
    case 'MemberSpendLimitSet':
    case 'ConsoleRoleSet':
    case 'WorkspaceRoleSet':
      add(orgId!, str(d, 'userId')!);
      break;
    case 'UserAddedToGroup':
    case 'UserRemovedFromGroup':
      userEverywhere(str(d, 'userId')!);
      break;
    case 'GroupCreated':
    case 'GroupDeleted':
      groupUsers(str(d, 'groupId')!, undefined);
      break;
    case 'RoleAssignedToGroup':
    case 'RoleUnassignedFromGroup':
    case 'GroupSpendLimitSet':
      groupUsers(str(d, 'groupId')!, orgId);
      break;
    case 'RoleCreated':
    case 'RoleDeleted':
    case 'RoleCapabilitySet':
    case 'RoleAdminPermissionSet':
    case 'RoleConnectorPermissionSet':
    case 'RoleToolPermissionSet': {
      const roleId = str(d, 'roleId')!;
      for (const g of facts.items(K.groups, NOW)) {
        for (const r of facts.items(K.rolesOfGroup(orgId!, g), NOW)) if (r === roleId) groupUsers(g, orgId);
      }
      break;
    }
    // Nothing the evaluator reads: names, SCIM mappings, API keys, refusals (R62).
    case 'GroupRenamed':
    case 'RoleRenamed':
    case 'GroupRoleMappingSet':
    case 'GroupMappingsEnabledSet':
    case 'ApiKeyCreated':
    case 'ApiKeyRevoked':
    case 'AccessChangeDenied':
      break;
    case 'CapabilityAddedToCatalog':
      for (const o of facts.items(K.orgs, NOW)) orgMembers(o);
      break;
    default:
      // Organization-wide settings (toggles, overrides, mode, precedence, ceiling, connectors, tools, policies,
      // connector permissions, workspaces, ownership transfers); an unknown type with no orgId → everyone.
      if (orgId !== undefined) orgMembers(orgId);
      else for (const o of facts.items(K.orgs, NOW)) orgMembers(o);
  }
  return [...out.values()];
}

/** The members' interval permissions at one view; one reader, so members of one group share its roles (memo). */
export function permissionsAtView(facts: FactStore, view: View, members: readonly MemberKey[]): Map<string, string>[] {
  const r = new FactReader(facts, view);
  return members.map(([o, u]) => intervalPermissionsOf(accessOf(r, o, u)));
}

/** Close what was lost or changed, then open what was gained or changed (a level change is close + open). */
export function diffChanges(
  tenantId: string, member: MemberKey, before: Map<string, string>, after: Map<string, string>, at: string, eventId: string,
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
export function changesOfEvent(tenantId: string, facts: FactStore, event: LedgerEvent): AccessIntervalChange[] {
  const members = affectedMembers(facts, event);
  if (members.length === 0) return [];
  const at = Date.parse(event.meta.occurredAt);
  const before = permissionsAtView(facts, { at, knownAt: Number.POSITIVE_INFINITY, beforePos: event.position }, members);
  const after = permissionsAtView(facts, { at, knownAt: Number.POSITIVE_INFINITY, beforePos: event.position + 1 }, members);
  const out: AccessIntervalChange[] = [];
  members.forEach((m, i) => out.push(...diffChanges(tenantId, m, before[i]!, after[i]!, iso(at), event.id)));
  return out;
}

/**
 * Every interval change of a whole history, exact also with late events (R61): the events, folded into `facts`
 * beforehand, are taken in (occurredAt, position) order — the order in which they took effect — so the intervals
 * are those of the history as it finally stands. For a rebuild and for tests.
 */
export function intervalChangesOfHistory(tenantId: string, facts: FactStore, events: readonly LedgerEvent[]): AccessIntervalChange[] {
  const sorted = [...events].sort((a, b) => Date.parse(a.meta.occurredAt) - Date.parse(b.meta.occurredAt) || a.position - b.position);
  const out: AccessIntervalChange[] = [];
  for (const e of sorted) for (const c of changesOfEvent(tenantId, facts, e)) out.push(c);
  return out;
}
