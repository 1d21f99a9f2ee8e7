import {
  accessOf,
  adminLevelOf,
  availability,
  capabilityOf,
  link,
  memberCore,
  permissionsOf,
  rolePaths,
  toolLevelOf,
  type Link,
  type MemberAccess,
  type RolePaths,
} from './evaluate.js';
import { lookupKey, type FactKey } from './fact-keys.js';
import { FactReader, type EventRef, type FactStore, type View } from './facts.js';
import { adminRank, toolRank, type AdminArea, type AdminLevel, type ToolLevel } from './vocabulary.js';

/**
 * The access questions of http-api.md, answered at any instant T as known at K (R60) from the bitemporal facts.
 * Costs: `accessAt` reads the member's facts — O(f · log v) for f facts read and v versions per fact, independent
 * of the length of the history; `holdersOf` does that for each member of the organization; `timelineOf` and
 * `changesOf` step from one change instant of the facts an answer depends on to the next.
 */

export function viewAt(at: number, knownAt: number = Number.POSITIVE_INFINITY): View {
  return { at, knownAt };
}

export function accessAt(facts: FactStore, view: View, orgId: string, userId: string): MemberAccess | undefined {
  return accessOf(new FactReader(facts, view), orgId, userId);
}

export function orgExists(facts: FactStore, view: View, orgId: string): boolean {
  return facts.get(lookupKey.org(orgId), view) !== undefined;
}

/** Was (org, user) ever a member, as known at the view's knownAt (any occurredAt)? */
export function memberKnown(facts: FactStore, knownAt: number, orgId: string, userId: string): boolean {
  return facts.get(lookupKey.memberRole(orgId, userId), { at: Number.POSITIVE_INFINITY, knownAt }) !== undefined;
}

/** Where an organization's record starts (docs/sources.md § Baseline): the instant, and the source that took it. */
export interface Baseline {
  /** The baseline instant in ms since the epoch: the record is complete from here on. */
  readonly at: number;
  readonly source: string;
  readonly sourceKind: string;
  readonly eventId: string;
}

/**
 * The organization's baseline as known at `knownAt` (the earliest, should a second source record one), or undefined
 * for an organization whose whole history the ledger holds (created through commands, or by a feed from its start).
 * An answer about an instant before it would be drawn from a partial record: the queries refuse it as unknown.
 */
export function baselineOf(facts: FactStore, knownAt: number, orgId: string): Baseline | undefined {
  const first = facts.history<{ source: string; sourceKind: string }>(lookupKey.orgBaseline(orgId)).find((v) => v.ev.rec <= knownAt);
  return first && { at: first.ev.at, source: first.value.source, sourceKind: first.value.sourceKind, eventId: first.ev.eventId };
}

export type HoldersQuery =
  | { readonly capability: string }
  | { readonly tool: { readonly connectorId: string; readonly toolName: string }; readonly minLevel: ToolLevel }
  | { readonly adminArea: AdminArea; readonly minLevel: AdminLevel };

export interface Holder {
  readonly userId: string;
  readonly level?: string;
}

/**
 * Custom members who can possibly hold what is asked: those in a group holding (in this organization) a role that
 * grants it. Everyone else who is `custom` holds nothing of it (R5, R6, R20), so they need no evaluation.
 */
function customCandidates(r: FactReader, orgId: string, grants: (roleId: string) => boolean): Set<string> {
  const candidates = new Set<string>();
  for (const groupId of r.items(lookupKey.groups)) {
    let holds = false;
    for (const roleId of r.items(lookupKey.rolesOfGroup(orgId, groupId))) {
      if (r.value<boolean>(lookupKey.assigned(orgId, groupId, roleId)) === true && r.value(lookupKey.role(orgId, roleId)) === true && grants(roleId)) {
        holds = true;
        break;
      }
    }
    if (holds) for (const userId of r.items(lookupKey.usersOfGroup(groupId))) candidates.add(userId);
  }
  return candidates;
}

