import type { Actor } from './envelope.js';
import { StringTable, type FactKey, type SnapshotNames } from './fact-keys.js';

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
 * Memory and speed: millions of events have to fit and be folded fast, so the store is columnar and keeps few
 * objects for the garbage collector to trace. Each event folded gets a sequence number and one row in typed arrays
 * (occurredAt, recordedAt, position, type, actor, its id packed in 16 bytes when it is a UUID). A fact is a small
 * integer (the only per-fact object is its key in the index); its versions are rows of other typed arrays, chained
 * from the newest back in (occurredAt, position) order, and a fact with many versions also gets an ordered array of
 * them for binary search. Set items remember the sequence number of the event that added them (a small integer, not
 * a boxed instant). The objects a reader sees (`Version`, `EventRef`) are made only when asked for.
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

/** Interns actors: members by organization and user (no key string built per event), the others by kind. */
class ActorInterner {
  readonly values: Actor[] = [];
  private readonly members = new Map<string, Map<string, number>>();
  private readonly others = new Map<string, number>();

  intern(actor: Actor): number {
    let index: Map<string, number> | undefined;
    let key: string;
    if (actor.kind === 'member') {
      index = this.members.get(actor.orgId);
      if (index === undefined) {
        index = new Map();
        this.members.set(actor.orgId, index);
      }
      key = actor.userId;
    } else {
      index = this.others;
      key = actor.kind;
    }
    let i = index.get(key);
    if (i === undefined) {
      i = this.values.length;
      this.values.push(actor);
      index.set(key, i);
    }
    return i;
  }
}

function grow<A extends Float64Array | Uint32Array | Int32Array | Uint8Array>(a: A, n: number): A {
  if (n < a.length) return a;
  const b = new (a.constructor as new (n: number) => A)(Math.max(1024, a.length * 2));
  b.set(a);
  return b;
}

const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;
const HEX_DIGIT = '0123456789abcdef';

/** A canonical lowercase UUID into 16 bytes at `offset`; false for any other id (the bytes are then meaningless). */
function packUuid(id: string, out: Uint8Array, offset: number): boolean {
  if (id.length !== 36) return false;
  let j = offset;
  for (let i = 0; i < 36; ) {
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (id.charCodeAt(i) !== 45) return false;
      i++;
      continue;
    }
    const c1 = id.charCodeAt(i);
    const c2 = id.charCodeAt(i + 1);
    const hi = c1 < 128 ? HEX_VALUE[c1]! : -1;
    const lo = c2 < 128 ? HEX_VALUE[c2]! : -1;
    if (hi < 0 || lo < 0) return false;
    out[j++] = (hi << 4) | lo;
    i += 2;
  }
  return true;
}

function unpackUuid(bytes: Uint8Array, offset: number): string {
  let id = '';
  for (let k = 0; k < 16; k++) {
    if (k === 4 || k === 6 || k === 8 || k === 10) id += '-';
    const b = bytes[offset + k]!;
    id += HEX_DIGIT[b >> 4]! + HEX_DIGIT[b & 15]!;
  }
  return id;
}

/** Sequence-numbered events: one row each, in typed arrays. */
class EventTable {
  at = new Float64Array(1024);
  rec = new Float64Array(1024);
  pos = new Float64Array(1024);
  kind = new Uint32Array(1024); // type index << 20 | actor index: up to 4 096 types, 1 048 576 actors
  /** Event ids that are UUIDs, 16 bytes each (a string per event would be millions of objects to trace). */
  idBytes = new Uint8Array(16 * 1024);
  /** The other ids (imported events may carry their own). */
  otherIds = new Map<number, string>();
  count = 0;
  /** Types are interned, so a row holds a small index, not a copy. */
  readonly types = new StringTable();
  readonly actors = new ActorInterner();

  get length(): number {
    return this.count;
  }

