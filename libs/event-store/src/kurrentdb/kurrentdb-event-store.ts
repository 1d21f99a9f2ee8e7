import {
  END,
  excludeSystemEvents,
  FORWARDS,
  BACKWARDS,
  jsonEvent,
  KurrentDBClient,
  NO_STREAM,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type JSONType,
  type Position,
  type ResolvedEvent,
} from '@kurrent/kurrentdb-client';
import { canonicalJson, eventHash, GENESIS_HASH, sha256Hex, verifyEvents } from '../chain.js';
import { assertValidExpectedRevision, satisfiesExpectedRevision } from '../expected-revision.js';
import {
  ConcurrencyConflictError,
  IdempotencyMismatchError,
  pagesOf,
  type AppendOptions,
  type AppendResult,
  type ChainVerification,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type JsonValue,
  type ReadAllOptions,
  type ReadAllPagesOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StoredCommand,
  type SubscribeOptions,
  type Subscription,
  type VerifyOptions,
} from '../port.js';

/**
 * KurrentDB adapter. KurrentDB keeps streams, revisions, optimistic concurrency and $all itself;
 * this adapter adds what the port promises on top:
 *
 *  - the hash chain, kept in each event's metadata as `$chain: { prevHash, hash, revision, id }`
 *    (the port's `metadata` is the rest; the hash covers the port's view, as in SQLite);
 *  - the port's event id, which may be any string and is unique per stream, while KurrentDB wants
 *    UUIDs: (stream, id) is mapped to a name-based UUID (so KurrentDB's own idempotency still sees the
 *    same id twice in a stream, and two streams' equal ids stay two events) and the id kept in `$chain.id`;
 *  - a numeric global position: the event's $all *prepare* position, which is unique per event and
 *    grows in $all order. Reading "after p" starts the server read at { commit: p, prepare: p } and
 *    drops p itself (KurrentDB writes each event of a non-transactional append with commit ==
 *    prepare, so that is the event's exact $all position).
 *
 * The chain needs the previous event's hash, so an append is read-last-event, compute, append with
 * the exact revision read; when the caller said `any` or `stream_exists` and another writer got in
 * between, the loop reads again (bounded).
 */

const CHAIN_KEY = '$chain';
/**
 * A command's idempotency key and answer, in the metadata of the command's first event: written in
 * the same append as the events, so it is there exactly when they are. Outside the hashed view, like `$chain`.
 */
const COMMAND_KEY = '$command';

interface CommandMetadata {
  key: string;
  count: number;
  answer: JsonValue;
}
const MAX_APPEND_ATTEMPTS = 20;
/** How many events before the head a replay is looked for, beyond the batch's own length. */
const IDEMPOTENCY_WINDOW = 100;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface ChainMetadata {
  prevHash: string;
  hash: string;
  revision: number;
  id: string;
}

/**
 * A stable UUID for an id in a stream (version nibble 8, RFC 9562 "custom"), so replays map identically. The stream
 * is part of the name: ids are unique per stream (tenant), and the same id in two tenants must be two events, never
 * one KurrentDB deduplicates.
 */
