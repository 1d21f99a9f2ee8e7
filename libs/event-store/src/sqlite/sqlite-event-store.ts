import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { canonicalJson, GENESIS_HASH, verifyStoredEvents } from '../chain.js';
import {
  appendErrorOf,
  appendInTransaction,
  appendStatements,
  EVENT_COLUMNS as COLUMNS,
  lazilyRecordedOf,
  recordsOf,
  type AppendOutcome,
  type AppendStatements,
} from './append-transaction.js';
import type { AppendAnswer, AppendChunk, AppendJob, AppendWorkerData } from './append-worker.js';
import { inclusionPath, consistencyPath, EMPTY_TREE_HASH } from '../merkle.js';
import {
  catchUpTrees,
  MERKLE_SCHEMA,
  merkleStatements,
  MerkleTreeError,
  MerkleTreeWriter,
  storedTreeSize,
  subtreeHashes,
  type MerkleStatements,
  type TreeExtension,
} from './merkle-tree.js';
import type { TreeAnswer, TreeRequest, TreeWorkerData } from './merkle-tree-worker.js';
import { nextTurn, STORED_LINKS_SQL, storedLinks } from './stored-links.js';

/** The compiled worker beside this module; absent when the sources run directly (tests), which walk in one thread. */
const CHAIN_RANGE_WORKER = fileURLToPath(new URL('./chain-range-worker.js', import.meta.url));
/** Likewise for large appends: absent under jest (sources), where every append runs in the caller's thread. */
const APPEND_WORKER = fileURLToPath(new URL('./append-worker.js', import.meta.url));
/** Likewise for the tree writer that follows the log: without it (sources, memory) the tree grows inside each append. */
const MERKLE_TREE_WORKER = fileURLToPath(new URL('./merkle-tree-worker.js', import.meta.url));
/** Chain hashes gathered before they are posted to the tree writer (#handToTree). */
const TREE_POST_LEAVES = 512;
/** Events canonicalized per event-loop turn while a large append is handed to its worker. */
const WORKER_CHUNK = 1000;
const KNOWN_IDS_SLICE = 5000;
import { assertValidExpectedRevision } from '../expected-revision.js';
import {
  isStorageFull,
  StorageFullError,
  type AppendOptions,
  type AppendResult,
  type ChainVerification,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type JsonValue,
  type MerkleLog,
  type ReadAllOptions,
  type ReadAllPagesOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeOptions,
  type StoredCommand,
  type Subscription,
  type VerifyOptions,
} from '../port.js';

/** SQLITE_BUSY (5), possibly extended: another connection holds the lock. */
function isBusy(error: unknown): boolean {
  const errcode = (error as { errcode?: unknown } | null)?.errcode;
  return typeof errcode === 'number' && (errcode & 0xff) === 5;
}

/** Rows per read; readers and subscriptions hold at most one page in memory. */
const PAGE_SIZE = 1000;
/**
 * Rows per read of a subscription. A page is read and parsed in one synchronous step, and a server runs several
 * subscriptions at once (audit, access, intervals) whose steps share an event-loop turn: 1 000 rows (≈ 10–15 ms each)
 * made turns of 60 ms and more while a large import was projected, so /health waited.
 */
const SUBSCRIPTION_PAGE_SIZE = 250;

export interface SqliteEventStoreOptions {
  /** How often an idle subscription looks for events appended by another process. */
  readonly pollIntervalMs?: number;
  /** Streams of at least this many events are verified in two halves at once (default 100 000). */
  readonly parallelVerifyFrom?: number;
  /** How long a writer waits for another process's write lock before failing (SQLITE_BUSY). */
  readonly busyTimeoutMs?: number;
  /**
   * Tests only: `PRAGMA max_page_count`, a size limit past which writes fail with SQLITE_FULL exactly as on a full
   * disk.
   */
  readonly maxPageCount?: number;
  /**
   * Appends of at least this many events run in a worker thread on a connection of their own (default 2 000), so the
   * caller's event loop stays free while they hash and insert. In memory, and when the compiled
   * worker is not beside this module (sources under jest), every append runs in the caller's thread.
   */
  readonly workerAppendFrom?: number;
  /** Tests only: the compiled `append-worker.js` to use when the sources run under jest. */
  readonly appendWorkerFile?: string;
  /**
   * Keep each stream's Merkle tree (docs/proofs.md § 7): grown by a tree writer that follows the log in a thread of
   * its own (in memory, and when its compiled worker is not beside this module, inside every append's transaction),
   * caught up on open for events stored without it. Default true; false only for the benchmark's baseline (the tree
   * is then caught up at the next open with it on).
   */
  readonly merkle?: boolean;
  /** Tests only: the compiled `merkle-tree-worker.js` to use when the sources run under jest. */
  readonly merkleWorkerFile?: string;
  /**
   * With the tree writer following the log: an append that leaves the tree more than this many leaves behind the
   * events this store acknowledged waits until it has caught up (default 65 536), so the lag is bounded.
   */
  readonly merkleMaxLag?: number;
  /** The tree writer hands over what it hashed every this many leaves (default 16 384)… */
  readonly merkleFlushLeaves?: number;
  /** …or this long after the first leaf it has not handed over (default 50 ms); the store writes it then. */
  readonly merkleFlushMs?: number;
  /**
   * Whoever waits for the tree (caughtUp, close, an append over merkleMaxLag) gives the tree writer this long to
   * answer (default 60 s); one that does not is stopped as if it had died, the wait ends with its error, and the
   * tree catches up from the events (the next writer, or the next open) — instead of waiting for ever.
   */
  readonly merkleAnswerTimeoutMs?: number;
}

/**
 * `position` is the rowid; AUTOINCREMENT keeps SQLite from ever handing out a position again, even
 * after the newest rows were deleted, so a subscriber's checkpoint can never point at a different event.
 * UNIQUE(stream_id, revision) is also the index readStream and the "last event of the stream" lookup use.
 * UNIQUE(stream_id, id): an event id is unique in its stream (a tenant), not across streams, so one tenant's ids
 * neither block nor reveal another's.
 */
