import { createHash } from 'node:crypto';
import type { ChainVerification, JsonValue, RecordedEvent } from './port.js';

/**
 * The hash chain that makes every stream tamper-evident.
 *
 *   hash = sha256hex(prevHash + canonical({ streamId, revision, id, type, data, metadata }))
 *
 * with prevHash = 64 zeros for revision 0. The revision and the stream id are inside the hashed
 * form, so moving an event to another place of the chain breaks it as surely as editing it.
 * Both adapters compute the chain the same way and verify it with the same `verifyEvents`.
 */

export const GENESIS_HASH = '0'.repeat(64);

/** The part of an event the chain covers: everything but its position and its own hashes. */
export interface ChainedContent {
  readonly streamId: string;
  readonly revision: number;
  readonly id: string;
  readonly type: string;
  readonly data: JsonValue;
  readonly metadata: { readonly [key: string]: JsonValue };
}

export class NonCanonicalJsonError extends Error {
  override readonly name = 'NonCanonicalJsonError';
}

/**
 * Canonical JSON: object keys sorted by code unit, no whitespace, numbers as JSON.stringify writes
 * them (which round-trips every finite double). Two equal values always give the same text, so the
 * text stored by one process verifies in another.
 *
 * Object properties whose value is `undefined` are left out, as JSON.stringify does, because callers
 * spread optional fields (`correlationId: undefined`); anything else that is not JSON (NaN, Infinity,
 * undefined in an array, functions, bigints, class instances such as Date) is rejected rather than
 * silently turned into something that no longer hashes to what the caller meant.
 */
export function canonicalJson(value: unknown): string {
  // JSON.stringify writes keys in the object's own order: when every object's keys are in code-unit order already
  // (most metadata is built so), its text is the canonical text, at a fraction of the cost of writing it here.
  return inCanonicalOrder(value, 0) ? JSON.stringify(value) : canonicalText(value);
}

/**
 * Beyond this depth the text is written here, one call per level as always: an event stored before the edge limits
 * may nest thousands of levels, where JSON.stringify runs out of stack.
 */
const ORDERED_DEPTH = 32;

