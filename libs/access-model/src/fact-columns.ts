import type { Actor } from './envelope.js';
import { StringTable, type FactKey } from './fact-keys.js';
import type { EventRef, Version, View } from './facts.js';

/**
 * How a fact store (facts.ts) lays out its events and versions in memory.
 *
 * Memory and speed: millions of events have to fit and be folded fast, so the store is columnar and keeps few
 * objects for the garbage collector to trace. Each event folded gets a sequence number and one row in typed arrays
 * (occurredAt, recordedAt, position, type, actor, its id packed in 16 bytes when it is a UUID). A fact is a small
 * integer (the only per-fact object is its key in the index); its versions are rows of other typed arrays, chained
 * from the newest back in (occurredAt, position) order, and a fact with many versions also gets an ordered array of
 * them for binary search. Set items remember the sequence number of the event that added them (a small integer, not
 * a boxed instant). The objects a reader sees (`Version`, `EventRef`) are made only when asked for.
 */

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

export function grow<A extends Float64Array | Uint32Array | Int32Array | Uint8Array>(a: A, n: number): A {
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
export class EventTable {
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

export class LazyVersion<V> implements Version<V> {
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
export const LONG_FACT = 8;

/** A fact store's columns: what facts.ts reads and writes, and what a snapshot (fact-snapshot.ts) holds. */
export interface FactColumns {
  table: EventTable;
  /** Fact key → this store's fact id. */
  index: Map<FactKey, number>;
  factIds: number;
  /** By fact id: its newest version in (occurredAt, position) order, and how many it has. */
  last: Int32Array<ArrayBuffer>;
  count: Uint32Array<ArrayBuffer>;
  /** By version: the event that wrote it, its value, and the version of the same fact just before it (-1: none). */
  vSeq: Uint32Array<ArrayBuffer>;
  vPrev: Int32Array<ArrayBuffer>;
  vValue: unknown[];
  /** Facts with more than LONG_FACT versions: their versions, oldest first. */
  long: Map<number, number[]>;
  /** Sets of ids ever seen under a key, each with the seq of the event that added it first in occurredAt order. */
  sets: Map<FactKey, Map<string, number>>;
  /** Every event's seq in (occurredAt, position) order. */
  order: number[];
  versionCount: number;
  maxPos: number;
}

/** A fact's versions, oldest first, by following the chain back from its newest. */
export function versionChain(last: Int32Array<ArrayBuffer>, vPrev: Int32Array<ArrayBuffer>, fact: number): number[] {
  const out: number[] = [];
  for (let v = last[fact]!; v >= 0; v = vPrev[v]!) out.push(v);
  return out.reverse();
}
