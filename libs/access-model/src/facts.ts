import type { Actor } from './envelope.js';

/**
 * The state every event folds into: a bitemporal fact store.
 *
 * Each event writes a few facts (`role|acme|r-cc|cap|claude_code = true`), and every fact keeps all its versions,
 * ordered by (occurredAt, global position) (R61: ties break on position). Reading a fact "at T, as known at K" (R60)
 * is a binary search for the last version with occurredAt ≤ T, skipping versions recorded after K. So:
 *
 *  - an event that arrives late (an import, a late SCIM sync) is inserted among the versions where it belongs, and
 *    every answer is as if events had arrived in occurredAt order (R61) — no replay, no snapshot to invalidate;
 *  - answering at any instant costs O(facts read × log versions of each), never a fold of the history;
 *  - "now" is just T = K = +∞, whose lookup is the last version (O(1)).
 *
 * Which facts an event writes depends only on the event (evolve.ts), so insertion order does not change the result.
 * Facts are keyed by strings joined with `|`, which no id may contain (ids are [A-Za-z0-9._:@-]).
 *
 * Memory: millions of events have to fit, so the store is columnar. Each event folded gets a sequence number and
 * one row in typed arrays (occurredAt, recordedAt, position, type, actor); a fact's versions are one flat array of
 * (sequence, value) pairs. The objects a reader sees (`Version`, `EventRef`) are made only when asked for.
 */

/** The event behind a fact version: the link an explanation shows (§10). */
export interface EventRef {
  readonly eventId: string;
  readonly type: string;
  readonly occurredAt: string;
  readonly actor: Actor;
  /** occurredAt in ms since the epoch */
  readonly at: number;
  /** global store position (tie-break, R61) */
  readonly pos: number;
  /** recordedAt in ms since the epoch (R60 knownAt) */
  readonly rec: number;
}

/** What evolve needs of the event it folds: its row in the store and its instant. */
export interface Stamp {
  readonly seq: number;
  readonly at: number;
  readonly pos: number;
}

export interface Version<V = unknown> {
  readonly value: V;
  readonly ev: EventRef;
}

/** An instant to read at: occurredAt ≤ at, recordedAt ≤ knownAt; optionally strictly before position `beforePos` at `at`. */
export interface View {
  readonly at: number;
  readonly knownAt: number;
  readonly beforePos?: number;
}

export const NOW: View = { at: Number.POSITIVE_INFINITY, knownAt: Number.POSITIVE_INFINITY };

/** Interns the strings events repeat (types, actors) so a row holds a small index, not a copy. */
class Interner<T> {
  readonly values: T[] = [];
  private readonly index = new Map<string, number>();

  intern(key: string, value: () => T): number {
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.values.length;
      this.values.push(value());
      this.index.set(key, i);
    }
    return i;
  }
}

function grow<A extends Float64Array | Uint32Array>(a: A, n: number): A {
  if (n < a.length) return a;
  const b = new (a.constructor as new (n: number) => A)(Math.max(1024, a.length * 2));
  b.set(a);
  return b;
}

/** Sequence-numbered events: one row each, in typed arrays. */
class EventTable {
  at = new Float64Array(1024);
  rec = new Float64Array(1024);
  pos = new Float64Array(1024);
  kind = new Uint32Array(1024); // type index << 20 | actor index: up to 4 096 types, 1 048 576 actors
  ids: string[] = [];
  readonly types = new Interner<string>();
  readonly actors = new Interner<Actor>();

  get length(): number {
    return this.ids.length;
  }

  add(id: string, type: string, actor: Actor, at: number, rec: number, pos: number): number {
    const seq = this.ids.length;
    this.at = grow(this.at, seq);
    this.rec = grow(this.rec, seq);
    this.pos = grow(this.pos, seq);
    this.kind = grow(this.kind, seq);
    this.at[seq] = at;
    this.rec[seq] = rec;
    this.pos[seq] = pos;
    const t = this.types.intern(type, () => type);
    const a = this.actors.intern(actor.kind === 'member' ? `member|${actor.orgId}|${actor.userId}` : actor.kind, () => actor);
    this.kind[seq] = (t << 20) | a;
    this.ids.push(id);
    return seq;
  }

  truncate(length: number): void {
    this.ids.length = length;
  }