/** Who holds a capability / a tool at a minimum level / an admin area at a minimum level, sorted by userId. */
export function holdersOf(facts: FactStore, view: View, orgId: string, query: HoldersQuery): Holder[] {
  const r = new FactReader(facts, view);
  const holders: Holder[] = [];
  if ('capability' in query && !availability(r, orgId, query.capability).granted) return holders; // R1, R2
  let candidates: Set<string> | undefined;
  if ('capability' in query) {
    candidates = customCandidates(r, orgId, (roleId) => r.value<boolean>(lookupKey.roleCapability(orgId, roleId, query.capability)) === true);
  } else if ('adminArea' in query) {
    const min = adminRank(query.minLevel);
    candidates = customCandidates(
      r,
      orgId,
      (roleId) => adminRank(r.value<AdminLevel>(lookupKey.roleAdmin(orgId, roleId, query.adminArea)) ?? 'none') >= Math.max(min, 1),
    );
  }
  for (const userId of r.items(lookupKey.members(orgId))) {
    const m = memberCore(r, orgId, userId);
    if (m === undefined || m.status !== 'active') continue;
    if (m.role === 'custom' && candidates !== undefined && !candidates.has(userId)) continue;
    const paths: RolePaths = m.role === 'custom' ? rolePaths(r, orgId, userId) : { paths: [], excluded: [] };
    if ('capability' in query) {
      if (capabilityOf(r, m, query.capability, paths).granted) holders.push({ userId });
    } else if ('tool' in query) {
      const { level } = toolLevelOf(r, m, query.tool.connectorId, query.tool.toolName, paths);
      if (toolRank(level) >= toolRank(query.minLevel) && level !== 'blocked') holders.push({ userId, level });
    } else {
      const { level } = adminLevelOf(r, m, query.adminArea, paths);
      if (adminRank(level) >= adminRank(query.minLevel) && level !== 'none') holders.push({ userId, level });
    }
  }
  return holders.sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
}

export interface Change {
  readonly permission: string;
  readonly from: string | null;
  readonly to: string | null;
}

export interface AccessDiff {
  readonly gained: Change[];
  readonly lost: Change[];
  readonly changed: Change[];
}

function permissionsAt(facts: FactStore, view: View, orgId: string, userId: string, deps?: Set<FactKey>): Map<string, string> {
  const a = accessOf(new FactReader(facts, view, deps), orgId, userId);
  return a ? permissionsOf(a) : new Map();
}

export function diffPermissions(before: Map<string, string>, after: Map<string, string>): AccessDiff {
  const diff: AccessDiff = { gained: [], lost: [], changed: [] };
  for (const [permission, level] of after) {
    const was = before.get(permission);
    if (was === undefined) diff.gained.push({ permission, from: null, to: level });
    else if (was !== level) diff.changed.push({ permission, from: was, to: level });
  }
  for (const [permission, level] of before) if (!after.has(permission)) diff.lost.push({ permission, from: level, to: null });
  for (const list of [diff.gained, diff.lost, diff.changed]) list.sort((a, b) => (a.permission < b.permission ? -1 : 1));
  return diff;
}

/** What a member gained, lost and had changed between two instants. */
export function diffOf(facts: FactStore, orgId: string, userId: string, from: number, to: number, knownAt = Number.POSITIVE_INFINITY): AccessDiff {
  return diffPermissions(permissionsAt(facts, viewAt(from, knownAt), orgId, userId), permissionsAt(facts, viewAt(to, knownAt), orgId, userId));
}

export interface Interval {
  readonly permission: string;
  readonly level: string;
  readonly from: string;
  readonly to: string | null;
  readonly openedBy: string | null;
  readonly closedBy: string | null;
}

export interface Transition {
  readonly at: number;
  readonly diff: AccessDiff;
  readonly causes: readonly EventRef[];
}

/**
 * Every instant in (from, to] at which the member's permissions change, with the events that took effect then.
 * It evaluates at `from`, records every fact the answer read, jumps to the earliest later version of any of them,
 * evaluates again there, and so on: the answer can only change where one of the facts it depends on changes.
 */