  add(id: string, type: string, actor: Actor, at: number, rec: number, pos: number): number {
    const seq = this.count++;
    this.at = grow(this.at, seq);
    this.rec = grow(this.rec, seq);
    this.pos = grow(this.pos, seq);
    this.kind = grow(this.kind, seq);
    this.idBytes = grow(this.idBytes, seq * 16 + 15);
    this.at[seq] = at;
    this.rec[seq] = rec;
    this.pos[seq] = pos;
    const t = this.types.id(type);
    const a = this.actors.intern(actor);
    this.kind[seq] = (t << 20) | a;
    if (!packUuid(id, this.idBytes, seq * 16)) this.otherIds.set(seq, id);
    return seq;
  }

  id(seq: number): string {
    return this.otherIds.get(seq) ?? unpackUuid(this.idBytes, seq * 16);
  }

  truncate(length: number): void {
    for (let seq = length; seq < this.count; seq++) this.otherIds.delete(seq);
    this.count = length;
  }

  ref(seq: number): EventRef {
    const kind = this.kind[seq]!;
    const at = this.at[seq]!;
    return {
      eventId: this.id(seq),
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

/** A fact with more versions than this also keeps them in an ordered array, for binary search at an instant. */
const LONG_FACT = 8;

/**
 * A fact store as plain data, cheap to serialize: typed arrays, and strings only where they are values. Fact keys are
 * this process's (`KEYS.toSnapshot` goes with them) and set items are ids into the snapshot's strings.
 */
export interface FactStoreSnapshot {
  readonly events: {
    at: Float64Array;
    rec: Float64Array;
    pos: Float64Array;
    kind: Uint32Array;
    idBytes: Uint8Array;
    otherIds: Map<number, string>;
    types: string[];
    actors: Actor[];
  };
  readonly facts: {
    /** (key, fact id) pairs. */
    index: Int32Array;
    ids: number;
    last: Int32Array;
    count: Uint32Array;
    seq: Uint32Array;
    prev: Int32Array;
    values: unknown[];
  };
  /** Set i is `keys[i]`, with `sizes[i]` (item, seq) entries, one set after another in `items`/`seqs`. */
  readonly sets: { keys: Int32Array; sizes: Int32Array; items: Int32Array; seqs: Int32Array };
  readonly order: Int32Array;
  readonly versionCount: number;
}

export class FactStore {
  private table = new EventTable();
  /** Fact key → this store's fact id. */
  private readonly index = new Map<FactKey, number>();
  private factIds = 0;
  /** By fact id: its newest version in (occurredAt, position) order, and how many it has. */
  private last = new Int32Array(1024);
  private count = new Uint32Array(1024);
  /** By version: the event that wrote it, its value, and the version of the same fact just before it (-1: none). */
  private vSeq = new Uint32Array(1024);
  private vPrev = new Int32Array(1024);
  private vValue: unknown[] = [];
  /** Facts with more than LONG_FACT versions: their versions, oldest first. */
  private readonly long = new Map<number, number[]>();
  /** Sets of ids ever seen under a key (members of an org, groups of a user…), each with the seq of the event that
   *  added it first in occurredAt order. */
  private readonly sets = new Map<FactKey, Map<string, number>>();
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
    const out: number[] = [];
    for (let v = this.last[fact]!; v >= 0; v = this.vPrev[v]!) out.push(v);
    return out.reverse();
  }

  write(key: FactKey, value: unknown, stamp: Stamp): void {
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

  addToSet(key: FactKey, item: string, stamp: Stamp): void {
    let set = this.sets.get(key);
    if (set === undefined) {
      set = new Map();
      this.sets.set(key, set);
    }
    const first = set.get(item);
    if (first === undefined || stamp.at < this.table.at[first]!) {
      this.speculation?.items.push([key, item, first]);
      set.set(item, stamp.seq);
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
      if (set.size === 0) this.sets.delete(key);
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
  *items(key: FactKey, view: View): IterableIterator<string> {
    const set = this.sets.get(key);
    if (set === undefined) return;
    const at = this.table.at;
    for (const [item, first] of set) if (at[first]! <= view.at) yield item;
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
   * Plain data for a snapshot (see FactStoreSnapshot); set items are entered into `strings`. Typed arrays are views
   * of the store's own (serializing a view writes only its bytes): serialize before the store changes.
   */
  toSnapshot(strings: StringTable): FactStoreSnapshot {
    if (this.speculation) throw new Error('cannot snapshot while a speculation is open');
    const t = this.table;
    const n = t.length;
    const versions = this.vValue.length;
    const index = new Int32Array(this.index.size * 2);
    let i = 0;
    this.index.forEach((fact, key) => {
      index[i++] = key;
      index[i++] = fact;
    });
    let entries = 0;
    for (const set of this.sets.values()) entries += set.size;
    const sets = { keys: new Int32Array(this.sets.size), sizes: new Int32Array(this.sets.size), items: new Int32Array(entries), seqs: new Int32Array(entries) };
    let s = 0;
    let e = 0;
    this.sets.forEach((set, key) => {
      sets.keys[s] = key;
      sets.sizes[s++] = set.size;
      set.forEach((seq, item) => {
        sets.items[e] = strings.id(item);
        sets.seqs[e++] = seq;
      });
    });
    return {
      events: {
        at: t.at.subarray(0, n),
        rec: t.rec.subarray(0, n),
        pos: t.pos.subarray(0, n),
        kind: t.kind.subarray(0, n),
        idBytes: t.idBytes.subarray(0, n * 16),
        otherIds: t.otherIds,
        types: t.types.values,
        actors: t.actors.values,
      },
      facts: {
        index,
        ids: this.factIds,
        last: this.last.subarray(0, this.factIds),
        count: this.count.subarray(0, this.factIds),
        seq: this.vSeq.subarray(0, versions),
        prev: this.vPrev.subarray(0, versions),
        values: this.vValue,
      },
      sets,
      order: new Int32Array(this.order),
      versionCount: this.versionCount,
    };
  }

  /**
   * A store from a snapshot's data, sharing none of it (typed arrays are copied whole); `names` says what the
   * snapshot's keys and strings are in this process.
   */
  static fromSnapshot(snapshot: FactStoreSnapshot, names: SnapshotNames): FactStore {
    const store = new FactStore();
    const t = store.table;
    const e = snapshot.events;
    for (const type of e.types) t.types.id(type);
    for (const actor of e.actors) t.actors.intern(actor);
    t.at = new Float64Array(e.at);
    t.rec = new Float64Array(e.rec);
    t.pos = new Float64Array(e.pos);
    t.kind = new Uint32Array(e.kind);
    t.idBytes = new Uint8Array(e.idBytes);
    t.otherIds = new Map(e.otherIds);
    t.count = e.at.length;
    const f = snapshot.facts;
    for (let i = 0; i < f.index.length; i += 2) store.index.set(names.keys[f.index[i]!]! as FactKey, f.index[i + 1]!);
    store.factIds = f.ids;
    store.last = new Int32Array(f.last);
    store.count = new Uint32Array(f.count);
    store.vSeq = new Uint32Array(f.seq);
    store.vPrev = new Int32Array(f.prev);
    store.vValue = f.values.slice();
    for (const fact of store.index.values()) if (store.count[fact]! > LONG_FACT) store.long.set(fact, store.chain(fact));
    const sets = snapshot.sets;
    let entry = 0;
    for (let s = 0; s < sets.keys.length; s++) {
      const set = new Map<string, number>();
      for (const end = entry + sets.sizes[s]!; entry < end; entry++) set.set(names.strings[sets.items[entry]!]!, sets.seqs[entry]!);
      store.sets.set(names.keys[sets.keys[s]!]! as FactKey, set);
    }
    store.order = Array.from(snapshot.order);
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

  at(view: View): FactReader {
    return new FactReader(this.facts, view, this.deps);
  }
}
