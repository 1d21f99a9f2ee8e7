import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type ActivityEnvelope, type Disposition, envelopeOf, type MappedLine, mapActivity, OBSERVED_TYPES } from './compliance-api/mapping.js';

/**
 * The pending activities of a source, for step 2 of a sync (docs/sources.md § Sync): read oldest first (created_at,
 * id) in batches, each mapped to its import lines with the activity's digest as evidence; and, once the ledger has
 * stored a batch's events, marked applied with their dispositions in one transaction. The sync (`applyStaged`) holds
 * the import and its refusals; this holds `sources.sqlite`'s side, in the caller's thread or in a worker thread of its
 * own (`pending-worker.ts`), which then reads and maps the next batch while the ledger checks and appends this one.
 */

/** What applying an activity came to; `lines` go to the ledger (empty for audit, unmapped, rejected). */
export interface Outcome {
  readonly id: string;
  disposition: Disposition;
  reason: string | null;
  readonly lines: readonly MappedLine[];
}

/** An activity whose lines need the directory read at ingestion (OBSERVED_TYPES): the sync calls `observe` for them. */
export interface ToObserve {
  readonly id: string;
  readonly observe: { readonly raw: Record<string, unknown>; readonly envelope: ActivityEnvelope; readonly digest: ActivityDigest };
}

export type ActivityDigest = { readonly complianceActivityId: string; readonly complianceActivitySha256: string };

