/**
 * The names of facts (facts.ts). One place, so that what evolve.ts writes and what the evaluator reads cannot drift.
 * `*` in a connector or tool position stands for "All connectors" / "every tool of the connector".
 *
 * A fact's name is a kind and up to four ids (`memberRole(orgId, userId)`), interned process-wide into a small
 * integer, its `FactKey`: folding millions of events looks each name up several times, and a lookup in a few small
 * maps keyed by the ids themselves is several times cheaper than building a string such as
 * `member|acme|u-1|role` and hashing it into a map of millions. The interned names form a trie (kind → first id →
 * second id …); `KEYS.name(key)` spells a key as `kind|id|id…` and `KEYS.parse(name)` interns it back. The numbers
 * are this process's, so a snapshot carries the trie (`toSnapshot`) and loading one translates its keys (`restore`).
 * Ids never contain `|` (they are [A-Za-z0-9._:@-]).
 */

/** An interned fact name (see above). */
export type FactKey = number & { readonly __factKey: never };

/** The key of a name never interned: no fact, no set, ever. */
export const NO_FACT = -1 as FactKey;

export class KeySpace {
  /** By node: the map of its children (absent for a leaf), its parent (-1 for a kind) and its own segment. */
  private readonly children: (Map<string, number> | undefined)[] = [];
  private parents = new Int32Array(1 << 16);
  private readonly segments: string[] = [];
  private readonly kinds = new Map<string, number>();

  get size(): number {
    return this.segments.length;
  }

  private node(parent: number, segment: string): number {
    const id = this.segments.length;
    if (id >= this.parents.length) {
      const grown = new Int32Array(this.parents.length * 2);
      grown.set(this.parents);
      this.parents = grown;
    }
    this.parents[id] = parent;
    this.segments.push(segment);
    this.children.push(undefined);
    return id;
  }

  /** The node of a kind of fact. */
  kind(name: string): number {
    let id = this.kinds.get(name);
    if (id === undefined) {
      id = this.node(-1, name);
      this.kinds.set(name, id);
    }
    return id;
  }

  /** The child of `parent` for `segment`, made on first use. */
  child(parent: number, segment: string): number {
    let map = this.children[parent];
    if (map === undefined) {
      map = new Map();
      this.children[parent] = map;
    }
    let id = map.get(segment);
    if (id === undefined) {
      id = this.node(parent, segment);
      map.set(segment, id);
    }
    return id;
  }

  /** The child of `parent` for `segment` if it was ever made, else NO_FACT. */
  find(parent: number, segment: string): number {
    return this.children[parent]?.get(segment) ?? NO_FACT;
  }

  /** `kind|id|id…`: what a snapshot stores. */
  name(key: FactKey): string {
    const parts: string[] = [];
    for (let id: number = key; id >= 0; id = this.parents[id]!) parts.push(this.segments[id]!);
    return parts.reverse().join('|');
  }

  /** Every node, for a snapshot: parents and segments (as ids into `strings`), in the order they were made. */
  toSnapshot(strings: StringTable): KeySpaceSnapshot {
    const segments = new Int32Array(this.size);
    for (let id = 0; id < this.size; id++) segments[id] = strings.id(this.segments[id]!);
    return { parents: this.parents.slice(0, this.size), segments };
  }

  /**
   * Interns a snapshot's nodes into this key space; returns, for each node of the snapshot, its key here (ids made by
   * another process differ). Parents come before their children in a snapshot, so one pass suffices.
   */
  restore(snapshot: KeySpaceSnapshot, strings: readonly string[]): Int32Array {
    const here = new Int32Array(snapshot.parents.length);
    for (let id = 0; id < here.length; id++) {
      const parent = snapshot.parents[id]!;
      const segment = strings[snapshot.segments[id]!]!;
      here[id] = parent < 0 ? this.kind(segment) : this.child(here[parent]!, segment);
    }
    return here;
  }

  /** The key of a name made by `name()`. */
  parse(name: string): FactKey {
    const parts = name.split('|');
    let id = this.kind(parts[0]!);
    for (let i = 1; i < parts.length; i++) id = this.child(id, parts[i]!);
    return id as FactKey;
  }
}

/** Strings numbered in the order first seen, each stored once: event types, a snapshot's strings (ids recur across
 * thousands of fact names and sets). */
export class StringTable {
  readonly values: string[] = [];
  private readonly index = new Map<string, number>();

  id(s: string): number {
    let id = this.index.get(s);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(s);
      this.index.set(s, id);
    }
    return id;
  }
}

export interface KeySpaceSnapshot {
  readonly parents: Int32Array;
  /** Ids into the snapshot's strings. */
  readonly segments: Int32Array;
}

/** How a snapshot's keys and strings read in this process (`KEYS.restore`). */
export interface SnapshotNames {
  readonly keys: Int32Array;
  readonly strings: readonly string[];
}