export function transitionsOf(
  facts: FactStore,
  orgId: string,
  userId: string,
  from: number,
  to: number,
  knownAt = Number.POSITIVE_INFINITY,
): { initial: Map<string, string>; transitions: Transition[] } {
  let deps = new Set<FactKey>();
  const initial = permissionsAt(facts, viewAt(from, knownAt), orgId, userId, deps);
  let current = initial;
  const transitions: Transition[] = [];
  let t = from;
  for (;;) {
    let next: number | undefined;
    for (const key of deps) {
      const n = facts.nextChange(key, t, to, knownAt);
      if (n !== undefined && (next === undefined || n < next)) next = n;
    }
    if (next === undefined) break;
    deps = new Set<FactKey>();
    const after = permissionsAt(facts, viewAt(next, knownAt), orgId, userId, deps);
    const diff = diffPermissions(current, after);
    if (diff.gained.length + diff.lost.length + diff.changed.length > 0) {
      transitions.push({ at: next, diff, causes: facts.eventsAt(next, knownAt) });
    }
    current = after;
    t = next;
  }
  return { initial, transitions };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A member's permissions as intervals over (from, to], each with the event that opened and the one that closed it. */
export function timelineOf(facts: FactStore, orgId: string, userId: string, from: number, to: number, knownAt = Number.POSITIVE_INFINITY): Interval[] {
  // Start at the member's first appearance so that intervals open before `from` still name the event that opened them.
  const first = facts.history(lookupKey.memberRole(orgId, userId)).find((v) => v.ev.rec <= knownAt)?.ev.at;
  const start = first !== undefined && first < from ? first - 1 : from;
  const { initial, transitions } = transitionsOf(facts, orgId, userId, start, to, knownAt);
  const open = new Map<string, { level: string; from: number; openedBy: string | null }>();
  for (const [permission, level] of initial) open.set(permission, { level, from: start, openedBy: null });
  const closed: Interval[] = [];
  for (const { at, diff, causes } of transitions) {
    const cause = causes.length > 0 ? causes[causes.length - 1]!.eventId : null;
    for (const c of [...diff.lost, ...diff.changed]) {
      const o = open.get(c.permission);
      if (o) closed.push({ permission: c.permission, level: o.level, from: iso(o.from), to: iso(at), openedBy: o.openedBy, closedBy: cause });
      open.delete(c.permission);
    }
    for (const c of [...diff.gained, ...diff.changed]) open.set(c.permission, { level: c.to!, from: at, openedBy: cause });
  }
  const all: Interval[] = [...closed];
  for (const [permission, o] of open) all.push({ permission, level: o.level, from: iso(o.from), to: null, openedBy: o.openedBy, closedBy: null });
  return all
    .filter((i) => i.to === null || Date.parse(i.to) > from)
    .map((i) => (Date.parse(i.from) < from ? { ...i, from: iso(Math.max(Date.parse(i.from), from)) } : i))
    .sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : a.permission < b.permission ? -1 : 1));
}

export interface MemberChange extends Change {
  readonly userId: string;
  readonly at: string;
  readonly kind: 'gained' | 'lost' | 'changed';
  readonly causedBy: readonly Link[];
}

/** Every member's access changes in (from, to], each with the events that caused it. */
export function changesOf(facts: FactStore, orgId: string, from: number, to: number, knownAt = Number.POSITIVE_INFINITY): MemberChange[] {
  const out: MemberChange[] = [];
  for (const userId of facts.items(lookupKey.members(orgId), viewAt(to, knownAt))) {
    const { transitions } = transitionsOf(facts, orgId, userId, from, to, knownAt);
    for (const { at, diff, causes } of transitions) {
      const causedBy = causes.map((ev) => link({ value: null, ev }, `${ev.type} took effect`));
      for (const kind of ['gained', 'lost', 'changed'] as const) {
        for (const c of diff[kind]) out.push({ userId, at: iso(at), kind, ...c, causedBy });
      }
    }
  }
  return out.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.userId < b.userId ? -1 : 1));
}
