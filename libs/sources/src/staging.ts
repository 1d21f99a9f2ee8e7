import type { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { type ActivityPage, type ActivitySource, SourceAuthError, SourceUnavailableError } from './activity-source.js';
import type { ComplianceApiSettings } from './compliance-api/client.js';
import { type Disposition, envelopeOf, eventlessDispositionOf } from './compliance-api/mapping.js';

/**
 * Step 1 of a sync (docs/sources.md § Sync): pages of the feed (newest first) written to `sources.sqlite`, one
 * transaction per page holding its activities (INSERT OR IGNORE by activity id: a duplicate across pages is stored
 * once) and the cursor of the next page, so a process killed mid-backfill resumes at the stored cursor and nothing
 * already staged is read again. The next page is fetched while this one is written.
 * - backfill: from the top of the feed down to its end (`next` null), then the phase becomes `follow`;
 * - follow: from the top down to the first page older than the newest activity seen minus `lookbackMs`, so an
 *   activity that became visible late (after newer ones were taken) is still found.
 * An activity of a type that makes no event (audit only, unmapped) is settled there and then, with its disposition;
 * only those that map to events stay pending.
 *
 * The same function runs in the caller's thread or in a staging worker (`staging-worker.ts`, see `stageFeed`).
 */
export interface StageSettings {
  readonly name: string;
  readonly phase: 'backfill' | 'follow';
  readonly cursor: string | null;
  readonly newestCreatedAt: string | null;
  readonly pageSize: number;
  readonly lookbackMs: number;
  /** Whether the types read from the directory at ingestion are mapped (then they stay pending). */
  readonly observing: boolean;
  /** Tests: stop (throw) after this many pages were staged, as a crash would. */
  readonly stopAfterPages?: number;
}

export interface StageProgress {
  readonly pages: number;
  readonly fetched: number;
}

export interface StageReport {
  readonly pages: number;
  readonly fetched: number;
  readonly staged: number;
  readonly duplicates: number;
  readonly settled: Readonly<Record<Disposition, number>>;
  readonly settledCount: number;
}

export const DISPOSITIONS: readonly Disposition[] = ['mapped', 'audit', 'unmapped', 'rejected'];

/** `onPage` runs after each page's commit; a throw there ends the staging at that boundary (the checkpoint holds). */
export async function stagePages(db: DatabaseSync, source: ActivitySource, s: StageSettings, onPage: (p: StageProgress) => void): Promise<StageReport> {
  const name = s.name;
  const insert = db.prepare('INSERT OR IGNORE INTO activities (source, id, created_at, type, json) VALUES (?, ?, ?, ?, ?)');
  const insertSettled = db.prepare('INSERT OR IGNORE INTO activities (source, id, created_at, type, json, applied, disposition) VALUES (?, ?, ?, ?, ?, 1, ?)');
  const reject = db.prepare('INSERT OR IGNORE INTO rejected (source, activity_id, reason, json, at) VALUES (?, ?, ?, ?, ?)');
  const setCursor = db.prepare('UPDATE sources SET phase = ?, cursor = ?, newest_created_at = ? WHERE name = ?');
  const settled = Object.fromEntries(DISPOSITIONS.map((d) => [d, 0])) as Record<Disposition, number>;
  let settledCount = 0;
  let pages = 0;
  let fetched = 0;
  let staged = 0;
  let duplicates = 0;
  let phase = s.phase;
  let cursor = phase === 'backfill' ? s.cursor : null;
  let newest = s.newestCreatedAt;
  const followFloor = phase === 'follow' && newest !== null ? Date.parse(newest) - s.lookbackMs : Number.NEGATIVE_INFINITY;

  let inflight: Promise<ActivityPage> | undefined;
  for (;;) {
    const page = await (inflight ?? source.page(cursor, s.pageSize));
    inflight = undefined;
    if (page.next !== null) {
      inflight = source.page(page.next, s.pageSize);
      // Not awaited when this pass ends or fails: keep its rejection from going unhandled.
      inflight.catch(() => {});
    }
    pages++;
    fetched += page.activities.length;
    let oldestMs = Number.POSITIVE_INFINITY;
    db.exec('BEGIN IMMEDIATE');
    try {
      const at = new Date().toISOString();
      for (const raw of page.activities) {
        const envelope = envelopeOf(raw);
        const json = JSON.stringify(raw);
        if ('problem' in envelope) {
          // Without an id or a time it cannot be staged (nor deduplicated): recorded as rejected, verbatim.
          reject.run(name, null, `activity ${envelope.problem}`, json, at);
          continue;
        }
        const createdMs = Date.parse(envelope.created_at);
        oldestMs = Math.min(oldestMs, createdMs);
        const createdAt = new Date(createdMs).toISOString();
        // An activity of a type that makes no event (audit only, unmapped) is settled here, once: applying it would
        // only read it back to find the same.
        const eventless = eventlessDispositionOf(envelope.type, s.observing);
        const r =
          eventless === undefined
            ? insert.run(name, envelope.id, createdAt, envelope.type, json)
            : insertSettled.run(name, envelope.id, createdAt, envelope.type, json, eventless);
        if (Number(r.changes) === 0) duplicates++;
        else {
          staged++;
          if (eventless !== undefined) {
            settled[eventless]++;
            settledCount++;
          }
        }
        if (newest === null || createdAt > newest) newest = createdAt;
      }
      const done = page.next === null || (phase === 'follow' && oldestMs < followFloor);
      if (phase === 'backfill') {
        if (done) {
          phase = 'follow';
          cursor = null;
        } else cursor = page.next;
      }
      setCursor.run(phase, phase === 'backfill' ? cursor : null, newest, name);
      db.exec('COMMIT');
      onPage({ pages, fetched });
      if (s.stopAfterPages !== undefined && pages >= s.stopAfterPages) throw new Error(`stopped after ${pages} pages (test)`);
      if (done) break;
      if (s.phase === 'follow') cursor = page.next;
    } catch (error) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw error;
    }
  }
  return { pages, fetched, staged, duplicates, settled, settledCount };
}

