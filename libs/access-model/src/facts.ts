import type { Actor } from './envelope.js';
import { EventTable, LONG_FACT, LazyVersion, grow, versionChain } from './fact-columns.js';
import { membershipOfSet, type FactKey, type SnapshotNames, type StringTable } from './fact-keys.js';
import { columnsOf, snapshotOf, type FactStoreSnapshot } from './fact-snapshot.js';

/**
 * The state every event folds into: a bitemporal fact store.
 *
 * Each event writes a few facts (`role|acme|r-cc|cap|claude_code = true`), and every fact keeps all its versions,
 * ordered by (occurredAt, global position) (R61: ties break on position). Reading a fact "at T, as known at K" (R60)
 * is a binary search for the last version with occurredAt ≤ T, skipping versions recorded after K. So:
 *
 *  - an event that arrives late (an import, a late SCIM sync) is inserted among the versions where it belongs, and
 *    every answer is as if events had arrived in occurredAt order (R61) — no replay, no snapshot to invalidate;
 *  - answering at any instant costs, for each fact read, a step back per version newer than the instant (facts
 *    with more than LONG_FACT versions: a binary search), never a fold of the history;
 *  - "now" is just T = K = +∞, whose lookup is the last version (O(1)).
 *
 * Which facts an event writes depends only on the event (evolve.ts), so insertion order does not change the result.
 * Facts are keyed by interned names (`FactKey`, fact-keys.ts).
 *
 * How the versions are laid out in memory: fact-columns.ts; the snapshot format: fact-snapshot.ts.
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

const NO_ITEMS: readonly string[] = [];

/** An item of a set whose membership fact's newest version ends it, and that version. */
interface Ended {
  readonly item: string;
  readonly seq: number;
}

/**
 * A set whose items each have a membership fact (a user's groups: `inGroup`): the items whose fact does not end
 * them for good, and those it does, by the instant of that end. Reading at an instant then skips every item that
 * left before it — what keeps a member's evaluation from growing with every group they ever left.
 */
interface MembershipIndex {
  /** Items whose membership fact's newest version is not an end (or that have none yet), with their first seq. */
  readonly live: Map<string, number>;
  /** Items whose newest version is an end: that entry (an entry of `byEnd` counts only while it is this one). */
  readonly ended: Map<string, Ended>;
  /** Every entry ever put in `ended`, by the instant of its end; stale ones are skipped, and dropped now and then. */
  byEnd: Ended[];
}

/** A membership fact's value that ends the item (no longer in the group, no limit any more). */
const ends = (value: unknown) => value === false || value === null;

export class FactStore {
  private table = new EventTable();
  /** Fact key → this store's fact id. */
  private index = new Map<FactKey, number>();
  private factIds = 0;
  /** By fact id: its newest version in (occurredAt, position) order, and how many it has. */
  private last = new Int32Array(1024);
  private count = new Uint32Array(1024);
  /** By version: the event that wrote it, its value, and the version of the same fact just before it (-1: none). */
  private vSeq = new Uint32Array(1024);
  private vPrev = new Int32Array(1024);
  private vValue: unknown[] = [];
  /** Facts with more than LONG_FACT versions: their versions, oldest first. */
  private long = new Map<number, number[]>();
  /** Sets of ids ever seen under a key (members of an org, groups of a user…), each with the seq of the event that
   *  added it first in occurredAt order. */
  private sets = new Map<FactKey, Map<string, number>>();
  /** By set: an instant at or after which every item of it was added (computed on first read, then kept up). */
  private setLatest = new Map<FactKey, number>();
  /** Sets whose items have a membership fact (`addToSet(…, membership)`), and from each such fact to its items. */
  private memberships = new Map<FactKey, MembershipIndex>();
  private membershipLinks = new Map<FactKey, [set: FactKey, item: string][]>();
  /**
   * Sets with membership facts whose index (`memberships`, `membershipLinks`) is not built: it is built at their first
   * `liveItems`, and until then nothing reads it and a membership fact that changes has nothing to refresh. A store
   * that only folds (the access projection: its queries read a few members' sets) never pays for the others — built
   * at every addToSet, the indexes doubled its heap on the benchmark history (316 → 751 MB) and slowed its rebuild
   * (16.2 → 28.8 s); the interval producer, which evaluates members all along, builds nearly all of them.
   */
  private unindexed = new Set<FactKey>();
  /** Every event's seq in (occurredAt, position) order: what timelines name as the cause of a change. */
  private order: number[] = [];
  private versionCount = 0;
  /** While speculating (group commit): the first speculative seq, the facts written and the set items added since. */
  private speculation: { firstSeq: number; maxPos: number; keys: FactKey[]; items: [FactKey, string, number | undefined][] } | undefined;
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