  ref(seq: number): EventRef {
    const kind = this.kind[seq]!;
    const at = this.at[seq]!;
    return {
      eventId: this.ids[seq]!,
      type: this.types.values[kind >>> 20]!,
      occurredAt: new Date(at).toISOString(),
      actor: this.actors.values[kind & 0xfffff]!,
      at,
      pos: this.pos[seq]!,
      rec: this.rec[seq]!,
    };
  }

  /** Does event `a` come after (at, pos) in (occurredAt, position) order? */
  after(a: number, at: number, pos: number): boolean {
    const x = this.at[a]!;
    return x > at || (x === at && this.pos[a]! > pos);
  }

  visible(seq: number, view: View): boolean {
    const at = this.at[seq]!;
    if (at > view.at) return false;
    if (view.beforePos !== undefined && at === view.at && this.pos[seq]! >= view.beforePos) return false;
    return true;
  }
}

class LazyVersion<V> implements Version<V> {
  constructor(
    private readonly table: EventTable,
    private readonly seq: number,
    readonly value: V,
  ) {}

  get ev(): EventRef {
    return this.table.ref(this.seq);
  }
}

/** A fact's versions: [seq0, value0, seq1, value1, …] in (occurredAt, position) order. */
type Versions = unknown[];

export interface FactStoreSnapshot {
  readonly events: { at: Float64Array; rec: Float64Array; pos: Float64Array; kind: Uint32Array; ids: string[]; types: string[]; actors: Actor[] };
  readonly versions: Map<string, Versions>;
  readonly sets: Map<string, Map<string, number>>;
  readonly order: number[];
  readonly versionCount: number;
}

export class FactStore {
  private table = new EventTable();
  private readonly versions = new Map<string, Versions>();
  /** Sets of ids ever seen under a key (members of an org, groups of a user…), each with the first instant it appeared. */
  private readonly sets = new Map<string, Map<string, number>>();
  /** Every event's seq in (occurredAt, position) order: what timelines name as the cause of a change. */
  private order: number[] = [];
  private versionCount = 0;
  /** While speculating (group commit): the first speculative seq, the facts written and the set items added since. */
  private speculation: { firstSeq: number; maxPos: number; keys: string[]; items: [string, string, number | undefined][] } | undefined;
  private maxPos = 0;

