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
 */

/** The event behind a fact version: the link an explanation shows (§10). Shared by all facts the event writes. */
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

function isAfter(ev: EventRef, at: number, pos: number): boolean {
  return ev.at > at || (ev.at === at && ev.pos > pos);
}

function visible(ev: EventRef, view: View): boolean {
  if (ev.at > view.at) return false;
  if (view.beforePos !== undefined && ev.at === view.at && ev.pos >= view.beforePos) return false;
  return true;
}

export interface FactStoreSnapshot {
  readonly versions: Map<string, Version[]>;
  readonly sets: Map<string, Map<string, number>>;
  readonly versionCount: number;
  readonly log: EventRef[];
}

export class FactStore {
  private readonly versions = new Map<string, Version[]>();
  /** Sets of ids ever seen under a key (members of an org, groups of a user…), each with the first instant it appeared. */
  private readonly sets = new Map<string, Map<string, number>>();
  private versionCount = 0;
  /** Every event folded, in (occurredAt, position) order: what timelines name as the cause of a change. */
  private readonly log: EventRef[] = [];

  /** Plain data for a snapshot (v8.serialize keeps the sharing of EventRefs between versions). */
  toSnapshot(): FactStoreSnapshot {
    return { versions: this.versions, sets: this.sets, versionCount: this.versionCount, log: this.log };
  }

  static fromSnapshot(snapshot: FactStoreSnapshot): FactStore {
    const store = new FactStore();
    for (const [k, v] of snapshot.versions) store.versions.set(k, v);
    for (const [k, v] of snapshot.sets) store.sets.set(k, v);
    store.versionCount = snapshot.versionCount;
    for (const ev of snapshot.log) store.log.push(ev);
    return store;
  }

  get size(): { facts: number; versions: number; sets: number } {
    return { facts: this.versions.size, versions: this.versionCount, sets: this.sets.size };
  }

  write(key: string, value: unknown, ev: EventRef): void {
    const version: Version = { value, ev };
    this.versionCount++;
    const list = this.versions.get(key);
    if (list === undefined) {
      this.versions.set(key, [version]);
      return;
    }
    const last = list[list.length - 1]!.ev;
    if (isAfter(ev, last.at, last.pos)) {
      list.push(version);
      return;
    }
    // Late arrival (R61): insert where (occurredAt, position) puts it.
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (isAfter(ev, list[mid]!.ev.at, list[mid]!.ev.pos)) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, version);
  }

  /** Record that an event was folded (once per event, whatever it writes). */
  note(ev: EventRef): void {
    const log = this.log;
    if (log.length === 0 || isAfter(ev, log[log.length - 1]!.at, log[log.length - 1]!.pos)) {
      log.push(ev);
      return;
    }
    let lo = 0;
    let hi = log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (isAfter(ev, log[mid]!.at, log[mid]!.pos)) lo = mid + 1;
      else hi = mid;
    }
    log.splice(lo, 0, ev);
  }

  /** The events that took effect exactly at `at` (and were known by `knownAt`). */
  eventsAt(at: number, knownAt = Number.POSITIVE_INFINITY): EventRef[] {
    const log = this.log;
    let lo = 0;
    let hi = log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (log[mid]!.at < at) lo = mid + 1;
      else hi = mid;
    }
    const out: EventRef[] = [];
    for (let i = lo; i < log.length && log[i]!.at === at; i++) if (log[i]!.rec <= knownAt) out.push(log[i]!);
    return out;
  }

  /** The number of events folded. */
  get events(): number {
    return this.log.length;
  }

  addToSet(key: string, item: string, at: number): void {
    let set = this.sets.get(key);
    if (set === undefined) {
      set = new Map();
      this.sets.set(key, set);
    }
    const first = set.get(item);
    if (first === undefined || at < first) set.set(item, at);
  }

  /** The version of `key` in force in `view`, or undefined. */
  get<V>(key: string, view: View): Version<V> | undefined {
    const list = this.versions.get(key);
    if (list === undefined) return undefined;
    let i = list.length - 1;
    if (!visible(list[i]!.ev, view)) {
      // binary search: last index whose event is visible
      let lo = 0;
      let hi = i;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (visible(list[mid]!.ev, view)) lo = mid + 1;
        else hi = mid;
      }
      i = lo - 1;
    }
    while (i >= 0 && list[i]!.ev.rec > view.knownAt) i--;
    return i >= 0 ? (list[i] as Version<V>) : undefined;
  }

  /** Ids ever added to a set up to `view.at` (callers check each against the facts in force). */
  *items(key: string, view: View): IterableIterator<string> {
    const set = this.sets.get(key);
    if (set === undefined) return;
    for (const [item, first] of set) if (first <= view.at) yield item;
  }

  /** Every version of a fact (oldest first): for timelines and tests. */
  history<V>(key: string): readonly Version<V>[] {
    return (this.versions.get(key) ?? []) as Version<V>[];
  }

  /** The first instant after `t` (and ≤ `until`) at which `key` gets a version, or a set gets a new item. */
  nextChange(key: string, t: number, until: number, knownAt: number): number | undefined {
    let next: number | undefined;
    const list = this.versions.get(key);
    if (list !== undefined) {
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (list[mid]!.ev.at <= t) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo; i < list.length; i++) {
        const ev = list[i]!.ev;
        if (ev.at > until) break;
        if (ev.rec <= knownAt) {
          next = ev.at;
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
}

/**
 * Reads facts at one view, optionally recording every key it reads: the evaluator's dependencies, from which
 * timelines find the next instant an answer can change.
 */
export class FactReader {
  constructor(
    readonly facts: FactStore,
    readonly view: View,
    readonly deps?: Set<string>,
  ) {}

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