/** The compiled staging worker beside this module; absent when the sources run directly (tests): staging then runs here. */
const STAGING_WORKER = fileURLToPath(new URL('./staging-worker.js', import.meta.url));

export interface StagingWorkerData {
  readonly path: string;
  readonly client: ComplianceApiSettings;
  readonly settings: StageSettings;
}

/** What the staging worker posts: progress after each page's commit, then its report or its error. */
export type StagingMessage =
  | { readonly progress: StageProgress }
  | { readonly report: StageReport }
  | { readonly error: { readonly name: string; readonly message: string; readonly status?: number; readonly scope?: string } };

/**
 * Staging in a worker thread of its own, with its own connection to `sources.sqlite`, when the source can be rebuilt
 * there (a Compliance API client without hooks that must run in this thread, `ComplianceApiClient.settings`) and the
 * compiled worker is beside this module; otherwise in this thread. Fetching, parsing and writing 1 000 000 activities
 * took ≈ 12 s of this thread, during which a server's requests and the rest of its work waited between pages.
 * `onPage` still runs here, after each commit: when it throws, the worker is asked to stop at its next page boundary
 * (or to cut its retry wait short) and the staging ends with that error, as in this thread.
 */
export async function stageFeed(
  db: DatabaseSync,
  path: string,
  source: ActivitySource,
  client: ComplianceApiSettings | undefined,
  s: StageSettings,
  onPage: (p: StageProgress) => void,
  workerFile: string = STAGING_WORKER,
): Promise<StageReport> {
  // A database in memory is this connection's alone: no other thread can open it.
  if (client === undefined || path === ':memory:' || !existsSync(workerFile)) return stagePages(db, source, s, onPage);
  const data: StagingWorkerData = { path, client, settings: s };
  const worker = new Worker(workerFile, { workerData: data });
  let stoppedBy: unknown;
  try {
    return await new Promise<StageReport>((resolve, reject) => {
      worker.on('message', (m: StagingMessage) => {
        if ('progress' in m) {
          if (stoppedBy !== undefined) return;
          try {
            onPage(m.progress);
          } catch (error) {
            stoppedBy = error;
            worker.postMessage('stop');
          }
        } else if ('report' in m) {
          if (stoppedBy !== undefined) reject(stoppedBy);
          else resolve(m.report);
        } else reject(stoppedBy ?? errorOf(m.error));
      });
      worker.on('error', (error) => reject(stoppedBy ?? error));
      worker.on('exit', (code) => reject(stoppedBy ?? new Error(`the staging worker exited (${code}) without an answer`)));
    });
  } finally {
    // It has answered (and closed its connection) or died; either way nothing of it is left running.
    await worker.terminate();
  }
}

/** A worker's error as the class the in-thread staging throws, so the caller's handling (401/403 stop the source) holds. */
function errorOf(e: { name: string; message: string; status?: number; scope?: string }): Error {
  if (e.name === 'SourceAuthError') return new SourceAuthError(e.message, e.status ?? 0, e.scope);
  if (e.name === 'SourceUnavailableError') return new SourceUnavailableError(e.message);
  const error = new Error(e.message);
  error.name = e.name;
  return error;
}
