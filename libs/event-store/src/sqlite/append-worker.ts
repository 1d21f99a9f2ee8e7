import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import type { CommandRecord, ExpectedRevision } from '../port.js';
import { appendErrorData, appendInTransaction, appendStatements, type AppendOutcome } from './append-transaction.js';

/**
 * One large append (`SqliteEventStore.append` of at least `workerAppendFrom` events), off the caller's thread so its
 * server keeps answering: the same transaction as in-thread appends (`appendInTransaction`), on a
 * connection of its own to the same file. The events arrive as chunks of canonical text; once all are here, one
 * BEGIN IMMEDIATE … COMMIT, the connection is closed, and `{ outcome }` or `{ error }` is posted.
 */
export interface AppendWorkerData {
  readonly path: string;
  readonly busyTimeoutMs: number;
  readonly maxPageCount: number | undefined;
  readonly streamId: string;
  readonly expected: ExpectedRevision;
  readonly commands: readonly CommandRecord[];
  readonly count: number;
  /** Whether the store keeps its Merkle tree (SqliteEventStoreOptions.merkle). */
  readonly merkle: boolean;
}
export interface AppendChunk {
  readonly ids: string[];
  readonly types: string[];
  readonly data: string[];
  readonly metadata: string[];
}

const job = workerData as AppendWorkerData;
const ids: string[] = [];
const types: string[] = [];
const data: string[] = [];
const metadata: string[] = [];

parentPort!.on('message', (chunk: AppendChunk) => {
  ids.push(...chunk.ids);
  types.push(...chunk.types);
  data.push(...chunk.data);
  metadata.push(...chunk.metadata);
  if (ids.length < job.count) return;
  parentPort!.removeAllListeners('message');
  let answer: { outcome: AppendOutcome } | { error: ReturnType<typeof appendErrorData> };
  try {
    answer = { outcome: append() };
  } catch (error) {
    answer = { error: appendErrorData(error) };
  }
  parentPort!.postMessage(answer);
});

function append(): AppendOutcome {
  const db = new DatabaseSync(job.path, { timeout: job.busyTimeoutMs });
  try {
    // Per connection, as the store's own (journal_mode = WAL is a property of the file).
    db.exec('PRAGMA synchronous = FULL');
    if (job.maxPageCount !== undefined) db.exec(`PRAGMA max_page_count = ${Math.floor(job.maxPageCount)}`);
    begin(db);
    try {
      const outcome = appendInTransaction(
        appendStatements(db, job.merkle),
        job.streamId,
        { ids, types, canonical: (i) => [data[i]!, metadata[i]!] },
        job.expected,
        job.commands,
      );
      db.exec('COMMIT');
      return outcome;
    } catch (error) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw error;
    }
  } finally {
    db.close();
  }
}

/**
 * BEGIN IMMEDIATE, retried every 1 ms while another connection holds the write lock, as the store's `#tryBegin` does
 * (SQLite's own busy handler sleeps in growing steps and would lose every race against a writer in a loop). Blocking
 * here is fine: this thread does nothing else.
 */
function begin(db: DatabaseSync): void {
  const deadline = performance.now() + job.busyTimeoutMs;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  db.exec('PRAGMA busy_timeout = 0');
  for (;;) {
    try {
      db.exec('BEGIN IMMEDIATE');
      return;
    } catch (error) {
      const errcode = (error as { errcode?: unknown }).errcode;
      if (typeof errcode !== 'number' || (errcode & 0xff) !== 5 || performance.now() >= deadline) throw error;
      Atomics.wait(sleeper, 0, 0, 1);
    }
  }
}
