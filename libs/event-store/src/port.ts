/**
 * The event store port. Adapters: `sqlite` (embedded, `node:sqlite` in one file) and `kurrentdb`.
 * One contract suite (`event-store.contract.ts`) runs against both, so they cannot drift.
 *
 * The store knows nothing of the access model: data and metadata are opaque JSON.
 * It does know about integrity: every stream is a hash chain (see `chain.ts`), and the application
 * keeps one stream per tenant, so every tenant's history is one chain.
 */

/** What the caller expects the stream's current revision to be (optimistic concurrency). */
export type ExpectedRevision = 'no_stream' | 'stream_exists' | 'any' | number;

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface EventToAppend {
  /** Globally unique id (UUID or an imported source id). Appending the same ids again is a no-op (idempotent). */
  readonly id: string;
  readonly type: string;
  readonly data: JsonValue;
  readonly metadata: { readonly [key: string]: JsonValue };
}

export interface RecordedEvent {
  readonly id: string;
  readonly type: string;
  readonly data: JsonValue;
  readonly metadata: { readonly [key: string]: JsonValue };
  readonly streamId: string;
  /** 0-based revision inside the stream. */
  readonly revision: number;
  /** Global position: strictly increasing over the whole store, in append order. */
  readonly position: number;
  /** Hash of the previous event of the stream (64 zeros for the first). */
  readonly prevHash: string;
  /** SHA-256 (hex) of prevHash + the canonical form of this event (chain.ts). */
  readonly hash: string;
}

export interface AppendResult {
  /** Revision of the last event of the stream after the append. */
  readonly nextRevision: number;
  /** The events as stored (or, for an idempotent replay, as they had been stored). */
  readonly events: readonly RecordedEvent[];
}

/**
 * A command's idempotency key, written with its events in the same transaction, so that a retry
 * after any crash finds it exactly when the events are there. The store keeps `answer` as opaque JSON.
 */
export interface CommandRecord {
  readonly key: string;
  /** Index, in this append's `events`, of the command's first event, and how many events it appended. */
  readonly first: number;
  readonly count: number;
  readonly answer: JsonValue;
}

/** A command record as stored, with the events it appended (in revision order). */
export interface StoredCommand {
  readonly key: string;
  readonly answer: JsonValue;
  readonly events: readonly RecordedEvent[];
}

export interface AppendOptions {
  expectedRevision?: ExpectedRevision;
  /** Idempotency keys to record atomically with the events; a key already recorded for the stream fails the append. */
  commands?: readonly CommandRecord[];
}

export interface ReadStreamOptions {
  readonly fromRevision?: number; // inclusive; default: start (forwards) or end (backwards)
  readonly direction?: 'forwards' | 'backwards';
  readonly maxCount?: number;
}

export interface ReadAllOptions {
  /** Forwards: events with position > after. Backwards: events with position < before. */
  readonly after?: number;
  readonly before?: number;
  readonly direction?: 'forwards' | 'backwards';
  readonly maxCount?: number;
}

export interface ReadAllPagesOptions {
  /** Events with position > after, forwards. */
  readonly after?: number;
  /** Events per page (at most; the last page may be shorter). Default 1 000. */
  readonly pageSize?: number;
  /**
   * false: `prevHash` and `hash` are left empty — for folds that never look at the chain (the access projection),
   * which then need not read two 64-character strings per event. Default true.
   */
  readonly chain?: boolean;
}

export interface SubscribeOptions {
  /** Deliver events with position > after (omit, or -1, for everything from the start). */
  readonly after?: number;
}

/** A catch-up subscription: replays history, then continues live, with no gap and no duplicate at the switch. */
export interface Subscription extends AsyncIterable<RecordedEvent> {
  close(): Promise<void>;
  /**
   * Look for new events now rather than at the next poll (a writer that lost a race to another process needs that
   * process's events at once). Absent where delivery is pushed.
   */
  poke?(): void;
}

export interface ChainVerification {
  readonly streamId: string;
  readonly events: number;
  readonly head: string | null;
  readonly valid: boolean;
  /** Revision and global position of the first event whose stored hashes do not verify. */
  readonly firstBadRevision?: number;
  readonly firstBadPosition?: number;
  readonly reason?: string;
}

export interface VerifyOptions {
  /**
   * Only the last `tail` events: their hashes recomputed and their links checked, from the hash the event before
   * them stores (a start-up check before the stream is extended; the whole walk runs afterwards).
   */
  readonly tail?: number;
}

/**
 * Each stream's RFC 9162 Merkle tree over its events in chain order (leaf i = revision i, leaf bytes = the
 * event's chain hash; docs/proofs.md). Hashes and proof nodes are lowercase hex. Only the SQLite store keeps one.
 */
export interface MerkleLog {
  /** Leaves the stream's tree covers: its events, but for the last ones while the tree writer has not taken them (caughtUp). */
  treeSize(streamId: string): Promise<number>;
  /** MTH of the first `treeSize` events. */
  rootHash(streamId: string, treeSize: number): Promise<string>;
  /** RFC 9162 § 2.1.3.1 audit path of leaf `leafIndex` in the tree of `treeSize`. */
  inclusionProof(streamId: string, leafIndex: number, treeSize: number): Promise<string[]>;
  /** RFC 9162 § 2.1.4.1 consistency proof from the tree of `fromSize` to the tree of `toSize`. */
  consistencyProof(streamId: string, fromSize: number, toSize: number): Promise<string[]>;
  /**
   * Resolves once the tree has every event this store acknowledged so far (the tree follows the log within a bounded
   * delay, docs/proofs.md § 7); rejects with what went wrong in the tree writer since the last call, if anything did.
   */
  caughtUp(): Promise<void>;
}