export interface PendingBatches {
  /** The next batch after the last one handed out (taken but not yet marked rows are not read again), or undefined. */
  next(): Promise<(Outcome | ToObserve)[] | undefined>;
  /** Marks the batch's activities applied with their dispositions (a rejected one also in `rejected`, with its text). */
  mark(outcomes: readonly Pick<Outcome, 'id' | 'disposition' | 'reason'>[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * The evidence every event of an activity carries: the activity's id and the SHA-256 of its text as staged in
 * `sources.sqlite` (hex), where the activity stays verbatim. An auditor reads that text (`ledger sources
 * show-activity <id>`), hashes it and compares it with the event's `metadata.evidence` (docs/sources.md § Evidence).
 */
export function activityDigest(id: string, json: string): ActivityDigest {
  return { complianceActivityId: id, complianceActivitySha256: createHash('sha256').update(json, 'utf8').digest('hex') };
}

export function withDigest(lines: readonly MappedLine[], digest: ActivityDigest): MappedLine[] {
  return lines.map((l) => ({ ...l, evidence: l.evidence ? { ...digest, ...l.evidence } : digest }));
}

type Row = { r?: number; id: string; created_at: string; json: string };

/** Activities as staged: ids and their texts (strings cross to another thread as a copy, no object graph). */
export interface StagedBatch {
  readonly ids: readonly string[];
  readonly texts: readonly string[];
}

/** What each activity of a batch comes to: its import lines with the digest of its staged text, or why it makes none. */
export function outcomesOf(batch: StagedBatch, observing: boolean): (Outcome | ToObserve)[] {
  const outcomes: (Outcome | ToObserve)[] = [];
  for (let i = 0; i < batch.ids.length; i++) {
    const id = batch.ids[i]!;
    const json = batch.texts[i]!;
    const raw = JSON.parse(json) as Record<string, unknown>;
    const envelope = envelopeOf(raw);
    if ('problem' in envelope) {
      outcomes.push({ id, disposition: 'rejected', reason: `activity ${envelope.problem}`, lines: [] });
      continue;
    }
    if (observing && OBSERVED_TYPES.has(envelope.type)) {
      outcomes.push({ id, observe: { raw, envelope, digest: activityDigest(id, json) } });
      continue;
    }
    const m = mapActivity(raw, envelope);
    outcomes.push({
      id,
      disposition: m.disposition,
      reason: m.disposition === 'rejected' ? m.reason : null,
      lines: m.lines.length > 0 ? withDigest(m.lines, activityDigest(id, json)) : m.lines,
    });
  }
  return outcomes;
}

function hasRowid(db: DatabaseSync): boolean {
  try {
    db.prepare('SELECT rowid FROM activities LIMIT 0').all();
    return true;
  } catch {
    // WITHOUT ROWID: "no such column: rowid"; the activities are then marked by id.
    return false;
  }
}

/** `sources.sqlite`'s side of applying, on one connection (the caller's or the worker's). */
export class PendingReader {
  readonly #oldest: StatementSync;
  readonly #after: StatementSync;
  readonly #mark: StatementSync;
  readonly #markMany: StatementSync;
  readonly #reject: StatementSync;
  readonly #markRowids: StatementSync | undefined;
  readonly #rowids: boolean;
  /** The rowid of each activity handed out and not yet marked (rows keep their rowid: nothing here runs VACUUM). */
  readonly #rowidOf = new Map<string, number>();
  #last: Row | undefined;

  constructor(
    private readonly db: DatabaseSync,
    private readonly name: string,
    private readonly batchSize: number,
  ) {
    // The rowid comes along when the table has one (a file made before kept a WITHOUT ROWID table): marking by rowid
    // seeks the table itself, not the (source, id) index and then the table — half the time of the marks.
    this.#rowids = hasRowid(db);
    const pending = `SELECT ${this.#rowids ? 'rowid AS r, ' : ''}id, created_at, json FROM activities WHERE source = ? AND applied = 0`;
    this.#oldest = db.prepare(`${pending} ORDER BY created_at, id LIMIT ?`);
    // Rows taken but not yet marked (the batch being imported) are not read again: the next batch starts after them.
    this.#after = db.prepare(`${pending} AND (created_at, id) > (?, ?) ORDER BY created_at, id LIMIT ?`);
    this.#mark = db.prepare('UPDATE activities SET applied = 1, disposition = ?, reason = ? WHERE source = ? AND id = ?');
    this.#markMany = db.prepare(
      'UPDATE activities SET applied = 1, disposition = ?, reason = NULL WHERE source = ? AND id IN (SELECT value FROM json_each(?))',
    );
    this.#markRowids = this.#rowids
      ? db.prepare(
          'UPDATE activities SET applied = 1, disposition = ?, reason = NULL WHERE source = ? AND applied = 0 AND rowid IN (SELECT value FROM json_each(?))',
        )
      : undefined;
    this.#reject = db.prepare(
      'INSERT OR IGNORE INTO rejected (source, activity_id, reason, json, at) SELECT source, id, ?, json, ? FROM activities WHERE source = ? AND id = ?',
    );
  }

  /** The next batch's activities as staged (ids and texts), after the last one handed out. */
  next(): StagedBatch | undefined {
    const last = this.#last;
    const rows = (
      last === undefined ? this.#oldest.all(this.name, this.batchSize) : this.#after.all(this.name, last.created_at, last.id, this.batchSize)
    ) as Row[];
    if (rows.length === 0) return undefined;
    this.#last = rows[rows.length - 1];
    const ids: string[] = new Array(rows.length);
    const texts: string[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      if (row.r !== undefined) this.#rowidOf.set(row.id, row.r);
      ids[i] = row.id;
      texts[i] = row.json;
    }
    return { ids, texts };
  }

  mark(outcomes: readonly Pick<Outcome, 'id' | 'disposition' | 'reason'>[]): void {
    const db = this.db;
    db.exec('BEGIN IMMEDIATE');
    try {
      const at = new Date().toISOString();
      // One statement per disposition for the batch (rejections, rare, one by one with their reason).
      const ids: Record<string, string[]> = {};
      for (const o of outcomes) {
        if (o.disposition === 'rejected') {
          this.#mark.run(o.disposition, o.reason, this.name, o.id);
          this.#reject.run(o.reason ?? 'rejected', at, this.name, o.id);
        } else (ids[o.disposition] ??= []).push(o.id);
      }
      for (const [disposition, list] of Object.entries(ids)) {
        const byRowid = this.#markRowids;
        const rowids = byRowid !== undefined ? list.map((id) => this.#rowidOf.get(id)) : [];
        // Every row still pending under the rowid it was read with, or else marked by id.
        const marked =
          rowids.length === list.length && rowids.every((r) => r !== undefined)
            ? Number(byRowid!.run(disposition, this.name, JSON.stringify(rowids)).changes)
            : -1;
        if (marked !== list.length) this.#markMany.run(disposition, this.name, JSON.stringify(list));
      }
      db.exec('COMMIT');
    } catch (error) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw error;
    }
    for (const o of outcomes) this.#rowidOf.delete(o.id);
  }
}

/** The compiled worker beside this module; absent when the sources run directly (tests): then all of it runs here. */
const PENDING_WORKER = fileURLToPath(new URL('./pending-worker.js', import.meta.url));

export interface PendingWorkerData {
  readonly path: string;
  readonly name: string;
  readonly batchSize: number;
}
export type PendingRequest = { readonly next: true } | { readonly mark: readonly Pick<Outcome, 'id' | 'disposition' | 'reason'>[] } | { readonly close: true };
export type PendingAnswer =
  | { readonly batch: StagedBatch | null }
  | { readonly marked: true }
  | { readonly error: { readonly name: string; readonly message: string } };

/**
 * The pending batches of a source: read and mapped in a worker thread (with its own connection to `path`) when the
 * compiled worker is present, else on `db` in this thread. The worker answers in the order it was asked: batches and
 * marks are queued there, so a mark always lands before the connection is closed.
 */
export function pendingBatches(
  db: DatabaseSync,
  path: string,
  name: string,
  batchSize: number,
  observing: boolean,
  workerFile: string = PENDING_WORKER,
): PendingBatches {
  // A database in memory is this connection's alone: no other thread can open it.
  if (path === ':memory:' || !existsSync(workerFile)) {
    const reader = new PendingReader(db, name, batchSize);
    return {
      next: async () => {
        const batch = reader.next();
        return batch === undefined ? undefined : outcomesOf(batch, observing);
      },
      mark: async (o) => reader.mark(o),
      close: async () => {},
    };
  }
  const data: PendingWorkerData = { path, name, batchSize };
  const worker = new Worker(workerFile, { workerData: data });
  const waiting: { resolve(a: PendingAnswer): void; reject(e: Error): void }[] = [];
  let failed: Error | undefined;
  const fail = (error: Error) => {
    failed ??= error;
    for (const w of waiting.splice(0)) w.reject(failed);
  };
  worker.on('message', (a: PendingAnswer) => {
    const w = waiting.shift();
    // Answered on the next turn, not inside the port's delivery: the sync's next request is posted from the
    // continuation, the worker answers at once, and a port keeps delivering what arrives while it delivers — in a
    // server, timers and requests waited up to 0.6 s behind that exchange (sources-server bench).
    setImmediate(() => {
      if ('error' in a) {
        const error = new Error(a.error.message);
        error.name = a.error.name;
        w?.reject(error);
      } else w?.resolve(a);
    });
  });
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the pending-activities worker exited (${code})`)));
  const ask = (request: PendingRequest): Promise<PendingAnswer> => {
    if (failed !== undefined) return Promise.reject(failed);
    const answer = new Promise<PendingAnswer>((resolve, reject) => waiting.push({ resolve, reject }));
    worker.postMessage(request);
    return answer;
  };
  return {
    next: async () => {
      const { batch } = (await ask({ next: true })) as { batch: StagedBatch | null };
      return batch === null ? undefined : outcomesOf(batch, observing);
    },
    mark: async (outcomes) => {
      await ask({ mark: outcomes.map((o) => ({ id: o.id, disposition: o.disposition, reason: o.reason })) });
    },
    close: async () => {
      if (failed !== undefined) return;
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.postMessage({ close: true } satisfies PendingRequest);
      await exited;
    },
  };
}