export function kurrentEventUuid(streamId: string, id: string): string {
  const h = sha256Hex(`access-ledger-event-id:${streamId}\u0000${UUID.test(id) ? id.toLowerCase() : id}`);
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function toPosition(position: number): Position {
  const p = BigInt(position);
  return { commit: p, prepare: p };
}

function fromKurrent(resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent | null {
  const event = resolved.event;
  if (event === undefined || !event.isJson) return null;
  const raw = (event.metadata ?? {}) as { [key: string]: JsonValue };
  const { [CHAIN_KEY]: chainValue, [COMMAND_KEY]: _command, ...metadata } = raw;
  // An event without $chain was not written through this adapter: it is kept, with empty hashes,
  // so that verifyChain reports it instead of silently skipping it.
  const chain = (chainValue ?? null) as ChainMetadata | null;
  const position = event.position !== undefined ? Number(event.position.prepare) : Number(resolved.commitPosition ?? -1n);
  return {
    id: chain?.id ?? event.id,
    type: event.type,
    data: event.data as JsonValue,
    metadata,
    streamId: event.streamId,
    revision: Number(event.revision),
    position,
    prevHash: chain?.prevHash ?? '',
    hash: chain?.hash ?? '',
  };
}

export interface KurrentDbEventStoreOptions {
  /** Deadline for each call, in ms (the client's default is 10 s). */
  readonly deadlineMs?: number;
}

export class KurrentDbEventStore implements EventStore {
  readonly #client: KurrentDBClient;
  readonly #subscriptions = new Set<KurrentSubscription>();

  private constructor(client: KurrentDBClient) {
    this.#client = client;
  }

  /** `url` is a KurrentDB connection string, e.g. `kurrentdb://127.0.0.1:2113?tls=false`. */
  static connect(url: string): KurrentDbEventStore {
    return new KurrentDbEventStore(KurrentDBClient.connectionString(url));
  }

  async append(streamId: string, events: readonly EventToAppend[], options: AppendOptions = {}): Promise<AppendResult> {
    const expected = options.expectedRevision ?? 'any';
    assertValidExpectedRevision(expected);
    const ids = new Set<string>();
    const commandAt = new Map<number, CommandMetadata>();
    for (const c of options.commands ?? []) {
      if (c.count < 1 || c.first < 0 || c.first + c.count > events.length)
        throw new RangeError(`command ${c.key}: events ${c.first}..${c.first + c.count - 1} are not in this append`);
      // The lookup is a backwards read of the stream: a key already there must fail the append, as SQLite's primary key does.
      if ((await this.commandByKey(streamId, c.key)) !== undefined) throw new RangeError(`command key ${c.key} is already recorded in ${streamId}`);
      commandAt.set(c.first, { key: c.key, count: c.count, answer: c.answer });
    }
    for (const event of events) {
      if (ids.has(event.id)) throw new RangeError(`event id ${event.id} appears twice in one append`);
      ids.add(event.id);
      // Reject non-JSON content before anything is sent, so a bad batch stores nothing.
      canonicalJson(event.data);
      canonicalJson(event.metadata);
    }

    for (let attempt = 1; ; attempt++) {
      const tail = await this.#readTail(streamId, events.length + IDEMPOTENCY_WINDOW);
      const actual = tail.length === 0 ? null : tail[0]!.revision;
      if (events.length > 0) {
        const replay = await this.#replayOf(streamId, events, expected, actual, tail);
        if (replay !== null) return replay;
      }
      if (!satisfiesExpectedRevision(expected, actual)) throw new ConcurrencyConflictError(streamId, expected, actual);
      if (events.length === 0) return { nextRevision: actual ?? -1, events: [] };

      let prevHash = tail.length === 0 ? GENESIS_HASH : tail[0]!.hash;
      let revision = actual ?? -1;
      const chained = events.map((event, i) => {
        revision++;
        const hash = eventHash(prevHash, { ...event, streamId, revision });
        const chain: ChainMetadata = { prevHash, hash, revision, id: event.id };
        prevHash = hash;
        return { event, chain, command: commandAt.get(i) };
      });
      try {
        await this.#client.appendToStream(
          streamId,
          chained.map(({ event, chain, command }) =>
            jsonEvent({
              id: kurrentEventUuid(streamId, event.id),
              type: event.type,
              data: event.data as JSONType,
              metadata: { ...event.metadata, [CHAIN_KEY]: chain, ...(command ? { [COMMAND_KEY]: command as unknown as JsonValue } : {}) } as JSONType,
            }),
          ),
          { streamState: actual === null ? NO_STREAM : BigInt(actual) },
        );
      } catch (error) {
        // Someone appended between our read and our write. The next round either finds this very
        // batch (a concurrent replay), or a revision the caller's expectation rejects, or, for
        // `any`/`stream_exists`, simply chains onto the new head.
        if (error instanceof WrongExpectedVersionError && attempt < MAX_APPEND_ATTEMPTS) continue;
        if (error instanceof WrongExpectedVersionError) {
          throw new ConcurrencyConflictError(streamId, expected, await this.streamRevision(streamId));
        }
        throw error;
      }
      // Read back what was written: the port returns each event's global position.
      const stored = await this.#collect(this.readStream(streamId, { fromRevision: (actual ?? -1) + 1, maxCount: events.length }));
      return { nextRevision: revision, events: stored };
    }
  }

  /** The last `count` events of the stream, newest first. */
  async #readTail(streamId: string, count: number): Promise<RecordedEvent[]> {
    return this.#collect(this.readStream(streamId, { direction: 'backwards', maxCount: count }));
  }

  /**
   * KurrentDB has no index by event id, so a replay is looked for where it can be: at the revision the
   * caller expected (a retry with the same exact revision) and among the last events of the stream
   * (the batch's length plus IDEMPOTENCY_WINDOW: a retry soon after the first attempt, whatever was
   * expected). All ids found as this exact consecutive batch → the stored events; some →
   * IdempotencyMismatchError; none → null, a fresh append.
   */
  async #replayOf(
    streamId: string,
    events: readonly EventToAppend[],
    expected: ExpectedRevision,
    actual: number | null,
    tail: readonly RecordedEvent[],
  ): Promise<AppendResult | null> {
    const candidates = new Map<string, RecordedEvent>();
    for (const event of tail) candidates.set(event.id, event);
    const expectedLast = expected === 'no_stream' ? -1 : typeof expected === 'number' ? Math.max(expected, -1) : null;
    if (expectedLast !== null && actual !== null && actual > expectedLast) {
      const there = this.readStream(streamId, { fromRevision: expectedLast + 1, maxCount: events.length });
      for await (const event of there) candidates.set(event.id, event);
    }
    const found = events.map((e) => candidates.get(e.id)).filter((e): e is RecordedEvent => e !== undefined);
    if (found.length === 0) return null;
    const exact = found.length === events.length && found.every((e, i) => e.revision === found[0]!.revision + i);
    if (!exact)
      throw new IdempotencyMismatchError(
        streamId,
        found.map((e) => e.id),
      );
    return { nextRevision: found[found.length - 1]!.revision, events: found };
  }

  async #collect(events: AsyncIterable<RecordedEvent>): Promise<RecordedEvent[]> {
    const out: RecordedEvent[] = [];
    for await (const event of events) out.push(event);
    return out;
  }

  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    const backwards = options.direction === 'backwards';
    if (options.maxCount !== undefined && options.maxCount <= 0) return;
    const read = this.#client.readStream(streamId, {
      direction: backwards ? BACKWARDS : FORWARDS,
      fromRevision: options.fromRevision !== undefined ? BigInt(options.fromRevision) : backwards ? END : START,
      ...(options.maxCount !== undefined ? { maxCount: options.maxCount } : {}),
    });
    try {
      for await (const resolved of read) {
        const event = fromKurrent(resolved);
        if (event !== null) yield event;
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return;
      throw error;
    }
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    const backwards = options.direction === 'backwards';
    const after = options.after ?? -1;
    const before = options.before ?? Number.MAX_SAFE_INTEGER;
    let remaining = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    if (remaining <= 0) return;
    const read = this.#client.readAll({
      direction: backwards ? BACKWARDS : FORWARDS,
      fromPosition: backwards ? (options.before !== undefined ? toPosition(before) : END) : after >= 0 ? toPosition(after) : START,
      filter: excludeSystemEvents(),
    });
    for await (const resolved of read) {
      const event = fromKurrent(resolved);
      if (event === null) continue;
      if (event.position <= after) {
        if (backwards) return;
        continue;
      }
      if (event.position >= before) {
        if (backwards) continue;
        return;
      }
      yield event;
      if (--remaining === 0) return;
    }
  }

  readAllPages(options: ReadAllPagesOptions = {}): AsyncIterable<readonly RecordedEvent[]> {
    // The chain rides in each event's metadata here, so `chain: false` saves nothing: the events come whole.
    return pagesOf(this.readAll({ after: options.after ?? -1 }), options.pageSize);
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    const after = options.after ?? -1;
    const subscription = new KurrentSubscription(
      this.#client.subscribeToAll({ fromPosition: after >= 0 ? toPosition(after) : START, filter: excludeSystemEvents() }),
      after,
      (s) => this.#subscriptions.delete(s),
    );
    this.#subscriptions.add(subscription);
    return subscription;
  }

  /** No index by id in KurrentDB: the stream newest first (explanations mostly point at recent events). */
  async eventById(streamId: string, id: string): Promise<RecordedEvent | undefined> {
    for await (const event of this.readStream(streamId, { direction: 'backwards' })) if (event.id === id) return event;
    return undefined;
  }

  async knownIds(streamId: string, ids: readonly string[]): Promise<ReadonlySet<string>> {
    const wanted = new Set(ids);
    const known = new Set<string>();
    if (wanted.size === 0) return known;
    // No index by id in KurrentDB: the stream newest first, since a retried import is usually recent.
    for await (const event of this.readStream(streamId, { direction: 'backwards' })) {
      if (!wanted.has(event.id)) continue;
      known.add(event.id);
      if (known.size === wanted.size) break;
    }
    return known;
  }

  async streamRevision(streamId: string): Promise<number | null> {
    const tail = await this.#readTail(streamId, 1);
    return tail.length === 0 ? null : tail[0]!.revision;
  }

  /** A scan of $all (the $streams system projection may be switched off on a server; this needs nothing). */
  async streamIds(): Promise<string[]> {
    const ids = new Set<string>();
    for await (const event of this.readAll()) ids.add(event.streamId);
    return [...ids].sort();
  }

  async headPosition(): Promise<number> {
    for await (const event of this.readAll({ direction: 'backwards', maxCount: 1 })) return event.position;
    return -1;
  }

  /**
   * KurrentDB has no secondary index: the stream is read backwards until the key's event is found, so a lookup
   * costs a read of every event appended since that command (all of the stream for an unknown key). The Ledger
   * asks only for commands sent with an idempotency key.
   */
  async commandByKey(streamId: string, key: string): Promise<StoredCommand | undefined> {
    const read = this.#client.readStream(streamId, { direction: BACKWARDS, fromRevision: END });
    try {
      for await (const resolved of read) {
        const command = (resolved.event?.metadata as { [COMMAND_KEY]?: CommandMetadata } | undefined)?.[COMMAND_KEY];
        if (command?.key !== key) continue;
        const events = await this.#collect(this.readStream(streamId, { fromRevision: Number(resolved.event!.revision), maxCount: command.count }));
        return { key, answer: command.answer, events };
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return undefined;
      throw error;
    }
    return undefined;
  }

  async verifyChain(streamId: string, onProgress?: (checked: number) => void, options: VerifyOptions = {}): Promise<ChainVerification> {
    if (options.tail === undefined) return verifyEvents(streamId, this.readStream(streamId), onProgress);
    const tail = (await this.#readTail(streamId, Math.max(1, options.tail) + 1)).reverse();
    if (tail.length <= options.tail) return verifyEvents(streamId, tail, onProgress);
    const [before, ...rest] = tail;
    return verifyEvents(streamId, rest, onProgress, { from: rest[0]!.revision, prevHash: before!.hash });
  }

  async ping(): Promise<void> {
    for await (const _ of this.#client.readAll({ maxCount: 1, direction: BACKWARDS, fromPosition: END })) break;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#subscriptions].map((s) => s.close()));
    await this.#client.dispose();
  }
}

/** KurrentDB's catch-up subscription does the history-then-live switch itself; we map and de-duplicate. */
class KurrentSubscription implements Subscription {
  readonly #inner: AllStreamSubscription;
  readonly #iterator: AsyncGenerator<RecordedEvent>;
  readonly #onClose: (s: KurrentSubscription) => void;
  #closed = false;

  constructor(inner: AllStreamSubscription, after: number, onClose: (s: KurrentSubscription) => void) {
    this.#inner = inner;
    this.#onClose = onClose;
    this.#iterator = this.#run(after);
  }

  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    return this.#iterator;
  }

  async *#run(after: number): AsyncGenerator<RecordedEvent> {
    let last = after;
    try {
      for await (const resolved of this.#inner as AsyncIterable<AllStreamResolvedEvent>) {
        if (this.#closed) return;
        const event = fromKurrent(resolved);
        // The server starts at the given position inclusively; `position > last` keeps the port's promise.
        if (event === null || event.position <= last) continue;
        last = event.position;
        yield event;
      }
    } catch (error) {
      if (!this.#closed) throw error;
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose(this);
    await this.#inner.unsubscribe();
  }
}