/** The process-wide interned fact names. */
export const KEYS = new KeySpace();

/** How many ids each kind of fact is named by. */
const ARITY = {
  orgs: 0,
  catalog: 0,
  org: 1,
  orgMode: 1,
  orgCapability: 2,
  platformOverride: 2,
  groupMappingsEnabled: 1,
  spendingPrecedence: 1,
  connectorPermissions: 1,
  spendCeiling: 1,
  primaryOwner: 1,
  orgBaseline: 1,

  members: 1,
  memberRole: 2,
  memberSeat: 2,
  memberStatus: 2,
  memberEmail: 2,
  memberLimit: 2,
  consoleRole: 2,
  userOrgs: 1,
  /** Members ever given a Console role that reaches every workspace (R51), an individual spend limit (indexes for
   *  organization-wide events). */
  workspaceWideMembers: 1,
  limitedMembers: 1,

  groups: 0,
  group: 1,
  groupName: 1,
  inGroup: 2,
  groupsOfUser: 1,
  usersOfGroup: 1,

  roles: 1,
  role: 2,
  roleName: 2,
  roleCapability: 3,
  roleAdmin: 3,
  roleConnector: 3,
  roleTool: 4,
  assigned: 3,
  rolesOfGroup: 2,
  mapping: 2,
  mappings: 1,

  connectors: 1,
  connector: 2,
  tools: 2,
  tool: 3,
  toolPolicy: 3,

  groupLimit: 2,
  /** Groups ever given a spend limit in an organization. */
  limitedGroups: 1,

  workspaces: 1,
  workspace: 2,
  workspaceRole: 3,
  workspacesOfUser: 2,
  /** Users ever given a role in a workspace. */
  usersOfWorkspace: 2,
  apiKeys: 1,
  apiKey: 3,
  apiKeyStatus: 3,
} as const;

type KeyOf<N extends number> = N extends 0
  ? FactKey
  : N extends 1
    ? (a: string) => FactKey
    : N extends 2
      ? (a: string, b: string) => FactKey
      : N extends 3
        ? (a: string, b: string, c: string) => FactKey
        : (a: string, b: string, c: string, d: string) => FactKey;

type Keys = { readonly [Kind in keyof typeof ARITY]: KeyOf<(typeof ARITY)[Kind]> };

function keysOf(step: (parent: number, segment: string) => number): Keys {
  // Fixed arities, no rest parameters: these run several times for every event folded.
  const out: Record<string, unknown> = {};
  for (const [kind, arity] of Object.entries(ARITY)) {
    const k = KEYS.kind(kind);
    const at = (parent: number, segment: string) => (parent < 0 ? NO_FACT : step(parent, segment));
    out[kind] =
      arity === 0
        ? k
        : arity === 1
          ? (a: string) => step(k, a)
          : arity === 2
            ? (a: string, b: string) => at(step(k, a), b)
            : arity === 3
              ? (a: string, b: string, c: string) => at(at(step(k, a), b), c)
              : (a: string, b: string, c: string, d: string) => at(at(at(step(k, a), b), c), d);
  }
  return out as Keys;
}

/**
 * The names facts are read by: a name never written is `NO_FACT` (-1), which has no versions and no items — so a
 * lookup of an unknown id (a request for a member that does not exist) adds nothing to the key space.
 */
export const lookupKey: Keys = keysOf((parent, segment) => KEYS.find(parent, segment));

/** The names facts are written by (evolve.ts): interned on first use. */
export const internKey: Keys = keysOf((parent, segment) => KEYS.child(parent, segment));

/**
 * The fact saying whether an item is still in a set, for the sets that have one (evolve.ts passes it to `addToSet`,
 * and a fact store loaded from a snapshot finds it here): a user's groups and a group's users (`inGroup`), the
 * members and groups with a spend limit (their limit; `null` ends it).
 */
export function membershipOfSet(set: FactKey): ((item: string) => FactKey) | undefined {
  const [kind, id] = KEYS.name(set).split('|') as [string, string];
  switch (kind) {
    case 'groupsOfUser':
      return (groupId) => internKey.inGroup(groupId, id);
    case 'usersOfGroup':
      return (userId) => internKey.inGroup(id, userId);
    case 'limitedMembers':
      return (userId) => internKey.memberLimit(id, userId);
    case 'limitedGroups':
      return (groupId) => internKey.groupLimit(id, groupId);
    default:
      return undefined;
  }
}

export type MemberStatus = 'active' | 'suspended' | 'removed';
export interface OrgFacts {
  readonly name: string;
  readonly dualSeat: boolean;
  readonly usageBased: boolean;
}
export interface GroupFacts {
  readonly source: 'manual' | 'scim';
}
export interface ApiKeyFacts {
  readonly name: string;
  readonly createdBy: string;
  readonly workspaceId: string;
}