export interface EventStore {
  /** The Merkle trees (inclusion and consistency proofs, docs/proofs.md), where the adapter keeps them (SQLite); undefined on KurrentDB. */
  readonly merkle?: MerkleLog;
  append(streamId: string, events: readonly EventToAppend[], options?: AppendOptions): Promise<AppendResult>;
  /** The command recorded under this key in this stream (see `AppendOptions.commands`), or undefined. */
  commandByKey(streamId: string, key: string): Promise<StoredCommand | undefined>;
  readStream(streamId: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent>;
  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent>;
  /**
   * The same events as `readAll({ after })`, forwards, a page at a time: rebuilds and catch-ups fold millions of
   * events, and one await per page instead of per event is a measurable part of their time.
   */
  readAllPages(options?: ReadAllPagesOptions): AsyncIterable<readonly RecordedEvent[]>;
  subscribeToAll(options?: SubscribeOptions): Subscription;
  /**
   * Which of these event ids are stored in this stream (the import skips them, http-api.md). Ids are unique per
   * stream, not across streams: the same id in another tenant's stream is another event.
   * Cheap on SQLite (an index); on KurrentDB, which has no index by id, it reads the stream backwards.
   */
  knownIds(streamId: string, ids: readonly string[]): Promise<ReadonlySet<string>>;
  /**
   * The event with this id in this stream, or undefined (an id stored only in another stream is another tenant's:
   * undefined too). Cheap on SQLite (the (stream_id, id) index); on KurrentDB it reads the stream backwards.
   */
  eventById(streamId: string, id: string): Promise<RecordedEvent | undefined>;
  /** Current revision of a stream, or null if it does not exist. */
  streamRevision(streamId: string): Promise<number | null>;
  /** Position of the last event in the store, or -1 when empty. */
  headPosition(): Promise<number>;
  /** Every stream that has events, sorted (`ledger verify` and `ledger backup` walk each one's chain). */
  streamIds(): Promise<string[]>;
  verifyChain(streamId: string, onProgress?: (checked: number) => void, options?: VerifyOptions): Promise<ChainVerification>;
  /** Reachability for /ready. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** `readAllPages` for a store whose reads come one event at a time. */
export async function* pagesOf(events: AsyncIterable<RecordedEvent>, pageSize = 1000): AsyncIterable<readonly RecordedEvent[]> {
  let page: RecordedEvent[] = [];
  for await (const event of events) {
    page.push(event);
    if (page.length >= pageSize) {
      yield page;
      page = [];
    }
  }
  if (page.length > 0) yield page;
}

/** Injection token for NestJS. */
export const EVENT_STORE = Symbol('EVENT_STORE');

/** The stream's actual revision did not match the expected one (HTTP 409). */
export class ConcurrencyConflictError extends Error {
  override readonly name = 'ConcurrencyConflictError';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    readonly actual: number | null,
  ) {
    super(`stream ${streamId}: expected revision ${String(expected)}, actual ${actual === null ? 'no stream' : actual}`);
  }
}

/** Some of the ids of an append were stored before, but not as this exact batch (HTTP 409). */
export class IdempotencyMismatchError extends Error {
  override readonly name = 'IdempotencyMismatchError';
  constructor(
    readonly streamId: string,
    readonly eventIds: readonly string[],
  ) {
    super(`stream ${streamId}: event ids ${eventIds.slice(0, 5).join(', ')} were already stored in a different batch`);
  }
}

/**
 * The disk (or the database's size limit) is full: nothing of the write was stored, and the same write can succeed
 * once space is freed (HTTP 507 storage-full with Retry-After). `where` names the file or directory.
 */
export class StorageFullError extends Error {
  override readonly name = 'StorageFullError';
  constructor(
    readonly where: string,
    options?: { cause?: unknown },
  ) {
    super(`storage full: ${where}`, options);
  }
}

/** Whether an error is SQLite's "database or disk is full" or the OS's ENOSPC / EDQUOT. */
export function isStorageFull(error: unknown): boolean {
  const e = error as { code?: unknown; errcode?: unknown; errstr?: unknown; message?: unknown } | null;
  if (e === null || typeof e !== 'object') return false;
  if (e.code === 'ENOSPC' || e.code === 'EDQUOT') return true;
  // node:sqlite: code 'ERR_SQLITE_ERROR', errcode 13 (SQLITE_FULL) or an extended code whose low byte is 13.
  if (typeof e.errcode === 'number' && (e.errcode & 0xff) === 13) return true;
  return typeof e.message === 'string' && /database or disk is full|SQLITE_FULL/.test(e.message);
}

export function tenantStream(tenantId: string): string {
  return `tenant-${tenantId}`;
}

/** The tenant whose stream `streamId` is (`tenantStream`'s inverse), or undefined for any other stream. */
export function tenantOfStream(streamId: string): string | undefined {
  return streamId.startsWith('tenant-') ? streamId.slice('tenant-'.length) : undefined;
}
