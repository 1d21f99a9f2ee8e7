import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import type { CommandRecord, ExpectedRevision } from '../port.js';
import { appendErrorData, appendInTransaction, appendStatements, type AppendOutcome, type AppendStatements } from './append-transaction.js';

/**
 * The large appends of one store (`SqliteEventStore.append` of at least `workerAppendFrom` events), off the caller's
 * thread so its server keeps answering: the same transaction as in-thread appends (`appendInTransaction`), on a
 * connection of its own to the same file, opened once for the life of the store (a thread and a connection per
 * append cost ≈ 20 ms each, every batch of a backfill). Each append is a job: its header, then its events as chunks
 * of canonical text; once all are here, one BEGIN IMMEDIATE … COMMIT and `{ job, outcome }` or `{ job, error }` is
 * posted. Jobs are told apart by number, so the caller may canonicalize the next while this one is written.
 */
export interface AppendWorkerData {
  readonly path: string;
  readonly busyTimeoutMs: number;
  readonly maxPageCount: number | undefined;
  /** Whether this worker grows the Merkle tree in its transactions (false too when the store's tree writer follows the log). */
  readonly merkle: boolean;
}
export interface AppendJob {
  readonly kind: 'job';
  readonly job: number;
  readonly streamId: string;
  readonly expected: ExpectedRevision;
  readonly commands: readonly CommandRecord[];
  readonly count: number;
  /** appendInTransaction's `treeSize`. */
  readonly treeSize: number;
}
export interface AppendChunk {
  readonly kind: 'chunk';
  readonly job: number;
  readonly ids: string[];
  readonly types: string[];
  readonly data: string[];
  readonly metadata: string[];
}
export type AppendAnswer = { readonly job: number } & ({ readonly outcome: AppendOutcome } | { readonly error: ReturnType<typeof appendErrorData> });

const settings = workerData as AppendWorkerData;
const jobs = new Map<number, { header: AppendJob; ids: string[]; types: string[]; data: string[]; metadata: string[] }>();
let connection: { db: DatabaseSync; statements: AppendStatements } | undefined;

parentPort!.on('message', (message: AppendJob | AppendChunk | { readonly kind: 'close' }) => {
  if (message.kind === 'close') {
    // The store is closing: every append it handed over was answered. The thread ends once its port is closed.
    connection?.db.close();
    connection = undefined;
    parentPort!.close();
    return;
  }
  if (message.kind === 'job') {
    jobs.set(message.job, { header: message, ids: [], types: [], data: [], metadata: [] });
    if (message.count > 0) return;
  } else {
    const j = jobs.get(message.job)!;
    j.ids.push(...message.ids);
    j.types.push(...message.types);
    j.data.push(...message.data);
    j.metadata.push(...message.metadata);
    if (j.ids.length < j.header.count) return;
  }
  const j = jobs.get(message.job)!;
  jobs.delete(message.job);
  let answer: AppendAnswer;
  try {
    answer = { job: message.job, outcome: append(j.header, j) };
  } catch (error) {
    answer = { job: message.job, error: appendErrorData(error) };
  }
  parentPort!.postMessage(answer);
});

function open(): { db: DatabaseSync; statements: AppendStatements } {
  if (connection !== undefined) return connection;
  const db = new DatabaseSync(settings.path, { timeout: settings.busyTimeoutMs });
  // Per connection, as the store's own (journal_mode = WAL is a property of the file).
  db.exec('PRAGMA synchronous = FULL');
  if (settings.maxPageCount !== undefined) db.exec(`PRAGMA max_page_count = ${Math.floor(settings.maxPageCount)}`);
  connection = { db, statements: appendStatements(db, settings.merkle) };
  return connection;
}

function append(header: AppendJob, events: { ids: string[]; types: string[]; data: string[]; metadata: string[] }): AppendOutcome {
  const { db, statements } = open();
  begin(db);
  try {
    const outcome = appendInTransaction(
      statements,
      header.streamId,
      { ids: events.ids, types: events.types, canonical: (i) => [events.data[i]!, events.metadata[i]!] },
      header.expected,
      header.commands,
      header.treeSize,
    );
    db.exec('COMMIT');
    return outcome;
  } catch (error) {
    // The tree writer drops a stream's cached frontier before anything can throw, so the connection stays usable.
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

/**
 * BEGIN IMMEDIATE, retried every 1 ms while another connection holds the write lock, as the store's `#tryBegin` does
 * (SQLite's own busy handler sleeps in growing steps and would lose every race against a writer in a loop). Blocking
 * here is fine: this thread does nothing else.
 */
function begin(db: DatabaseSync): void {
  const deadline = performance.now() + settings.busyTimeoutMs;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  db.exec('PRAGMA busy_timeout = 0');
  try {
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
  } finally {
    // Reads inside the transaction keep the busy timeout, as the store's own connection does.
    db.exec(`PRAGMA busy_timeout = ${settings.busyTimeoutMs}`);
  }
}