const EVENTS_TABLE = (name: string) => `
CREATE TABLE IF NOT EXISTS ${name} (
  position  INTEGER PRIMARY KEY AUTOINCREMENT,
  stream_id TEXT    NOT NULL,
  revision  INTEGER NOT NULL,
  id        TEXT    NOT NULL,
  type      TEXT    NOT NULL,
  data      TEXT    NOT NULL,
  metadata  TEXT    NOT NULL,
  prev_hash TEXT    NOT NULL,
  hash      TEXT    NOT NULL,
  UNIQUE (stream_id, revision),
  UNIQUE (stream_id, id)
);`;
const SCHEMA = `${EVENTS_TABLE('events')}
CREATE TABLE IF NOT EXISTS command_keys (
  stream_id      TEXT    NOT NULL,
  key            TEXT    NOT NULL,
  first_revision INTEGER NOT NULL,
  count          INTEGER NOT NULL,
  answer         TEXT    NOT NULL,
  PRIMARY KEY (stream_id, key)
) WITHOUT ROWID;`;

/** Whether `events` still has the first schema's UNIQUE(id) across all streams. */
function hasGlobalIdUniqueness(db: DatabaseSync): boolean {
  const indexes = db.prepare('SELECT name FROM pragma_index_list(\'events\') WHERE "unique" = 1').all() as { name: string }[];
  return indexes.some(({ name }) => {
    const columns = db.prepare('SELECT name FROM pragma_index_info(?)').all(name) as { name: string }[];
    return columns.length === 1 && columns[0]!.name === 'id';
  });
}

/**
 * Moves a store made with UNIQUE(id) to UNIQUE(stream_id, id). SQLite cannot drop a constraint, so the table is
 * rebuilt in one transaction: every row copied as stored (same position, bytes and hashes, so every chain still
 * verifies), and the AUTOINCREMENT counter carried over so no position is ever handed out twice. A crash before
 * COMMIT leaves the old table as it was; the next open migrates again.
 */