  private addVersion(seq: number, value: unknown, prev: number): number {
    const v = this.vValue.length;
    this.vSeq = grow(this.vSeq, v);
    this.vPrev = grow(this.vPrev, v);
    this.vSeq[v] = seq;
    this.vPrev[v] = prev;
    this.vValue.push(value);
    return v;
  }

  /** A fact's versions, oldest first. */
  private chain(fact: number): number[] {
    const long = this.long.get(fact);
    if (long !== undefined) return long;
    return versionChain(this.last, this.vPrev, fact);
  }

  write(key: FactKey, value: unknown, stamp: Stamp): void {
    this.writeVersion(key, value, stamp);
    const links = this.membershipLinks.get(key);
    if (links !== undefined) for (const [set, item] of links) this.refreshMembership(set, item, key);
  }

  private writeVersion(key: FactKey, value: unknown, stamp: Stamp): void {
    this.versionCount++;
    this.speculation?.keys.push(key);
    const t = this.table;
    let fact = this.index.get(key);
    if (fact === undefined) {
      fact = this.factIds++;
      this.index.set(key, fact);
      this.last = grow(this.last, fact);
      this.count = grow(this.count, fact);
      this.last[fact] = this.addVersion(stamp.seq, value, -1);
      this.count[fact] = 1;
      return;
    }
    const n = ++this.count[fact]!;
    const newest = this.last[fact]!;
    const newestSeq = this.vSeq[newest]!;
    if (t.after(stamp.seq, t.at[newestSeq]!, t.pos[newestSeq]!)) {
      const v = this.addVersion(stamp.seq, value, newest);
      this.last[fact] = v;
      const long = this.long.get(fact);
      if (long !== undefined) long.push(v);
      else if (n > LONG_FACT) this.long.set(fact, this.chain(fact));
      return;
    }
    // Late arrival (R61): linked in where (occurredAt, position) puts it.
    let next = newest;
    let prev = this.vPrev[newest]!;
    while (prev >= 0 && !t.after(stamp.seq, t.at[this.vSeq[prev]!]!, t.pos[this.vSeq[prev]!]!)) {
      next = prev;
      prev = this.vPrev[prev]!;
    }
    const v = this.addVersion(stamp.seq, value, prev);
    this.vPrev[next] = v;
    const long = this.long.get(fact);
    if (long !== undefined) long.splice(long.indexOf(next), 0, v);
    else if (n > LONG_FACT) this.long.set(fact, this.chain(fact));
  }

  /**
   * Adds `item` to the set `key` (kept for ever: sets are indexes, readers check each item against the facts). With
   * `membership`, the fact saying whether the item is still in the set (`true`/`false`, or a value/`null`): `liveItems`
   * then skips the item at instants after that fact ended it for good.
   */
  addToSet(key: FactKey, item: string, stamp: Stamp, membership?: FactKey): void {
    let set = this.sets.get(key);
    if (set === undefined) {
      set = new Map();
      this.sets.set(key, set);
    }
    const first = set.get(item);
    if (first === undefined || stamp.at < this.table.at[first]!) {
      this.speculation?.items.push([key, item, first]);
      set.set(item, stamp.seq);
      const latest = this.setLatest.get(key);
      if (latest !== undefined && stamp.at > latest) this.setLatest.set(key, stamp.at);
    }
    // A set not indexed yet gets the item with the others when it is (from the set and the facts as they are then).
    if (membership !== undefined) {
      if (this.memberships.has(key)) this.linkMembership(key, item, membership);
      else this.unindexed.add(key);
    }
  }

  private linkMembership(set: FactKey, item: string, membership: FactKey): void {
    if (!this.memberships.has(set)) this.memberships.set(set, { live: new Map(), ended: new Map(), byEnd: [] });
    let links = this.membershipLinks.get(membership);
    if (links === undefined) this.membershipLinks.set(membership, (links = []));
    if (!links.some(([s, i]) => s === set && i === item)) links.push([set, item]);
    this.refreshMembership(set, item, membership);
  }