  /** Record an event about to be folded; returns the stamp its facts are written with. */
  note(id: string, type: string, actor: Actor, at: number, rec: number, pos: number): Stamp {
    const t = this.table;
    const seq = t.add(id, type, actor, at, rec, pos);
    if (pos > this.maxPos) this.maxPos = pos;
    const order = this.order;
    if (order.length === 0 || t.after(seq, t.at[order[order.length - 1]!]!, t.pos[order[order.length - 1]!]!)) {
      order.push(seq);
    } else {
      let lo = 0;
      let hi = order.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (t.after(seq, t.at[order[mid]!]!, t.pos[order[mid]!]!)) lo = mid + 1;
        else hi = mid;
      }
      order.splice(lo, 0, seq);
    }
    return { seq, at, pos };
  }

  write(key: string, value: unknown, stamp: Stamp): void {
    this.versionCount++;
    this.speculation?.keys.push(key);
    const list = this.versions.get(key);
    if (list === undefined) {
      this.versions.set(key, [stamp.seq, value]);
      return;
    }
    const t = this.table;
    const lastSeq = list[list.length - 2] as number;
    if (t.after(stamp.seq, t.at[lastSeq]!, t.pos[lastSeq]!)) {
      list.push(stamp.seq, value);
      return;
    }
    // Late arrival (R61): insert where (occurredAt, position) puts it.
    let lo = 0;
    let hi = list.length / 2;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const s = list[mid * 2] as number;
      if (t.after(stamp.seq, t.at[s]!, t.pos[s]!)) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo * 2, 0, stamp.seq, value);
  }

  addToSet(key: string, item: string, at: number): void {
    let set = this.sets.get(key);
    if (set === undefined) {
      set = new Map();
      this.sets.set(key, set);
    }
    const first = set.get(item);
    if (first === undefined || at < first) {
      this.speculation?.items.push([key, item, first]);
      set.set(item, at);
    }
  }

  /** The highest store position folded so far. */
  get lastPosition(): number {
    return this.maxPos;
  }

  /**
   * Group commit: events folded from here on are provisional — decided and folded before they are stored, so that
   * the next command of the batch is decided against them — until `commitSpeculation` gives them their store
   * positions or `rollbackSpeculation` removes every trace of them (the append failed).
   */
  beginSpeculation(): void {
    if (this.speculation) throw new Error('a speculation is already open');
    this.speculation = { firstSeq: this.table.length, maxPos: this.maxPos, keys: [], items: [] };
  }

  get speculating(): boolean {
    return this.speculation !== undefined;
  }

  commitSpeculation(positions: readonly number[]): void {
    const spec = this.speculation;
    if (!spec) throw new Error('no speculation is open');
    if (positions.length !== this.table.length - spec.firstSeq) throw new Error('one position per speculative event is needed');
    // Store positions are larger than every earlier one and keep the batch's order, as the provisional ones did,
    // so no version moves.
    for (let i = 0; i < positions.length; i++) this.table.pos[spec.firstSeq + i] = positions[i]!;
    for (const p of positions) if (p > this.maxPos) this.maxPos = p;
    this.speculation = undefined;
  }

  rollbackSpeculation(): void {
    const spec = this.speculation;
    if (!spec) throw new Error('no speculation is open');
    const first = spec.firstSeq;
    for (const key of new Set(spec.keys)) {
      const list = this.versions.get(key);
      if (!list) continue;
      const kept: unknown[] = [];
      for (let i = 0; i < list.length; i += 2) if ((list[i] as number) < first) kept.push(list[i], list[i + 1]);
      this.versionCount -= (list.length - kept.length) / 2;
      if (kept.length === 0) this.versions.delete(key);
      else this.versions.set(key, kept);
    }
    for (let i = spec.items.length - 1; i >= 0; i--) {
      const [key, item, previous] = spec.items[i]!;
      const set = this.sets.get(key)!;
      if (previous === undefined) set.delete(item);
      else set.set(item, previous);
      if (set.size === 0) this.sets.delete(key);
    }
    this.order = this.order.filter((seq) => seq < first);
    this.table.truncate(first);
    this.maxPos = spec.maxPos;
    this.speculation = undefined;
  }

  /** The version of `key` in force in `view`, or undefined. */
  get<V>(key: string, view: View): Version<V> | undefined {
    const list = this.versions.get(key);
    if (list === undefined) return undefined;
    const t = this.table;
    let i = list.length / 2 - 1;
    if (!t.visible(list[i * 2] as number, view)) {
      let lo = 0;
      let hi = i;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (t.visible(list[mid * 2] as number, view)) lo = mid + 1;
        else hi = mid;
      }
      i = lo - 1;
    }
    while (i >= 0 && t.rec[list[i * 2] as number]! > view.knownAt) i--;
    return i >= 0 ? new LazyVersion<V>(t, list[i * 2] as number, list[i * 2 + 1] as V) : undefined;
  }

  /** Has this fact ever been written (any instant, any knowledge)? */
  written(key: string): boolean {
    return this.versions.has(key);
  }

  /** Ids ever added to a set up to `view.at` (callers check each against the facts in force). */
  *items(key: string, view: View): IterableIterator<string> {
    const set = this.sets.get(key);
    if (set === undefined) return;
    for (const [item, first] of set) if (first <= view.at) yield item;
  }

  /** Every version of a fact (oldest first): for timelines and tests. */
  history<V>(key: string): Version<V>[] {
    const list = this.versions.get(key);
    if (list === undefined) return [];
    const out: Version<V>[] = [];
    for (let i = 0; i < list.length; i += 2) out.push(new LazyVersion<V>(this.table, list[i] as number, list[i + 1] as V));
    return out;
  }

  /** The first instant after `t` (and ≤ `until`) at which `key` gets a version, or a set gets a new item. */
  nextChange(key: string, t: number, until: number, knownAt: number): number | undefined {
    let next: number | undefined;
    const list = this.versions.get(key);
    const table = this.table;
    if (list !== undefined) {
      let lo = 0;
      let hi = list.length / 2;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (table.at[list[mid * 2] as number]! <= t) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo; i < list.length / 2; i++) {
        const seq = list[i * 2] as number;
        if (table.at[seq]! > until) break;
        if (table.rec[seq]! <= knownAt) {
          next = table.at[seq]!;
          break;
        }
      }
    }
    const set = this.sets.get(key);
    if (set !== undefined) {
      for (const first of set.values()) if (first > t && first <= until && (next === undefined || first < next)) next = first;
    }
    return next;
  }

  /** The events that took effect exactly at `at` (and were known by `knownAt`). */
  eventsAt(at: number, knownAt = Number.POSITIVE_INFINITY): EventRef[] {
    const { order, table } = this;
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (table.at[order[mid]!]! < at) lo = mid + 1;
      else hi = mid;
    }
    const out: EventRef[] = [];
    for (let i = lo; i < order.length && table.at[order[i]!] === at; i++) {
      if (table.rec[order[i]!]! <= knownAt) out.push(table.ref(order[i]!));
    }
    return out;
  }

  /** The number of events folded. */
  get events(): number {
    return this.table.length;
  }

  /** How much state there is (events folded are counted by `events`: a refusal is folded but changes no fact). */
  get size(): { facts: number; versions: number; sets: number } {
    return { facts: this.versions.size, versions: this.versionCount, sets: this.sets.size };
  }

  /** Plain data for a snapshot (typed arrays and flat arrays: cheap to serialize). */
  toSnapshot(): FactStoreSnapshot {
    if (this.speculation) throw new Error('cannot snapshot while a speculation is open');
    const t = this.table;
    const n = t.length;
    return {
      events: { at: t.at.subarray(0, n), rec: t.rec.subarray(0, n), pos: t.pos.subarray(0, n), kind: t.kind.subarray(0, n), ids: t.ids, types: t.types.values, actors: t.actors.values },
      versions: this.versions,
      sets: this.sets,
      order: this.order,
      versionCount: this.versionCount,
    };
  }

  static fromSnapshot(snapshot: FactStoreSnapshot): FactStore {
    const store = new FactStore();
    const t = store.table;
    const e = snapshot.events;
    for (let i = 0; i < e.types.length; i++) t.types.intern(e.types[i]!, () => e.types[i]!);
    for (const actor of e.actors) t.actors.intern(actor.kind === 'member' ? `member|${actor.orgId}|${actor.userId}` : actor.kind, () => actor);
    t.at = Float64Array.from(e.at);
    t.rec = Float64Array.from(e.rec);
    t.pos = Float64Array.from(e.pos);
    t.kind = Uint32Array.from(e.kind);
    t.ids = e.ids;
    for (const [k, v] of snapshot.versions) store.versions.set(k, v);
    for (const [k, v] of snapshot.sets) store.sets.set(k, v);
    for (const seq of snapshot.order) store.order.push(seq);
    store.versionCount = snapshot.versionCount;
    for (let i = 0; i < e.pos.length; i++) if (e.pos[i]! > store.maxPos) store.maxPos = e.pos[i]!;
    return store;
  }
}

/**
 * Reads facts at one view, optionally recording every key it reads: the evaluator's dependencies, from which
 * timelines find the next instant an answer can change.
 */
export class FactReader {
  private memos: Map<string, unknown> | undefined;

  constructor(
    readonly facts: FactStore,
    readonly view: View,
    readonly deps?: Set<string>,
  ) {}

  /**
   * A value derived from facts, computed once per reader: answers about many members at one instant (holders,
   * reviews) share what they have in common, such as the roles a group holds. Not memoized while recording
   * dependencies, so that every evaluation records every fact it depends on.
   */
  memo<T>(key: string, compute: () => T): T {
    if (this.deps) return compute();
    const memos = (this.memos ??= new Map());
    if (memos.has(key)) return memos.get(key) as T;
    const value = compute();
    memos.set(key, value);
    return value;
  }

  get<V>(key: string): Version<V> | undefined {
    this.deps?.add(key);
    return this.facts.get<V>(key, this.view);
  }

  value<V>(key: string): V | undefined {
    return this.get<V>(key)?.value;
  }

  items(key: string): IterableIterator<string> {
    this.deps?.add(key);
    return this.facts.items(key, this.view);
  }

  at(view: View): FactReader {
    return new FactReader(this.facts, view, this.deps);
  }
}