function migrateToPerStreamIds(db: DatabaseSync): void {
  if (!hasGlobalIdUniqueness(db)) return;
  db.exec('BEGIN IMMEDIATE');
  try {
    if (hasGlobalIdUniqueness(db)) {
      const sequence = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get() as { seq: number } | undefined;
      db.exec(EVENTS_TABLE('events_per_stream_ids'));
      db.exec(`INSERT INTO events_per_stream_ids (${COLUMNS}) SELECT ${COLUMNS} FROM events ORDER BY position`);
      db.exec('DROP TABLE events');
      db.exec('ALTER TABLE events_per_stream_ids RENAME TO events');
      if (sequence !== undefined) db.prepare("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'events'").run(sequence.seq);
    }
    db.exec('COMMIT');
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

/**
 * In-process wake-ups for subscriptions, keyed by database file, so that a subscription sees an
 * append of any store instance of this process on the same file at once; other processes' appends
 * are found by polling.
 */
const appendListeners = new Map<string, Set<() => void>>();

function listenersOf(key: string): Set<() => void> {
  let set = appendListeners.get(key);
  if (set === undefined) {
    set = new Set();
    appendListeners.set(key, set);
  }
  return set;
}

interface TreeThread {
  readonly thread: Worker;
}

interface AppendThread {
  readonly thread: Worker;
  readonly jobs: Map<number, { resolve(answer: AppendAnswer): void; reject(error: Error): void }>;
}

export class SqliteEventStore implements EventStore {
  readonly #db: DatabaseSync;
  readonly #notifyKey: string;
  readonly #pollIntervalMs: number;
  readonly #busyTimeoutMs: number;
  readonly #subscriptions = new Set<SqliteSubscription>();
  #closed = false;

  readonly #begin: StatementSync;
  readonly #commit: StatementSync;
  readonly #rollback: StatementSync;
  readonly #lastOfStream: StatementSync;
  readonly #appendStatements: AppendStatements;
  readonly #commandByKey: StatementSync;
  readonly #allForwards: StatementSync;
  readonly #allBackwards: StatementSync;
  /** `#allForwards` without the chain columns (`readAllPages({ chain: false })`). */
  readonly #contentForwards: StatementSync;
  readonly #streamForwards: StatementSync;
  readonly #streamBackwards: StatementSync;
  readonly #head: StatementSync;
  readonly #ping: StatementSync;
  readonly #knownIds: StatementSync;
  readonly #revisionOfId: StatementSync;
  readonly #storedLinks: StatementSync;
  readonly #streamCount: StatementSync;
  readonly #nthOfStream: StatementSync;
  /** The database file (undefined in memory: no second connection can read it). */
  readonly #path: string | undefined;
  readonly #parallelVerifyFrom: number;
  readonly #maxPageCount: number | undefined;
  readonly #workerAppendFrom: number;
  /** The compiled append worker, or undefined when large appends run in this thread too. */
  readonly #appendWorker: string | undefined;
  readonly #merkleOn: boolean;
  readonly #merkle: MerkleStatements;
  /** Appends running in a worker: close() waits for them. */
  readonly #inWorker = new Set<Promise<unknown>>();
  /** The append worker (started at the first large append, ended by close()) and the appends it holds, by job. */
  #appendWorkerThread: AppendThread | undefined;
  #lastJob = 0;
  /** The compiled tree worker when the tree follows the log (docs/proofs.md § 7), undefined when appends grow it. */
  readonly #treeWorker: string | undefined;
  /** Used on open (catch-up) and when an extension of the tree writer no longer fits the stored tree. */
  readonly #treeWriter: MerkleTreeWriter | undefined;
  readonly #treeMaxLag: number;
  readonly #treeFlushLeaves: number;
  readonly #treeFlushMs: number;
  readonly #treeAnswerTimeoutMs: number;
  #treeThread: TreeThread | undefined;
  /** Chain hashes acknowledged and not yet posted to the tree writer (#handToTree). */
  #treeOutbox: { streamId: string; firstRevision: number; hashes: string[] }[] = [];
  #treeOutboxLeaves = 0;
  #treePostTimer: NodeJS.Timeout | undefined;
  /** Leaves handed to the tree writer, and of those, how many the stored tree has (or that were given up). */
  #treePosted = 0;
  #treeStored = 0;
  /** Extensions handed back and not yet written, with the posted leaves they account for. */
  #treeQueue: { extensions: TreeExtension[]; leaves: number }[] = [];
  #treeWriteTimer: NodeJS.Timeout | undefined;
  #treeWriteSoon = false;
  /** Woken whenever #treeStored grows. */
  #treeWaiters: (() => void)[] = [];
  /** What went wrong in the tree writer since caughtUp() last reported it. */
  #treeError: Error | undefined;
  /** Per stream: leaves the tree has taken or been handed (appends below are refused: events deleted under it). */
  readonly #treeFloors = new Map<string, number>();
  #lockWaits = 0;

  private constructor(path: string, options: SqliteEventStoreOptions) {
    this.#pollIntervalMs = options.pollIntervalMs ?? 200;
    this.#parallelVerifyFrom = options.parallelVerifyFrom ?? 100_000;
    this.#path = path === ':memory:' ? undefined : resolve(path);
    this.#notifyKey = path === ':memory:' ? `:memory:${Math.random()}` : resolve(path);
    // busy_timeout: a second process (the CLI while the server runs, a crash-recovery check) waits
    // for the write lock instead of failing at once with SQLITE_BUSY.
    this.#busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    this.#db = new DatabaseSync(path, { timeout: this.#busyTimeoutMs });
    this.#db.exec('PRAGMA journal_mode = WAL');
    /*
     * Durability. append() resolves only after COMMIT has returned, so what a caller saw acknowledged
     * is exactly what committed. In WAL mode:
     *  - synchronous = NORMAL writes the commit to the WAL file but fsyncs only at checkpoints. A
     *    process crash (kill -9, OOM) loses nothing, since the OS already has the bytes, but a power
     *    loss or kernel panic can roll back the last acknowledged transactions.
     *  - synchronous = FULL fsyncs the WAL at every commit, so an acknowledged append also survives
     *    power loss. That is the promise an audit ledger has to make (an acknowledged access change
     *    that silently disappears is an audit gap), so FULL it is; the cost is one fsync per append,
     *    which batching amortizes (see docs/event-store.md for figures).
     */
    this.#db.exec('PRAGMA synchronous = FULL');
    this.#db.exec(SCHEMA);
    migrateToPerStreamIds(this.#db);
    this.#merkleOn = options.merkle ?? true;
    this.#db.exec(MERKLE_SCHEMA);
    this.#merkle = merkleStatements(this.#db);
    const treeWorker = options.merkleWorkerFile ?? MERKLE_TREE_WORKER;
    this.#treeWorker = this.#merkleOn && this.#path !== undefined && existsSync(treeWorker) ? treeWorker : undefined;
    this.#treeMaxLag = options.merkleMaxLag ?? 65_536;
    this.#treeFlushLeaves = options.merkleFlushLeaves ?? 16_384;
    this.#treeFlushMs = options.merkleFlushMs ?? 50;
    this.#treeAnswerTimeoutMs = options.merkleAnswerTimeoutMs ?? 60_000;
    this.#appendStatements = appendStatements(this.#db, this.#merkleOn && this.#treeWorker === undefined);
    this.#treeWriter = this.#appendStatements.merkle ?? (this.#merkleOn ? new MerkleTreeWriter(this.#db) : undefined);
    // A store made before the tree existed (or written with it off, or closed by a crash before its tree writer had
    // caught up) gets its trees built here.
    if (this.#treeWriter !== undefined) catchUpTrees(this.#db, this.#treeWriter);
    if (options.maxPageCount !== undefined) this.#db.exec(`PRAGMA max_page_count = ${Math.floor(options.maxPageCount)}`);
    this.#maxPageCount = options.maxPageCount;
    this.#workerAppendFrom = Math.max(1, options.workerAppendFrom ?? 2000);
    const appendWorker = options.appendWorkerFile ?? APPEND_WORKER;
    this.#appendWorker = this.#path !== undefined && existsSync(appendWorker) ? appendWorker : undefined;

    this.#begin = this.#db.prepare('BEGIN IMMEDIATE');
    this.#commit = this.#db.prepare('COMMIT');
    this.#rollback = this.#db.prepare('ROLLBACK');
    this.#lastOfStream = this.#db.prepare('SELECT revision, hash FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1');
    this.#commandByKey = this.#db.prepare('SELECT first_revision, count, answer FROM command_keys WHERE stream_id = ? AND key = ?');
    this.#allForwards = this.#db.prepare(`SELECT ${COLUMNS} FROM events WHERE position > ? AND position < ? ORDER BY position ASC LIMIT ?`);
    this.#allBackwards = this.#db.prepare(`SELECT ${COLUMNS} FROM events WHERE position > ? AND position < ? ORDER BY position DESC LIMIT ?`);
    this.#contentForwards = this.#db.prepare(
      `SELECT position, stream_id, revision, id, type, data, metadata FROM events WHERE position > ? AND position < ? ORDER BY position ASC LIMIT ?`,
    );
    this.#streamForwards = this.#db.prepare(`SELECT ${COLUMNS} FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision ASC LIMIT ?`);
    this.#streamBackwards = this.#db.prepare(`SELECT ${COLUMNS} FROM events WHERE stream_id = ? AND revision <= ? ORDER BY revision DESC LIMIT ?`);
    for (const read of [this.#allForwards, this.#allBackwards, this.#contentForwards, this.#streamForwards, this.#streamBackwards]) read.setReturnArrays(true);
    this.#head = this.#db.prepare('SELECT MAX(position) AS head FROM events');
    this.#knownIds = this.#db.prepare('SELECT id FROM events WHERE stream_id = ? AND id IN (SELECT value FROM json_each(?))');
    this.#revisionOfId = this.#db.prepare('SELECT revision FROM events WHERE stream_id = ? AND id = ?');
    this.#storedLinks = this.#db.prepare(STORED_LINKS_SQL);
    this.#storedLinks.setReturnArrays(true);
    this.#streamCount = this.#db.prepare('SELECT COUNT(*) AS n FROM events WHERE stream_id = ?');
    this.#nthOfStream = this.#db.prepare('SELECT revision, hash FROM events WHERE stream_id = ? ORDER BY revision LIMIT 1 OFFSET ?');
    this.#ping = this.#db.prepare('SELECT 1');
  }

  /** Opens (and creates if needed) the store in one SQLite file. */
  static open(path: string, options: SqliteEventStoreOptions = {}): SqliteEventStore {
    if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
    return new SqliteEventStore(path, options);
  }

  async append(streamId: string, events: readonly EventToAppend[], options: AppendOptions = {}): Promise<AppendResult> {
    const expected = options.expectedRevision ?? 'any';
    assertValidExpectedRevision(expected);
    this.#assertOpen();
    const ids = new Set<string>();
    for (const event of events) {
      if (ids.has(event.id)) throw new RangeError(`event id ${event.id} appears twice in one append`);
      ids.add(event.id);
    }
    const commands = options.commands ?? [];
    const treeSize = this.#treeWorker === undefined ? 0 : this.#treeFloor(streamId);
    const outcome =
      this.#appendWorker !== undefined && events.length >= this.#workerAppendFrom
        ? await this.#appendInWorker(this.#appendWorker, streamId, events, expected, commands, treeSize)
        : await this.#appendHere(streamId, events, expected, commands, treeSize);
    if (outcome.kind === 'written' && this.#treeWorker !== undefined) await this.#handToTree(this.#treeWorker, streamId, outcome.firstRevision, outcome.hashes);
    switch (outcome.kind) {
      case 'replay':
        return outcome.result;
      case 'unchanged':
        return { nextRevision: outcome.nextRevision, events: [] };
      case 'written': {
        this.#notifyAppended();
        const { firstRevision, prevHash, positions, hashes } = outcome;
        const recorded = events.map(
          (event, i): RecordedEvent => ({
            streamId,
            revision: firstRevision + i,
            id: event.id,
            type: event.type,
            data: event.data,
            metadata: event.metadata,
            position: positions[i]!,
            prevHash: i === 0 ? prevHash : hashes[i - 1]!,
            hash: hashes[i]!,
          }),
        );
        return { nextRevision: firstRevision + events.length - 1, events: recorded };
      }
    }
  }

  /**
   * The whole append runs synchronously between BEGIN IMMEDIATE and COMMIT: no other append of this process can
   * interleave, and BEGIN IMMEDIATE takes the write lock before we read the stream's head, so another process (or an
   * append worker) cannot either. Waiting for another connection's lock happens before BEGIN, on the event loop
   * (#tryBegin); from a successful BEGIN to COMMIT nothing is awaited.
   */
  async #appendHere(
    streamId: string,
    events: readonly EventToAppend[],
    expected: ExpectedRevision,
    commands: AppendOptions['commands'] & {},
    treeSize: number,
  ): Promise<AppendOutcome> {
    const deadline = performance.now() + this.#busyTimeoutMs;
    while (!this.#tryBegin(deadline)) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      this.#assertOpen();
    }
    try {
      const batch = {
        ids: events.map((e) => e.id),
        types: events.map((e) => e.type),
        canonical: (i: number) => [canonicalJson(events[i]!.data), canonicalJson(events[i]!.metadata)] as const,
      };
      const outcome = appendInTransaction(this.#appendStatements, streamId, batch, expected, commands, treeSize);
      // The tree writer's rows ride on this transaction: no write lock of their own, no commit of their own.
      if (this.#treeQueue.length > 0) this.#writeTreeExtensions();
      this.#commit.run();
      return outcome;
    } catch (error) {
      if (this.#db.isTransaction) this.#rollback.run();
      throw this.#classified(error);
    }
  }

  /**
   * A large append in a worker thread: hashing and inserting 50 000 events took ≈ 1 s in one
   * synchronous transaction, during which the server answered nothing. Here the events are canonicalized in chunks,
   * one event-loop turn each, and handed over; the worker runs the same transaction (`appendInTransaction`) on its own
   * connection, so the file's write lock serializes it with every other writer exactly as another process would be
   * (this thread's appends meanwhile wait in #tryBegin), and readers on this connection see the events only once
   * committed (WAL). Errors come back as data and are rebuilt as the classes the in-thread path throws.
   */
  async #appendInWorker(
    file: string,
    streamId: string,
    events: readonly EventToAppend[],
    expected: ExpectedRevision,
    commands: AppendOptions['commands'] & {},
    treeSize: number,
  ): Promise<AppendOutcome> {
    const worker = this.#appendThread(file);
    const job = ++this.#lastJob;
    const answer = new Promise<AppendAnswer>((resolve, reject) => worker.jobs.set(job, { resolve, reject }));
    answer.catch(() => undefined); // awaited below, once every chunk is sent; this only keeps an early failure from counting as unhandled meanwhile
    const running = (async () => {
      try {
        worker.thread.ref();
        const header: AppendJob = { kind: 'job', job, streamId, expected, commands, count: events.length, treeSize };
        worker.thread.postMessage(header);
        for (let from = 0; from < events.length; from += WORKER_CHUNK) {
          const slice = events.slice(from, from + WORKER_CHUNK);
          const chunk: AppendChunk = {
            kind: 'chunk',
            job,
            ids: slice.map((e) => e.id),
            types: slice.map((e) => e.type),
            data: slice.map((e) => canonicalJson(e.data)),
            metadata: slice.map((e) => canonicalJson(e.metadata)),
          };
          worker.thread.postMessage(chunk);
          if (from + WORKER_CHUNK < events.length) await nextTurn();
        }
        const reply = await answer;
        if ('error' in reply) throw this.#classified(appendErrorOf(reply.error));
        return reply.outcome;
      } finally {
        worker.jobs.delete(job);
        // An idle worker does not keep the process alive (close() ends it).
        if (worker.jobs.size === 0) worker.thread.unref();
      }
    })();
    this.#inWorker.add(running);
    try {
      return await running;
    } finally {
      this.#inWorker.delete(running);
    }
  }

  /**
   * The store's append worker, started at the first large append and kept until close(). One that fails (it never
   * should: errors of an append come back as answers) fails the appends it holds — none of which committed, its
   * connection's end rolls back what it had begun — and the next large append starts another.
   */
  #appendThread(file: string): AppendThread {
    if (this.#appendWorkerThread !== undefined) return this.#appendWorkerThread;
    const settings: AppendWorkerData = {
      path: this.#path!,
      busyTimeoutMs: this.#busyTimeoutMs,
      maxPageCount: this.#maxPageCount,
      merkle: this.#appendStatements.merkle !== undefined,
    };
    const thread = new Worker(file, { workerData: settings });
    const worker: AppendThread = { thread, jobs: new Map() };
    const fail = (error: Error) => {
      if (this.#appendWorkerThread === worker) this.#appendWorkerThread = undefined;
      for (const pending of worker.jobs.values()) pending.reject(error);
      worker.jobs.clear();
    };
    thread.on('message', (answer: AppendAnswer) => worker.jobs.get(answer.job)?.resolve(answer));
    thread.on('error', fail);
    thread.on('exit', (code) => fail(new Error(`append worker exited (${code}) without an answer`)));
    this.#appendWorkerThread = worker;
    return worker;
  }

  /** Leaves of this stream the tree has taken or been handed (read from the stored tree at the stream's first append). */
  #treeFloor(streamId: string): number {
    let floor = this.#treeFloors.get(streamId);
    if (floor === undefined) {
      floor = storedTreeSize(this.#merkle, streamId);
      this.#treeFloors.set(streamId, floor);
    }
    return floor;
  }

  /**
   * Hands a committed append's chain hashes to the tree writer, and waits — the bound on the lag — when the tree is
   * more than merkleMaxLag leaves behind what this store acknowledged. Small appends are gathered first (a message to
   * another thread costs tens of µs of CPU, thread wake-ups included, more than hashing one leaf): they are posted
   * at TREE_POST_LEAVES leaves, at the next timer turn, or when someone waits for the tree.
   */
  async #handToTree(file: string, streamId: string, firstRevision: number, hashes: readonly string[]): Promise<void> {
    this.#treeFloors.set(streamId, Math.max(this.#treeFloor(streamId), firstRevision + hashes.length));
    if (this.#treePosted === this.#treeStored) this.#treeThreadOf(file).thread.ref();
    this.#treePosted += hashes.length;
    const last = this.#treeOutbox.at(-1);
    if (last !== undefined && last.streamId === streamId && last.firstRevision + last.hashes.length === firstRevision)
      for (const h of hashes) last.hashes.push(h);
    else this.#treeOutbox.push({ streamId, firstRevision, hashes: [...hashes] });
    this.#treeOutboxLeaves += hashes.length;
    if (this.#treeOutboxLeaves >= TREE_POST_LEAVES) this.#postToTree();
    else this.#treePostTimer ??= setTimeout(() => this.#postToTree(), 0);
    if (this.#treePosted - this.#treeStored > this.#treeMaxLag) await this.#treeCaughtUp();
  }

  /** The gathered chain hashes to the tree writer, one message per stretch of a stream (joined: one string to copy). */
  #postToTree(): void {
    if (this.#treePostTimer !== undefined) clearTimeout(this.#treePostTimer);
    this.#treePostTimer = undefined;
    const outbox = this.#treeOutbox;
    this.#treeOutbox = [];
    this.#treeOutboxLeaves = 0;
    if (outbox.length === 0 || this.#treeWorker === undefined) return;
    const tree = this.#treeThreadOf(this.#treeWorker);
    for (const { streamId, firstRevision, hashes } of outbox) {
      const request: TreeRequest = { kind: 'leaves', streamId, firstRevision, hashes: hashes.join('') };
      tree.thread.postMessage(request);
    }
  }

  /** The tree writer, started at the first append and kept until close(); one that dies is replaced at the next. */
  #treeThreadOf(file: string): TreeThread {
    if (this.#treeThread !== undefined) return this.#treeThread;
    const settings: TreeWorkerData = { path: this.#path!, busyTimeoutMs: this.#busyTimeoutMs, flushLeaves: this.#treeFlushLeaves, flushMs: this.#treeFlushMs };
    const thread = new Worker(file, { workerData: settings });
    const tree: TreeThread = { thread };
    const lost = (error: Error) => {
      if (this.#treeThread !== tree) return;
      this.#treeThread = undefined;
      // What it held is lost: the stored tree lags until the next writer reads the missing leaves from the events
      // (its first leaves of each stream continue from the stored tree), or the next open catches it up.
      this.#treeError ??= error;
      this.#treeQueue.push({ extensions: [], leaves: this.#treePosted - this.#treeStored - this.#queuedLeaves() - this.#treeOutboxLeaves });
      this.#scheduleTreeWrite(0);
    };
    thread.on('message', (answer: TreeAnswer) => {
      if (answer.kind === 'error') {
        this.#treeError ??= Object.assign(new MerkleTreeError(answer.message), { name: answer.name });
        return;
      }
      this.#treeQueue.push({ extensions: answer.extensions, leaves: answer.leaves });
      // Written by the next append's transaction, or by one of its own when none comes soon; someone waiting for the
      // tree gets one transaction, once the answer to its flush is here.
      if (this.#treeWaiters.length === 0) this.#scheduleTreeWrite(this.#treeFlushMs);
      else if (answer.flushed) this.#scheduleTreeWrite(0);
    });
    thread.on('error', lost);
    thread.on('exit', (code) => lost(new Error(`Merkle tree worker exited (${code})`)));
    this.#treeThread = tree;
    return tree;
  }

  #queuedLeaves(): number {
    let n = 0;
    for (const q of this.#treeQueue) n += q.leaves;
    return n;
  }

  /** A transaction of the tree's own in `ms` (0: once the messages at hand are handled: one commit for them all). */
  #scheduleTreeWrite(ms: number): void {
    if (this.#treeWriteTimer !== undefined) {
      if (ms > 0) return;
      clearTimeout(this.#treeWriteTimer);
    }
    if (ms === 0 && this.#treeWriteSoon) return;
    const write = () => {
      this.#treeWriteTimer = undefined;
      this.#treeWriteSoon = false;
      this.#writeTreeAlone().catch((error: unknown) => {
        // Nothing awaits a timer: the error is kept for caughtUp(), and the tree catches up at the next open. What
        // could not be written is given up, or whoever waits for the tree (close() too) would wait forever.
        this.#treeError ??= error as Error;
        this.#giveUpTreeQueue();
      });
    };
    if (ms === 0) {
      this.#treeWriteTimer = undefined;
      this.#treeWriteSoon = true;
      setImmediate(write);
    } else this.#treeWriteTimer = setTimeout(write, ms);
  }

  /**
   * The tree writer's extensions in a transaction of their own (no append came to carry them), committed without an
   * fsync (synchronous = NORMAL for it alone): the tree is rebuilt from the events on open, so a power loss may
   * take these rows, never an event; WAL frames are synced in order, so the next append's fsync makes them durable.
   */
  async #writeTreeAlone(): Promise<void> {
    if (this.#treeQueue.length === 0) return;
    const deadline = performance.now() + this.#busyTimeoutMs;
    // NORMAL only from a BEGIN that succeeds to its COMMIT, nothing awaited in between: no append of this connection
    // can commit under it.
    for (;;) {
      this.#db.exec('PRAGMA synchronous = NORMAL');
      let begun = false;
      try {
        begun = this.#tryBegin(deadline);
      } finally {
        if (!begun) this.#db.exec('PRAGMA synchronous = FULL');
      }
      if (begun) break;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    try {
      this.#writeTreeExtensions();
      this.#commit.run();
    } catch (error) {
      if (this.#db.isTransaction) this.#rollback.run();
      throw this.#classified(error);
    } finally {
      this.#db.exec('PRAGMA synchronous = FULL');
    }
  }

  /**
   * Inside a write transaction: stores the extensions handed back. Each is written only onto the stored tree it was
   * hashed from (same size); a stored tree that moved meanwhile (another process's appends grew it) is caught up from
   * the events by the inline writer, or already covers it, and the tree writer starts that stream again from what is
   * stored. In a savepoint: whatever goes wrong here must not take the append carrying it down.
   */
  #writeTreeExtensions(): void {
    const queue = this.#treeQueue;
    this.#treeQueue = [];
    let leaves = 0;
    this.#db.exec('SAVEPOINT tree');
    try {
      for (const { extensions, leaves: n } of queue) {
        leaves += n;
        for (const x of extensions) {
          const stored = storedTreeSize(this.#merkle, x.streamId);
          if (stored === x.base) {
            for (const [level, idx, hash] of x.nodes) this.#merkle.insertNode.run(x.streamId, level, idx, hash);
            this.#merkle.setSize.run(x.streamId, x.size);
            continue;
          }
          if (stored < x.size) this.#treeWriter!.extend(x.streamId, x.size, undefined, []);
          this.#forgetTreeStream(x.streamId);
        }
      }
      this.#db.exec('RELEASE tree');
    } catch (error) {
      this.#db.exec('ROLLBACK TO tree');
      this.#db.exec('RELEASE tree');
      this.#treeError ??= error as Error;
      for (const { extensions } of queue) for (const x of extensions) this.#forgetTreeStream(x.streamId);
    }
    this.#treeSettled(leaves);
  }

  /** The queued extensions, not written: the tree writer starts their streams again from the stored tree. */
  #giveUpTreeQueue(): void {
    const queue = this.#treeQueue;
    this.#treeQueue = [];
    let leaves = 0;
    for (const { extensions, leaves: n } of queue) {
      leaves += n;
      for (const x of extensions) this.#forgetTreeStream(x.streamId);
    }
    this.#treeSettled(leaves);
  }

  /** The tree writer drops what it holds of the stream and starts it again from the stored tree. */
  #forgetTreeStream(streamId: string): void {
    this.#treeThread?.thread.postMessage({ kind: 'forget', streamId } satisfies TreeRequest);
  }

  /**
   * Leaves done with — stored, or given up (counted even then: they are the next open's catch-up, and waiting longer
   * would not bring them): the thread may let the process exit once none is left, and whoever waits looks again.
   */
  #treeSettled(leaves: number): void {
    this.#treeStored += leaves;
    if (this.#treeStored === this.#treePosted) this.#treeThread?.thread.unref();
    const waiters = this.#treeWaiters;
    this.#treeWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Until the stored tree has every leaf handed to the tree writer so far. */
  async #treeCaughtUp(): Promise<void> {
    const target = this.#treePosted;
    this.#postToTree();
    while (this.#treeStored < target) {
      const woken = new Promise<void>((resolve) => this.#treeWaiters.push(resolve));
      if (this.#treeQueue.length > 0) this.#scheduleTreeWrite(0);
      else this.#treeThread?.thread.postMessage({ kind: 'flush' } satisfies TreeRequest);
      // Any answer that settles leaves wakes this loop and starts the count again.
      const tree = this.#treeThread;
      const silent =
        tree === undefined
          ? undefined
          : setTimeout(() => {
              this.#treeError ??= new MerkleTreeError(
                `the Merkle tree writer did not answer within ${this.#treeAnswerTimeoutMs} ms: stopped; the stored tree catches up from the events`,
              );
              void tree.thread.terminate();
            }, this.#treeAnswerTimeoutMs);
      try {
        await woken;
      } finally {
        clearTimeout(silent);
      }
    }
  }

  /** How often a write transaction of this store's connection found the write lock taken and waited (1 ms each). */
  get lockWaits(): number {
    return this.#lockWaits;
  }

  /** Leaves this store acknowledged that its stored tree does not have yet (0 when appends grow the tree). */
  get merkleLag(): number {
    return this.#treePosted - this.#treeStored;
  }

  /**
   * BEGIN IMMEDIATE without waiting: false while another process holds the write lock (the caller retries every
   * 1 ms on the event loop, until `deadline`). SQLite's own busy handler sleeps in growing steps (1, 2, 5, 10, 15 …
   * ms) with the thread blocked, so against a writer in a loop (`ledger import` beside the server) it waited ≈ 30 ms
   * per append and lost nearly every race. Reads keep the busy timeout: it is lifted only around
   * the BEGIN itself.
   */
  #tryBegin(deadline: number): boolean {
    this.#db.exec('PRAGMA busy_timeout = 0');
    try {
      this.#begin.run();
      return true;
    } catch (error) {
      if (!isBusy(error) || performance.now() >= deadline) throw this.#classified(error);
      this.#lockWaits++;
      return false;
    } finally {
      this.#db.exec(`PRAGMA busy_timeout = ${this.#busyTimeoutMs}`);
    }
  }

  /** SQLITE_FULL (a full disk, or `maxPageCount`) becomes StorageFullError naming the file. */
  #classified(error: unknown): unknown {
    return isStorageFull(error) ? new StorageFullError(this.#path ?? ':memory:', { cause: error }) : error;
  }

  async commandByKey(streamId: string, key: string): Promise<StoredCommand | undefined> {
    this.#assertOpen();
    const row = this.#commandByKey.get(streamId, key) as { first_revision: number; count: number; answer: string } | undefined;
    if (row === undefined) return undefined;
    const events = row.count === 0 ? [] : recordsOf(this.#streamForwards, streamId, row.first_revision, row.count);
    return { key, answer: JSON.parse(row.answer) as JsonValue, events };
  }

  #notifyAppended(): void {
    for (const listener of appendListeners.get(this.#notifyKey) ?? []) listener();
  }

  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    const backwards = options.direction === 'backwards';
    let remaining = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    let from = options.fromRevision ?? (backwards ? Number.MAX_SAFE_INTEGER : 0);
    while (remaining > 0) {
      this.#assertOpen();
      const limit = Math.min(PAGE_SIZE, remaining);
      const statement = backwards ? this.#streamBackwards : this.#streamForwards;
      const rows = recordsOf(statement, streamId, from, limit);
      yield* rows;
      if (rows.length < limit) return;
      remaining -= rows.length;
      from = rows[rows.length - 1]!.revision + (backwards ? -1 : 1);
    }
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    const backwards = options.direction === 'backwards';
    let remaining = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    let after = options.after ?? -1;
    let before = options.before ?? Number.MAX_SAFE_INTEGER;
    while (remaining > 0) {
      this.#assertOpen();
      const limit = Math.min(PAGE_SIZE, remaining);
      const rows = recordsOf(backwards ? this.#allBackwards : this.#allForwards, after, before, limit);
      yield* rows;
      if (rows.length < limit) return;
      remaining -= rows.length;
      const edge = rows[rows.length - 1]!.position;
      if (backwards) before = edge;
      else after = edge;
    }
  }

  async *readAllPages(options: ReadAllPagesOptions = {}): AsyncIterable<readonly RecordedEvent[]> {
    let after = options.after ?? -1;
    const pageSize = Math.max(1, options.pageSize ?? PAGE_SIZE);
    for (;;) {
      this.#assertOpen();
      const chain = options.chain !== false;
      const page = recordsOf(chain ? this.#allForwards : this.#contentForwards, after, Number.MAX_SAFE_INTEGER, pageSize);
      if (page.length === 0) return;
      yield page;
      if (page.length < pageSize) return;
      after = page[page.length - 1]!.position;
    }
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    this.#assertOpen();
    const listeners = listenersOf(this.#notifyKey);
    const subscription = new SqliteSubscription({
      after: options.after ?? -1,
      pollIntervalMs: this.#pollIntervalMs,
      readPage: (after) => (this.#allForwards.all(after, Number.MAX_SAFE_INTEGER, SUBSCRIPTION_PAGE_SIZE) as unknown as unknown[][]).map(lazilyRecordedOf),
      listen: (wake) => {
        listeners.add(wake);
        return () => listeners.delete(wake);
      },
      onClose: (s) => this.#subscriptions.delete(s),
    });
    this.#subscriptions.add(subscription);
    return subscription;
  }

  /** In slices of KNOWN_IDS_SLICE ids, one event-loop turn each: the 50 000 ids of a large import took ≈ 60 ms at once. */
  async eventById(streamId: string, id: string): Promise<RecordedEvent | undefined> {
    this.#assertOpen();
    const row = this.#revisionOfId.get(streamId, id) as { revision: number } | undefined;
    return row === undefined ? undefined : recordsOf(this.#streamForwards, streamId, row.revision, 1)[0];
  }

  async knownIds(streamId: string, ids: readonly string[]): Promise<ReadonlySet<string>> {
    this.#assertOpen();
    const known = new Set<string>();
    for (let from = 0; from < ids.length; from += KNOWN_IDS_SLICE) {
      if (from > 0) {
        await nextTurn();
        this.#assertOpen();
      }
      const rows = this.#knownIds.all(streamId, JSON.stringify(ids.slice(from, from + KNOWN_IDS_SLICE))) as unknown as { id: string }[];
      for (const row of rows) known.add(row.id);
    }
    return known;
  }

  async streamRevision(streamId: string): Promise<number | null> {
    this.#assertOpen();
    const last = this.#lastOfStream.get(streamId) as { revision: number } | undefined;
    return last === undefined ? null : last.revision;
  }

  /** An index scan (UNIQUE (stream_id, revision)). */
  async streamIds(): Promise<string[]> {
    return (this.#db.prepare('SELECT DISTINCT stream_id FROM events ORDER BY stream_id').all() as { stream_id: string }[]).map((r) => r.stream_id);
  }

  async headPosition(): Promise<number> {
    this.#assertOpen();
    const row = this.#head.get() as { head: number | null };
    return row.head ?? -1;
  }

  /**
   * The stream's rows hashed as stored (`verifyStoredEvents`), yielding to the event loop between pages. A long
   * stream is walked in two halves at once, the second in a worker thread on the other core: the second half starts
   * from the hash the last row of the first half stores, which the first half's walk checks, so the answer — first
   * bad event, reason, count, head — is the one a single walk gives (tested against it).
   */
  async verifyChain(streamId: string, onProgress?: (checked: number) => void, options: VerifyOptions = {}): Promise<ChainVerification> {
    this.#assertOpen();
    if (options.tail !== undefined) return this.#verifyTail(streamId, options.tail, onProgress);
    const rows = (this.#streamCount.get(streamId) as { n: number }).n;
    const links = (to: number) =>
      storedLinks(this.#storedLinks, streamId, { from: 0, to }, () => {
        this.#assertOpen();
        return nextTurn();
      });
    if (rows < this.#parallelVerifyFrom || this.#path === undefined || !existsSync(CHAIN_RANGE_WORKER)) {
      return verifyStoredEvents(streamId, links(Number.MAX_SAFE_INTEGER), onProgress);
    }
    const split = this.#nthOfStream.get(streamId, Math.floor(rows / 2) - 1) as { revision: number; hash: string };
    let firstHalf = 0;
    let secondHalf = 0;
    const report = () => onProgress?.(firstHalf + secondHalf);
    const worker = new Worker(CHAIN_RANGE_WORKER, { workerData: { path: this.#path, streamId, start: { from: split.revision + 1, prevHash: split.hash } } });
    const tail = new Promise<ChainVerification>((resolve, reject) => {
      worker.on('message', (m: { progress?: number; result?: ChainVerification }) => {
        if (m.result) resolve(m.result);
        else if (m.progress !== undefined) {
          secondHalf = m.progress;
          report();
        }
      });
      worker.on('error', reject);
      worker.on('exit', (code) => reject(new Error(`chain walk worker exited (${code}) without an answer`)));
    });
    tail.catch(() => undefined); // not awaited when the first half already failed

    try {
      const head = await verifyStoredEvents(streamId, links(split.revision), (checked) => {
        firstHalf = checked;
        report();
      });
      if (!head.valid) return head;
      const rest = await tail;
      return { ...rest, events: head.events + rest.events };
    } finally {
      await worker.terminate();
    }
  }

  /**
   * The last `count` revisions: each row's hash recomputed from its stored text and each link checked, starting from
   * the hash the row before the tail stores (that row itself is left to the full walk).
   */
  async #verifyTail(streamId: string, count: number, onProgress?: (checked: number) => void): Promise<ChainVerification> {
    const last = this.#lastOfStream.get(streamId) as { revision: number } | undefined;
    if (last === undefined) return { streamId, events: 0, head: null, valid: true };
    const from = Math.max(0, last.revision - Math.max(1, count) + 1);
    const before =
      from === 0
        ? undefined
        : (this.#db.prepare('SELECT hash FROM events WHERE stream_id = ? AND revision = ?').get(streamId, from - 1) as { hash: string } | undefined);
    const start = from === 0 ? { from, prevHash: GENESIS_HASH } : before ? { from, prevHash: before.hash } : undefined;
    if (start === undefined) {
      const position = (this.#db.prepare('SELECT MIN(position) AS p FROM events WHERE stream_id = ? AND revision >= ?').get(streamId, from) as { p: number }).p;
      return {
        streamId,
        events: 0,
        head: null,
        valid: false,
        firstBadRevision: from - 1,
        firstBadPosition: position,
        reason: `revision ${from - 1} is missing`,
      };
    }
    const links = storedLinks(this.#storedLinks, streamId, { from, to: Number.MAX_SAFE_INTEGER }, () => {
      this.#assertOpen();
      return nextTurn();
    });
    return verifyStoredEvents(streamId, links, onProgress, start);
  }

  /** The stream's Merkle tree, its roots and proofs (merkle-tree.ts, docs/proofs.md). */
  readonly merkle: MerkleLog = {
    treeSize: async (streamId) => {
      this.#assertOpen();
      return this.#merkleOn ? Math.min(storedTreeSize(this.#merkle, streamId), ((await this.streamRevision(streamId)) ?? -1) + 1) : 0;
    },
    rootHash: async (streamId, treeSize) => {
      this.#assertTree(streamId, treeSize);
      return treeSize === 0 ? EMPTY_TREE_HASH : subtreeHashes(this.#merkle, streamId, treeSize)(0, treeSize).toString('hex');
    },
    inclusionProof: async (streamId, leafIndex, treeSize) => {
      this.#assertTree(streamId, treeSize);
      return inclusionPath(leafIndex, treeSize, subtreeHashes(this.#merkle, streamId, treeSize)).map((b) => b.toString('hex'));
    },
    consistencyProof: async (streamId, fromSize, toSize) => {
      this.#assertTree(streamId, toSize);
      return consistencyPath(fromSize, toSize, subtreeHashes(this.#merkle, streamId, toSize)).map((b) => b.toString('hex'));
    },
    caughtUp: async () => {
      this.#assertOpen();
      await this.#treeCaughtUp();
      const error = this.#treeError;
      this.#treeError = undefined;
      if (error !== undefined) throw error;
    },
  };

  #assertTree(streamId: string, treeSize: number): void {
    this.#assertOpen();
    if (!this.#merkleOn) throw new MerkleTreeError('this store was opened with merkle: false');
    const stored = storedTreeSize(this.#merkle, streamId);
    if (!Number.isInteger(treeSize) || treeSize < 0 || treeSize > stored)
      throw new RangeError(`stream ${streamId}: no tree of ${treeSize} events (the tree has ${stored})`);
  }

  async ping(): Promise<void> {
    this.#assertOpen();
    this.#ping.get();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await Promise.all([...this.#subscriptions].map((s) => s.close()));
    this.#closed = true;
    // An append acknowledged after close would be one the caller cannot read back here; let those under way finish.
    await Promise.allSettled([...this.#inWorker]);
    // The tree is drained: what this store acknowledged is in the stored tree when close() returns (a failure of the
    // tree writer leaves it to the next open's catch-up; the events are stored either way).
    await this.#treeCaughtUp();
    if (this.#treeWriteTimer !== undefined) clearTimeout(this.#treeWriteTimer);
    const tree = this.#treeThread;
    this.#treeThread = undefined;
    if (tree !== undefined) {
      const exited = new Promise((resolve) => tree.thread.once('exit', resolve));
      tree.thread.ref();
      tree.thread.postMessage({ kind: 'close' } satisfies TreeRequest);
      await exited;
    }
    const worker = this.#appendWorkerThread;
    this.#appendWorkerThread = undefined;
    if (worker !== undefined) {
      const exited = new Promise((resolve) => worker.thread.once('exit', resolve));
      // An idle worker is unref'd: without this, a process whose last work is this close() would end before the
      // worker's exit arrives, leaving close() (and whoever awaits it) unsettled.
      worker.thread.ref();
      worker.thread.postMessage({ kind: 'close' });
      await exited;
    }
    this.#db.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('event store is closed');
  }
}

interface SubscriptionSource {
  readonly after: number;
  readonly pollIntervalMs: number;
  readPage(after: number): RecordedEvent[];
  /** Registers a wake-up called after every append in this process; returns the unregistration. */
  listen(wake: () => void): () => void;
  onClose(subscription: SqliteSubscription): void;
}

/**
 * Catch-up subscription. History and live events come from the same query, `position > last
 * delivered`, so the switch from catching up to live cannot skip or repeat an event: being live only
 * means the last page was short and we wait for a wake-up (this process appended) or the poll timer
 * (another process may have) before asking again.
 */
class SqliteSubscription implements Subscription {
  readonly #source: SubscriptionSource;
  readonly #iterator: AsyncGenerator<RecordedEvent>;
  #closed = false;
  /** Set by every wake-up; cleared right before each query, so a wake-up during delivery is not lost. */
  #pending = false;
  #wake: (() => void) | null = null;
  #unlisten: (() => void) | null = null;

  constructor(source: SubscriptionSource) {
    this.#source = source;
    this.#iterator = this.#run();
  }

  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    return this.#iterator;
  }

  async *#run(): AsyncGenerator<RecordedEvent> {
    let last = this.#source.after;
    this.#unlisten = this.#source.listen(() => {
      this.#pending = true;
      this.#wake?.();
    });
    try {
      while (!this.#closed) {
        this.#pending = false;
        const rows = this.#source.readPage(last);
        for (const event of rows) {
          if (this.#closed) return;
          last = event.position;
          yield event;
        }
        if (rows.length === SUBSCRIPTION_PAGE_SIZE) continue;
        await this.#idle();
      }
    } finally {
      this.#release();
    }
  }

  #idle(): Promise<void> {
    if (this.#pending || this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.#source.pollIntervalMs);
      const self = this;
      function done(): void {
        clearTimeout(timer);
        self.#wake = null;
        resolve();
      }
      this.#wake = done;
    });
  }

  #release(): void {
    this.#closed = true;
    this.#unlisten?.();
    this.#unlisten = null;
    this.#source.onClose(this);
  }

  poke(): void {
    this.#pending = true;
    this.#wake?.();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#release();
    this.#wake?.();
  }
}