  /** The event (seq) of the membership fact's newest version if that version ends the item for good, else -1. */
  private endingSeq(membership: FactKey): number {
    const fact = this.index.get(membership);
    const newest = fact === undefined ? -1 : this.last[fact]!;
    return newest < 0 || !ends(this.vValue[newest]) ? -1 : this.vSeq[newest]!;
  }

  /** Puts a set's item among the live or the ended ones, from its membership fact's newest version. */
  private refreshMembership(setKey: FactKey, item: string, membership: FactKey): void {
    const index = this.memberships.get(setKey)!;
    const first = this.sets.get(setKey)?.get(item);
    if (first === undefined) {
      // Taken back with a speculation: no longer an item.
      index.live.delete(item);
      index.ended.delete(item);
      return;
    }
    const seq = this.endingSeq(membership);
    if (seq < 0) {
      index.ended.delete(item);
      index.live.set(item, first);
      return;
    }
    index.live.delete(item);
    if (index.ended.get(item)?.seq === seq) return;
    const entry: Ended = { item, seq };
    index.ended.set(item, entry);
    const at = this.table.at;
    const byEnd = index.byEnd;
    if (byEnd.length === 0 || at[byEnd[byEnd.length - 1]!.seq]! <= at[seq]!) byEnd.push(entry);
    else {
      let lo = 0;
      let hi = byEnd.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (at[byEnd[mid]!.seq]! <= at[seq]!) lo = mid + 1;
        else hi = mid;
      }
      byEnd.splice(lo, 0, entry);
    }
    if (byEnd.length > 2 * index.ended.size + 16) index.byEnd = byEnd.filter((e) => index.ended.get(e.item) === e);
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
      const fact = this.index.get(key);
      if (fact === undefined) continue;
      const kept: number[] = [];
      for (const v of this.chain(fact)) {
        if (this.vSeq[v]! < first) kept.push(v);
        else this.vValue[v] = undefined; // an orphaned row: its value is released
      }
      this.versionCount -= this.count[fact]! - kept.length;
      if (kept.length === 0) {
        this.index.delete(key);
        this.long.delete(fact);
        continue;
      }
      for (let i = 0; i < kept.length; i++) this.vPrev[kept[i]!] = i === 0 ? -1 : kept[i - 1]!;
      this.last[fact] = kept[kept.length - 1]!;
      this.count[fact] = kept.length;
      if (kept.length > LONG_FACT) this.long.set(fact, kept);
      else this.long.delete(fact);
    }
    for (let i = spec.items.length - 1; i >= 0; i--) {
      const [key, item, previous] = spec.items[i]!;
      const set = this.sets.get(key)!;
      if (previous === undefined) set.delete(item);
      else set.set(item, previous);
      // setLatest stays an upper bound: the items left were added no later than it.
      if (set.size === 0) {
        this.sets.delete(key);
        this.setLatest.delete(key);
      }
    }
    for (const [key, item] of spec.items) {
      const index = this.memberships.get(key);
      if (index !== undefined && !this.sets.get(key)?.has(item)) {
        index.live.delete(item);
        index.ended.delete(item);
      }
    }
    for (const key of new Set(spec.keys)) {
      const links = this.membershipLinks.get(key);
      if (links !== undefined) for (const [set, item] of links) if (this.sets.get(set)?.has(item)) this.refreshMembership(set, item, key);
    }
    this.order = this.order.filter((seq) => seq < first);
    this.table.truncate(first);
    this.maxPos = spec.maxPos;
    this.speculation = undefined;
  }

  /** The version of `key` in force in `view`, or undefined. */
  get<V>(key: FactKey, view: View): Version<V> | undefined {
    const fact = this.index.get(key);
    if (fact === undefined) return undefined;
    const t = this.table;
    let v = this.last[fact]!;
    if (!t.visible(this.vSeq[v]!, view)) {
      const long = this.long.get(fact);
      if (long === undefined) {
        do v = this.vPrev[v]!;
        while (v >= 0 && !t.visible(this.vSeq[v]!, view));
      } else {
        let lo = 0;
        let hi = long.length - 1;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (t.visible(this.vSeq[long[mid]!]!, view)) lo = mid + 1;
          else hi = mid;
        }
        v = lo > 0 ? long[lo - 1]! : -1;
      }
    }
    while (v >= 0 && t.rec[this.vSeq[v]!]! > view.knownAt) v = this.vPrev[v]!;
    return v >= 0 ? new LazyVersion<V>(t, this.vSeq[v]!, this.vValue[v] as V) : undefined;
  }

  /** Has this fact ever been written (any instant, any knowledge)? */
  written(key: FactKey): boolean {
    return this.index.has(key);
  }

  /** Ids ever added to a set up to `view.at` (callers check each against the facts in force). */
  items(key: FactKey, view: View): IterableIterator<string> {
    const set = this.sets.get(key);
    if (set === undefined) return NO_ITEMS.values();
    let latest = this.setLatest.get(key);
    if (latest === undefined) {
      latest = Number.NEGATIVE_INFINITY;
      for (const first of set.values()) latest = Math.max(latest, this.table.at[first]!);
      this.setLatest.set(key, latest);
    }
    // Most reads are at or after the last addition: the set's own iterator, without a generator in between.
    if (view.at >= latest) return set.keys();
    return this.itemsUpTo(set, view.at);
  }

  private *itemsUpTo(set: Map<string, number>, upTo: number): IterableIterator<string> {
    const at = this.table.at;
    for (const [item, first] of set) if (at[first]! <= upTo) yield item;
  }

  /**
   * As `items`, without the items whose membership fact (`addToSet(…, membership)`) ended them for good before
   * `since` (default `view.at`; its newest version is an end, at an earlier instant, known by `view.knownAt`): they
   * are in the set at no instant from `since` on. A set without membership facts: `items`.
   */
  liveItems(key: FactKey, view: View, since = view.at): Iterable<string> {
    if (this.unindexed.delete(key)) {
      const set = this.sets.get(key);
      const membership = membershipOfSet(key);
      if (set !== undefined && membership !== undefined) this.indexSet(key, set, membership);
    }
    const index = this.memberships.get(key);
    if (index === undefined) return this.items(key, view);
    const at = this.table.at;
    const out: string[] = [];
    for (const [item, first] of index.live) if (at[first]! <= view.at) out.push(item);
    const byEnd = index.byEnd;
    const first = this.sets.get(key)!;
    if (view.knownAt === Number.POSITIVE_INFINITY) {
      for (let i = byEnd.length - 1; i >= 0; i--) {
        const e = byEnd[i]!;
        if (at[e.seq]! < since) break;
        if (index.ended.get(e.item) === e && at[first.get(e.item)!]! <= view.at) out.push(e.item);
      }
    } else {
      const rec = this.table.rec;
      for (const e of index.ended.values()) {
        if ((at[e.seq]! >= since || rec[e.seq]! > view.knownAt) && at[first.get(e.item)!]! <= view.at) out.push(e.item);
      }
    }
    return out;
  }

  /** Was `item` added to a set up to `view.at`? (As `items`, the caller checks it against the facts in force.) */
  inSet(key: FactKey, item: string, view: View): boolean {
    const first = this.sets.get(key)?.get(item);
    return first !== undefined && this.table.at[first]! <= view.at;
  }

  /** `inSet` at NOW (was `item` ever added to the set?), with the set looked up once for many items. */
  everAdded(key: FactKey): (item: string) => boolean {
    const set = this.sets.get(key);
    return set === undefined ? () => false : (item) => set.has(item);
  }

  /** Was anything added to a set up to `view.at`? */
  anyInSet(key: FactKey, view: View): boolean {
    const set = this.sets.get(key);
    if (set === undefined) return false;
    for (const first of set.values()) if (this.table.at[first]! <= view.at) return true;
    return false;
  }

  /** Every version of a fact (oldest first): for timelines and tests. */
  history<V>(key: FactKey): Version<V>[] {
    const fact = this.index.get(key);
    if (fact === undefined) return [];
    return this.chain(fact).map((v) => new LazyVersion<V>(this.table, this.vSeq[v]!, this.vValue[v] as V));
  }

  /** The first instant after `t` (and ≤ `until`) at which `key` gets a version, or a set gets a new item. */
  nextChange(key: FactKey, t: number, until: number, knownAt: number): number | undefined {
    let next: number | undefined;
    const fact = this.index.get(key);
    const table = this.table;
    if (fact !== undefined) {
      const list = this.chain(fact);
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (table.at[this.vSeq[list[mid]!]!]! <= t) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo; i < list.length; i++) {
        const seq = this.vSeq[list[i]!]!;
        if (table.at[seq]! > until) break;
        if (table.rec[seq]! <= knownAt) {
          next = table.at[seq]!;
          break;
        }
      }
    }
    const set = this.sets.get(key);
    if (set !== undefined) {
      for (const seq of set.values()) {
        const first = table.at[seq]!;
        if (first > t && first <= until && (next === undefined || first < next)) next = first;
      }
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

  /** The latest occurredAt of the events folded (ms), or -Infinity before the first. */
  get latestOccurredAt(): number {
    const order = this.order;
    return order.length === 0 ? Number.NEGATIVE_INFINITY : this.table.at[order[order.length - 1]!]!;
  }

  /** The number of events folded. */
  get events(): number {
    return this.table.length;
  }

  /** How much state there is (events folded are counted by `events`: a refusal is folded but changes no fact). */
  get size(): { facts: number; versions: number; sets: number } {
    return { facts: this.index.size, versions: this.versionCount, sets: this.sets.size };
  }

  /**
   * Plain data for a snapshot (fact-snapshot.ts); set items are entered into `strings`. Typed arrays are views of the
   * store's own (serializing a view writes only its bytes): serialize before the store changes.
   */
  toSnapshot(strings: StringTable): FactStoreSnapshot {
    if (this.speculation) throw new Error('cannot snapshot while a speculation is open');
    const { table, index, factIds, last, count, vSeq, vPrev, vValue, long, sets, order, versionCount, maxPos } = this;
    return snapshotOf({ table, index, factIds, last, count, vSeq, vPrev, vValue, long, sets, order, versionCount, maxPos }, strings);
  }

  /**
   * A store from a snapshot's data, sharing none of it (typed arrays are copied whole); `names` says what the
   * snapshot's keys and strings are in this process.
   */
  static fromSnapshot(snapshot: FactStoreSnapshot, names: SnapshotNames): FactStore {
    const store = new FactStore();
    const c = columnsOf(snapshot, names);
    store.table = c.table;
    store.index = c.index;
    store.factIds = c.factIds;
    store.last = c.last;
    store.count = c.count;
    store.vSeq = c.vSeq;
    store.vPrev = c.vPrev;
    store.vValue = c.vValue;
    store.long = c.long;
    store.sets = c.sets;
    store.order = c.order;
    store.versionCount = c.versionCount;
    store.maxPos = c.maxPos;
    // Which facts say whether an item is still in its set is not in a snapshot: it follows from the sets' names. Each
    // such set is indexed at its first read, as in a store folded from events (indexing them all here was a quarter of
    // a restart on the benchmark history, twice over: the access projection's store and the interval producer's).
    for (const key of store.sets.keys()) if (membershipOfSet(key) !== undefined) store.unindexed.add(key);
    return store;
  }

  /**
   * `linkMembership` for every item of a set not indexed yet: no link of it can be there already, and the ended items
   * are put in order once (a stable sort by the instant of their end: the order `refreshMembership` keeps, item after
   * item).
   */
  private indexSet(setKey: FactKey, set: ReadonlyMap<string, number>, membership: (item: string) => FactKey): void {
    const index: MembershipIndex = { live: new Map(), ended: new Map(), byEnd: [] };
    this.memberships.set(setKey, index);
    for (const [item, first] of set) {
      const key = membership(item);
      const links = this.membershipLinks.get(key);
      if (links === undefined) this.membershipLinks.set(key, [[setKey, item]]);
      else links.push([setKey, item]);
      const seq = this.endingSeq(key);
      if (seq < 0) {
        index.live.set(item, first);
        continue;
      }
      const entry: Ended = { item, seq };
      index.ended.set(item, entry);
      index.byEnd.push(entry);
    }
    const at = this.table.at;
    index.byEnd.sort((a, b) => at[a.seq]! - at[b.seq]!);
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
    readonly deps?: Set<FactKey>,
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

  get<V>(key: FactKey): Version<V> | undefined {
    this.deps?.add(key);
    return this.facts.get<V>(key, this.view);
  }

  value<V>(key: FactKey): V | undefined {
    return this.get<V>(key)?.value;
  }

  items(key: FactKey): IterableIterator<string> {
    this.deps?.add(key);
    return this.facts.items(key, this.view);
  }

  /** `items` without those whose membership fact ended them before the view (`FactStore.liveItems`). */
  liveItems(key: FactKey): Iterable<string> {
    this.deps?.add(key);
    return this.facts.liveItems(key, this.view);
  }

  at(view: View): FactReader {
    return new FactReader(this.facts, view, this.deps);
  }
}
