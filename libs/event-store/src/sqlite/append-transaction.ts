import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { eventHashOfCanonical, GENESIS_HASH } from '../chain.js';
import { satisfiesExpectedRevision } from '../expected-revision.js';
import {
  ConcurrencyConflictError,
  IdempotencyMismatchError,
  type AppendResult,
  type CommandRecord,
  type ExpectedRevision,
  type JsonValue,
  type RecordedEvent,
} from '../port.js';
import { MerkleTreeError, MerkleTreeWriter } from './merkle-tree.js';

/**
 * What an append does between BEGIN IMMEDIATE and COMMIT, shared by `SqliteEventStore.append` (on the caller's
 * thread) and `append-worker.ts` (a large append in a worker thread, on its own connection to the same file), so that
 * both write the same rows, chain the same hashes and refuse the same way.
 */

export const EVENT_COLUMNS = 'position, stream_id, revision, id, type, data, metadata, prev_hash, hash';

/**
 * A row of a read statement (EVENT_COLUMNS order, or without the chain columns) as a recorded event. Rows come as
 * arrays: node:sqlite builds a null-prototype object per row otherwise, which costs more than the rest of a read.
 */
export function recordedOf(a: readonly unknown[]): RecordedEvent {
  return {
    id: a[3] as string,
    type: a[4] as string,
    data: JSON.parse(a[5] as string) as JsonValue,
    metadata: JSON.parse(a[6] as string) as { [key: string]: JsonValue },
    streamId: a[1] as string,
    revision: a[2] as number,
    position: a[0] as number,
    prevHash: (a[7] as string | undefined) ?? '',
    hash: (a[8] as string | undefined) ?? '',
  };
}

/**
 * `recordedOf` with `data` and `metadata` parsed when first read (then kept): a subscriber that passes over an event
 * without looking at its content — the access projection, for the events its writer folded when it stored them — does
 * not parse two JSON texts for it.
 */
export function lazilyRecordedOf(a: readonly unknown[]): RecordedEvent {
  const dataText = a[5] as string;
  const metadataText = a[6] as string;
  let data: { value: JsonValue } | undefined;
  let metadata: { value: { [key: string]: JsonValue } } | undefined;
  return {
    id: a[3] as string,
    type: a[4] as string,
    get data() {
      data ??= { value: JSON.parse(dataText) as JsonValue };
      return data.value;
    },
    get metadata() {
      metadata ??= { value: JSON.parse(metadataText) as { [key: string]: JsonValue } };
      return metadata.value;
    },
    streamId: a[1] as string,
    revision: a[2] as number,
    position: a[0] as number,
    prevHash: (a[7] as string | undefined) ?? '',
    hash: (a[8] as string | undefined) ?? '',
  };
}

export function recordsOf(statement: StatementSync, ...params: (string | number)[]): RecordedEvent[] {
  return (statement.all(...params) as unknown as unknown[][]).map(recordedOf);
}

export interface AppendStatements {
  readonly byIds: StatementSync;
  readonly lastOfStream: StatementSync;
  readonly insert: StatementSync;
  readonly insertCommand: StatementSync;
  /** What grows the Merkle trees, or undefined when the store keeps none (`merkle: false`). */
  readonly merkle: MerkleTreeWriter | undefined;
}