/** Whether JSON.stringify(value) is canonical: JSON values only, every object's keys strictly ascending. */
function inCanonicalOrder(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (depth >= ORDERED_DEPTH) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (value[i] === undefined || !inCanonicalOrder(value[i], depth + 1)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      let previous: string | undefined;
      for (const key in value) {
        if (!Object.hasOwn(value, key)) return false;
        if (previous !== undefined && !(previous < key)) return false;
        previous = key;
        const v = (value as Record<string, unknown>)[key];
        if (v !== undefined && !inCanonicalOrder(v, depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

function canonicalText(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new NonCanonicalJsonError(`not a finite number: ${String(value)}`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (value[i] === undefined) throw new NonCanonicalJsonError(`undefined at array index ${i}`);
          out += (i === 0 ? '' : ',') + canonicalText(value[i]);
        }
        return out + ']';
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new NonCanonicalJsonError(`not a plain object: ${(value as object).constructor?.name ?? 'unknown'}`);
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      let out = '{';
      let first = true;
      for (const key of keys) {
        const v = record[key];
        if (v === undefined) continue;
        out += (first ? '' : ',') + JSON.stringify(key) + ':' + canonicalText(v);
        first = false;
      }
      return out + '}';
    }
    default:
      throw new NonCanonicalJsonError(`not JSON: ${typeof value}`);
  }
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function eventHash(prevHash: string, event: ChainedContent): string {
  return eventHashOfCanonical(prevHash, event.streamId, event.revision, event.id, event.type, canonicalJson(event.data), canonicalJson(event.metadata));
}

/**
 * The same hash from data and metadata already in canonical text (what the SQLite adapter stores),
 * so an append canonicalizes each event once. The keys are written in their sorted order by hand:
 * data, id, metadata, revision, streamId, type.
 */
export function eventHashOfCanonical(
  prevHash: string,
  streamId: string,
  revision: number,
  id: string,
  type: string,
  canonicalData: string,
  canonicalMetadata: string,
): string {
  return sha256Hex(
    `${prevHash}{"data":${canonicalData},"id":${JSON.stringify(id)},"metadata":${canonicalMetadata},"revision":${canonicalJson(revision)},"streamId":${JSON.stringify(streamId)},"type":${JSON.stringify(type)}}`,
  );
}

/** What the walk needs of an event: where it says it is in the chain, and its stored hashes. */
export interface ChainLink {
  readonly streamId: string;
  readonly revision: number;
  readonly position: number;
  readonly prevHash: string;
  readonly hash: string;
}

/**
 * A stored event whose data and metadata are still the canonical text its hash was computed over (the SQLite
 * adapter stores them so): verifying it needs neither a JSON.parse nor a canonicalization (≈ 1.6× faster).
 */
export interface StoredChainLink extends ChainLink {
  readonly id: string;
  readonly type: string;
  readonly canonicalData: string;
  readonly canonicalMetadata: string;
}

function defectOf<E extends ChainLink>(event: E, expectedRevision: number, prevHash: string, hashOf: (prevHash: string, event: E) => string): string | null {
  if (event.revision !== expectedRevision) {
    return `broken link: expected revision ${expectedRevision}, found revision ${event.revision}`;
  }
  if (event.prevHash !== prevHash) {
    return `broken link: prevHash ${event.prevHash.slice(0, 12)}… does not match the previous event's hash ${prevHash.slice(0, 12)}…`;
  }
  let computed: string;
  try {
    computed = hashOf(prevHash, event);
  } catch (error) {
    return `hash mismatch: stored content is not canonical JSON (${(error as Error).message})`;
  }
  if (computed !== event.hash) {
    return `hash mismatch: stored hash ${event.hash.slice(0, 12)}… but the content hashes to ${computed.slice(0, 12)}…`;
  }
  return null;
}

/**
 * One step of the walk: why `event` does not continue a chain whose last event had `prevHash` and
 * `expectedRevision - 1`, or null when it does. A deleted or inserted event shows as a broken link
 * (wrong revision or prevHash); an edited one as a hash mismatch at its own revision.
 */
export function chainDefect(event: RecordedEvent, expectedRevision: number, prevHash: string): string | null {
  return defectOf(event, expectedRevision, prevHash, eventHash);
}

const storedHash = (prevHash: string, e: StoredChainLink) =>
  eventHashOfCanonical(prevHash, e.streamId, e.revision, e.id, e.type, e.canonicalData, e.canonicalMetadata);

/** Where a walk starts: the genesis, or the middle of a chain (`from` revision, whose event should say `prevHash`). */
export interface ChainStart {
  readonly from: number;
  readonly prevHash: string;
}

const GENESIS: ChainStart = { from: 0, prevHash: GENESIS_HASH };

async function walk<E extends ChainLink>(
  streamId: string,
  events: Iterable<E> | AsyncIterable<E>,
  hashOf: (prevHash: string, event: E) => string,
  onProgress?: (checked: number) => void,
  start: ChainStart = GENESIS,
): Promise<ChainVerification> {
  let prevHash = start.prevHash;
  let checked = 0;
  for await (const event of events) {
    const defect = event.streamId === streamId ? defectOf(event, start.from + checked, prevHash, hashOf) : `event of another stream (${event.streamId})`;
    if (defect !== null) {
      return {
        streamId,
        events: checked,
        head: checked === 0 && start.from === 0 ? null : prevHash,
        valid: false,
        firstBadRevision: event.revision,
        firstBadPosition: event.position,
        reason: defect,
      };
    }
    prevHash = event.hash;
    checked++;
    if (onProgress !== undefined && checked % 10_000 === 0) onProgress(checked);
  }
  onProgress?.(checked);
  return { streamId, events: checked, head: checked === 0 && start.from === 0 ? null : prevHash, valid: true };
}

/**
 * Walks one stream's events in revision order and reports the first event that does not verify.
 * Pure apart from consuming the iterable, so both adapters feed it their paged `readStream`.
 */
export function verifyEvents(
  streamId: string,
  events: Iterable<RecordedEvent> | AsyncIterable<RecordedEvent>,
  onProgress?: (checked: number) => void,
  start?: ChainStart,
): Promise<ChainVerification> {
  return walk(streamId, events, eventHash, onProgress, start);
}

/**
 * `verifyEvents` over stored canonical text (`StoredChainLink`). Hashing the text as stored is at least as strict
 * as hashing its canonical form: a row edited into an equivalent but different text no longer matches its hash.
 */
export function verifyStoredEvents(
  streamId: string,
  events: Iterable<StoredChainLink> | AsyncIterable<StoredChainLink>,
  onProgress?: (checked: number) => void,
  start?: ChainStart,
): Promise<ChainVerification> {
  return walk(streamId, events, storedHash, onProgress, start);
}
