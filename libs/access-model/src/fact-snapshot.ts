import type { Actor } from './envelope.js';
import { EventTable, LONG_FACT, versionChain, type FactColumns } from './fact-columns.js';
import type { FactKey, SnapshotNames, StringTable } from './fact-keys.js';

// The snapshot format of a fact store (facts.ts): its columns (fact-columns.ts) as plain data. The access projection
// writes it with v8 serialization, beside a format version it checks when it loads one.

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

/**
 * Plain data for a snapshot of `c`; set items are entered into `strings`. Typed arrays are views of the store's own
 * (serializing a view writes only its bytes): serialize before the store changes.
 */
export function snapshotOf(c: FactColumns, strings: StringTable): FactStoreSnapshot {
  const t = c.table;
  const n = t.length;
  const versions = c.vValue.length;
  const index = new Int32Array(c.index.size * 2);
  let i = 0;
  c.index.forEach((fact, key) => {
    index[i++] = key;
    index[i++] = fact;
  });
  let entries = 0;
  for (const set of c.sets.values()) entries += set.size;
  const sets = { keys: new Int32Array(c.sets.size), sizes: new Int32Array(c.sets.size), items: new Int32Array(entries), seqs: new Int32Array(entries) };
  let s = 0;
  let e = 0;
  c.sets.forEach((set, key) => {
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
      ids: c.factIds,
      last: c.last.subarray(0, c.factIds),
      count: c.count.subarray(0, c.factIds),
      seq: c.vSeq.subarray(0, versions),
      prev: c.vPrev.subarray(0, versions),
      values: c.vValue,
    },
    sets,
    order: new Int32Array(c.order),
    versionCount: c.versionCount,
  };
}

/**
 * A store's columns from a snapshot's data, sharing none of it (typed arrays are copied whole); `names` says what
 * the snapshot's keys and strings are in this process.
 */
export function columnsOf(snapshot: FactStoreSnapshot, names: SnapshotNames): FactColumns {
  const t = new EventTable();
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
  const index = new Map<FactKey, number>();
  for (let i = 0; i < f.index.length; i += 2) index.set(names.keys[f.index[i]!]! as FactKey, f.index[i + 1]!);
  const last = new Int32Array(f.last);
  const count = new Uint32Array(f.count);
  const vPrev = new Int32Array(f.prev);
  const long = new Map<number, number[]>();
  for (const fact of index.values()) if (count[fact]! > LONG_FACT) long.set(fact, versionChain(last, vPrev, fact));
  const sets = new Map<FactKey, Map<string, number>>();
  let entry = 0;
  for (let s = 0; s < snapshot.sets.keys.length; s++) {
    const set = new Map<string, number>();
    for (const end = entry + snapshot.sets.sizes[s]!; entry < end; entry++) set.set(names.strings[snapshot.sets.items[entry]!]!, snapshot.sets.seqs[entry]!);
    sets.set(names.keys[snapshot.sets.keys[s]!]! as FactKey, set);
  }
  let maxPos = 0;
  for (let i = 0; i < e.pos.length; i++) if (e.pos[i]! > maxPos) maxPos = e.pos[i]!;
  return {
    table: t,
    index,
    factIds: f.ids,
    last,
    count,
    vSeq: new Uint32Array(f.seq),
    vPrev,
    vValue: f.values.slice(),
    long,
    sets,
    order: Array.from(snapshot.order),
    versionCount: snapshot.versionCount,
    maxPos,
  };
}