export function appendStatements(db: DatabaseSync, merkle = true): AppendStatements {
  const byIds = db.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? AND id IN (SELECT value FROM json_each(?)) ORDER BY position`);
  byIds.setReturnArrays(true);
  return {
    byIds,
    lastOfStream: db.prepare('SELECT revision, hash FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1'),
    insert: db.prepare('INSERT INTO events (stream_id, revision, id, type, data, metadata, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
    insertCommand: db.prepare('INSERT INTO command_keys (stream_id, key, first_revision, count, answer) VALUES (?, ?, ?, ?, ?)'),
    merkle: merkle ? new MerkleTreeWriter(db) : undefined,
  };
}

/** The events of one append, as far as the transaction needs them. */
export interface AppendBatch {
  readonly ids: readonly string[];
  readonly types: readonly string[];
  /** Event i's data and metadata as canonical JSON: the stored text, so what is read back hashes as it did here. */
  canonical(i: number): readonly [data: string, metadata: string];
}

/**
 * The answer of a transaction: either events stored before (an idempotent replay) or where the new ones went — the
 * caller builds their RecordedEvents from its own input (`recordedOfWritten`), so a worker sends back only numbers and
 * hashes.
 */
export type AppendOutcome =
  | { readonly kind: 'replay'; readonly result: AppendResult }
  | { readonly kind: 'unchanged'; readonly nextRevision: number }
  | { readonly kind: 'written'; readonly firstRevision: number; readonly prevHash: string; readonly positions: number[]; readonly hashes: string[] };

/**
 * Must run inside BEGIN IMMEDIATE … COMMIT on the connection the statements belong to; throws to roll back.
 * `treeSize`: with the tree grown off the append path, how many leaves of this stream the store's tree has taken or
 * been handed; a stream that continues below that had events deleted under its tree, and is refused as the inline
 * tree writer refuses it.
 */
export function appendInTransaction(
  s: AppendStatements,
  streamId: string,
  batch: AppendBatch,
  expected: ExpectedRevision,
  commands: readonly CommandRecord[],
  treeSize = 0,
): AppendOutcome {
  const count = batch.ids.length;
  if (count > 0) {
    const stored = recordsOf(s.byIds, streamId, JSON.stringify(batch.ids));
    if (stored.length > 0) return { kind: 'replay', result: replayOf(streamId, batch.ids, stored) };
  }

  const last = s.lastOfStream.get(streamId) as { revision: number; hash: string } | undefined;
  const actual = last === undefined ? null : last.revision;
  if (!satisfiesExpectedRevision(expected, actual)) throw new ConcurrencyConflictError(streamId, expected, actual);
  if (count === 0) return { kind: 'unchanged', nextRevision: actual ?? -1 };

  const firstPrevHash = last === undefined ? GENESIS_HASH : last.hash;
  const firstRevision = (actual ?? -1) + 1;
  if (firstRevision < treeSize)
    throw new MerkleTreeError(
      `stream ${streamId}: the Merkle tree covers ${treeSize} events but the stream continues at revision ${firstRevision} (events were deleted)`,
    );
  const positions: number[] = new Array(count);
  const hashes: string[] = new Array(count);
  let prevHash = firstPrevHash;
  for (let i = 0; i < count; i++) {
    const revision = firstRevision + i;
    const [data, metadata] = batch.canonical(i);
    const hash = eventHashOfCanonical(prevHash, streamId, revision, batch.ids[i]!, batch.types[i]!, data, metadata);
    const { lastInsertRowid } = s.insert.run(streamId, revision, batch.ids[i]!, batch.types[i]!, data, metadata, prevHash, hash);
    positions[i] = Number(lastInsertRowid);
    hashes[i] = hash;
    prevHash = hash;
  }
  // The tree grows in the same transaction as the chain, so a committed event is always a leaf.
  if (s.merkle !== undefined) s.merkle.extend(streamId, firstRevision, firstPrevHash, hashes);
  // Item 9: the keys commit with the events or not at all, so a retry after any crash finds exactly what is stored.
  for (const c of commands) {
    if (!Number.isInteger(c.first) || c.first < 0 || c.first >= count || c.count < 0 || c.first + c.count > count)
      throw new RangeError(`command ${c.key}: events ${c.first}..${c.first + c.count - 1} are not in this append`);
    s.insertCommand.run(streamId, c.key, firstRevision + c.first, c.count, JSON.stringify(c.answer));
  }
  return { kind: 'written', firstRevision, prevHash: firstPrevHash, positions, hashes };
}

/**
 * Some ids of the batch are stored already. That is an idempotent replay only when all of them are,
 * in this stream, as this exact run of consecutive revisions; then the stored events are the answer
 * whatever revision was expected (the first attempt's expectation held, or it would not be stored).
 */
function replayOf(streamId: string, ids: readonly string[], stored: RecordedEvent[]): AppendResult {
  const exact = stored.length === ids.length && stored.every((e, i) => e.streamId === streamId && e.id === ids[i] && e.revision === stored[0]!.revision + i);
  if (!exact)
    throw new IdempotencyMismatchError(
      streamId,
      stored.map((e) => e.id),
    );
  return { nextRevision: stored[stored.length - 1]!.revision, events: stored };
}

/**
 * An error of a transaction run in a worker, as data: a worker's errors cross to the caller's thread as plain
 * objects, so the caller rebuilds them (`appendErrorOf`) as the same classes the in-thread path throws, with the
 * SQLite codes that `isStorageFull` and the busy check read.
 */
export type AppendErrorData =
  | { readonly kind: 'conflict'; readonly streamId: string; readonly expected: ExpectedRevision; readonly actual: number | null }
  | { readonly kind: 'mismatch'; readonly streamId: string; readonly eventIds: readonly string[] }
  | { readonly kind: 'range'; readonly message: string }
  | { readonly kind: 'other'; readonly name: string; readonly message: string; readonly code?: unknown; readonly errcode?: unknown; readonly errstr?: unknown };

export function appendErrorData(error: unknown): AppendErrorData {
  if (error instanceof ConcurrencyConflictError) return { kind: 'conflict', streamId: error.streamId, expected: error.expected, actual: error.actual };
  if (error instanceof IdempotencyMismatchError) return { kind: 'mismatch', streamId: error.streamId, eventIds: error.eventIds };
  if (error instanceof RangeError) return { kind: 'range', message: error.message };
  const e = error as { name?: unknown; message?: unknown; code?: unknown; errcode?: unknown; errstr?: unknown } | null;
  return { kind: 'other', name: String(e?.name ?? 'Error'), message: String(e?.message ?? error), code: e?.code, errcode: e?.errcode, errstr: e?.errstr };
}

export function appendErrorOf(data: AppendErrorData): Error {
  switch (data.kind) {
    case 'conflict':
      return new ConcurrencyConflictError(data.streamId, data.expected, data.actual);
    case 'mismatch':
      return new IdempotencyMismatchError(data.streamId, data.eventIds);
    case 'range':
      return new RangeError(data.message);
    case 'other': {
      const error = Object.assign(new Error(data.message), { code: data.code, errcode: data.errcode, errstr: data.errstr });
      error.name = data.name;
      return error;
    }
  }
}
