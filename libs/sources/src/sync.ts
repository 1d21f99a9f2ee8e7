import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { ActivitySource } from './activity-source.js';
import { ComplianceApiClient } from './compliance-api/client.js';
import type { ActivityEnvelope, Disposition, MappedLine, MappingResult } from './compliance-api/mapping.js';
import { type Outcome, pendingBatches, withDigest } from './pending.js';
import { DISPOSITIONS, stageFeed, type StageSettings } from './staging.js';

export { activityDigest } from './pending.js';

/**
 * The sync of one source into one tenant (docs/sources.md § Sync).
 *
 * 1. Staging. Pages of the feed (newest first) are written to `sources.sqlite` in the data directory, one
 *    transaction per page holding the page's activities (INSERT OR IGNORE by activity id: a duplicate across pages
 *    is stored once) and the cursor of the next page. A process killed mid-backfill resumes at the stored cursor:
 *    nothing already staged is read again, nothing is lost.
 *    - backfill: from the top of the feed down to its end (`next` null), then the phase becomes `follow`;
 *    - follow: from the top down to the first page older than the newest activity seen minus `lookbackMs`, so an
 *      activity that became visible late (after newer ones were taken) is still found.
 *    An activity of a type that makes no event (audit only, unmapped) is settled there and then, with its
 *    disposition; only those that map to events stay pending. (staging.ts; in a worker thread when it can.)
 * 2. Applying. Pending activities are taken oldest first (created_at, id) in batches, mapped, and imported through
 *    `Ledger.importLines` (the import path, so back-dated facts land where they belong, R61) with deterministic event
 *    ids (`ca.<activity id>`): a batch re-imported after a crash is skipped by id, never doubled. Each event carries
 *    the activity's digest as evidence (`activityDigest`); the activity itself stays verbatim here. The next batch is
 *    read and checked while the one before it is written; a batch is marked applied once its events are stored.
 *    When the ledger refuses a batch, the activities owning the lines it names are recorded as rejected with its
 *    reasons and the rest imported again — the sync never stops on bad input.
 */

export type ImportResult =
  | { kind: 'imported'; appended: number; skipped: number }
  | { kind: 'invalid' | 'unknown-reference'; errors: readonly { path: string; message: string }[] };

export interface ImportPort {
  importEvents(tenantId: string, ndjson: string): Promise<ImportResult>;
  /** The same import from the mapper's lines as objects (`Ledger.importLines`): no NDJSON written and parsed back. */
  importLines(tenantId: string, lines: readonly MappedLine[]): Promise<ImportResult>;
}

export interface SourceDefinition {
  readonly name: string;
  readonly kind: 'compliance-api';
  readonly tenantId: string;
  readonly baseUrl: string;
  /** Where the key is read from (a file, mode 0600). The key itself is never stored here. */
  readonly keyFile: string;
}

export interface SourceStatus {
  readonly name: string;
  readonly kind: string;
  readonly tenantId: string;
  readonly baseUrl: string;
  readonly phase: 'backfill' | 'follow';
  readonly staged: number;
  readonly pending: number;
  readonly byDisposition: Readonly<Record<Disposition, number>>;
  readonly unmappedTypes: Readonly<Record<string, number>>;
  readonly newestCreatedAt: string | null;
  readonly lastSyncAt: string | null;
  readonly lastError: string | null;
}

export interface SyncReport {
  readonly pages: number;
  readonly fetched: number;
  readonly staged: number;
  readonly duplicates: number;
  readonly applied: number;
  readonly appended: number;
  readonly byDisposition: Readonly<Record<Disposition, number>>;
}

export interface SyncOptions {
  readonly pageSize?: number;
  readonly batchSize?: number;
  /** How far below the newest activity seen a follow pass re-reads (late-visible activities). Default 10 minutes. */
  readonly lookbackMs?: number;
  readonly onProgress?: (p: { phase: 'backfill' | 'follow' | 'apply'; pages: number; fetched: number; applied: number; pending: number }) => void;
  /** Maps the types that need the directory read at ingestion (OBSERVED_TYPES); without it they are unmapped. */
  readonly observe?: (raw: Record<string, unknown>, envelope: ActivityEnvelope) => Promise<MappingResult>;
  /** Run after staging, before applying (the first sync's baseline of organizations, drift.ts). */
  readonly beforeApply?: () => Promise<void>;
  /** Tests: stop (throw) after this many pages were staged, as a crash would. */
  readonly stopAfterPages?: number;
  /** Tests only: the compiled `staging-worker.js` to use when the sources run under jest (staging.ts `stageFeed`). */
  readonly stagingWorkerFile?: string;
  /** Tests only: the compiled `pending-worker.js` likewise (pending.ts `pendingBatches`). */
  readonly pendingWorkerFile?: string;
}

/** The WAL is cut back to this size after a checkpoint (the staging worker lets it grow to 256 MB meanwhile). */
export const JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024;

export class SourcesStore {
  readonly db: DatabaseSync;

  constructor(readonly path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    // The staging worker writes with a connection of its own: wait for its lock rather than fail.
    this.db = new DatabaseSync(path, { timeout: 5000 });
    this.db.exec(`
      PRAGMA journal_mode = WAL;
      -- NORMAL in WAL: a killed process loses nothing committed; a power cut may lose the last pages' checkpoint,
      -- which only makes the next sync read them again (staging and the ledger both skip known activity ids).
      PRAGMA synchronous = NORMAL;
      -- A backfill writes every activity once and reads the pending ones back in created_at order.
      PRAGMA cache_size = -65536;
      PRAGMA journal_size_limit = ${JOURNAL_SIZE_LIMIT};
      CREATE TABLE IF NOT EXISTS sources (
        name TEXT PRIMARY KEY, kind TEXT NOT NULL, tenant_id TEXT NOT NULL, base_url TEXT NOT NULL, key_file TEXT NOT NULL,
        phase TEXT NOT NULL DEFAULT 'backfill', cursor TEXT, newest_created_at TEXT, last_sync_at TEXT, last_error TEXT
      );
      CREATE TABLE IF NOT EXISTS activities (
        source TEXT NOT NULL, id TEXT NOT NULL, created_at TEXT NOT NULL, type TEXT NOT NULL, json TEXT NOT NULL,
        applied INTEGER NOT NULL DEFAULT 0, disposition TEXT, reason TEXT,
        PRIMARY KEY (source, id)
      );
      -- The pending activities only, oldest first: an applied one leaves the index, a settled one never enters it.
      -- (Files made before kept every activity in activities_pending: that index is replaced.)
      DROP INDEX IF EXISTS activities_pending;
      CREATE INDEX IF NOT EXISTS activities_unapplied ON activities (source, created_at, id) WHERE applied = 0;
      CREATE TABLE IF NOT EXISTS rejected (
        source TEXT NOT NULL, seq INTEGER PRIMARY KEY AUTOINCREMENT, activity_id TEXT, reason TEXT NOT NULL, json TEXT NOT NULL, at TEXT NOT NULL
      );
      -- A malformed activity read again (a follow pass re-reads the top of the feed) is recorded once.
      CREATE UNIQUE INDEX IF NOT EXISTS rejected_once ON rejected (source, json);
    `);
  }

  add(def: SourceDefinition): void {
    this.db
      .prepare(
        `INSERT INTO sources (name, kind, tenant_id, base_url, key_file) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET base_url = excluded.base_url, key_file = excluded.key_file, tenant_id = excluded.tenant_id`,
      )
      .run(def.name, def.kind, def.tenantId, def.baseUrl, def.keyFile);
  }

  get(name: string): (SourceDefinition & { phase: 'backfill' | 'follow'; cursor: string | null; newestCreatedAt: string | null }) | undefined {
    const row = this.db.prepare('SELECT * FROM sources WHERE name = ?').get(name) as Record<string, string | null> | undefined;
    if (!row) return undefined;
    return {
      name: row.name!,
      kind: row.kind as 'compliance-api',
      tenantId: row.tenant_id!,
      baseUrl: row.base_url!,
      keyFile: row.key_file!,
      phase: row.phase as 'backfill' | 'follow',
      cursor: row.cursor ?? null,
      newestCreatedAt: row.newest_created_at ?? null,
    };
  }

  names(): string[] {
    return (this.db.prepare('SELECT name FROM sources ORDER BY name').all() as { name: string }[]).map((r) => r.name);
  }

  setError(name: string, error: string | null): void {
    this.db.prepare('UPDATE sources SET last_error = ? WHERE name = ?').run(error, name);
  }

  status(name: string): SourceStatus | undefined {
    const row = this.db.prepare('SELECT * FROM sources WHERE name = ?').get(name) as Record<string, string | null> | undefined;
    if (!row) return undefined;
    const counts = this.db.prepare('SELECT disposition, count(*) AS n FROM activities WHERE source = ? GROUP BY disposition').all(name) as {
      disposition: string | null;
      n: number;
    }[];
    const byDisposition = Object.fromEntries(DISPOSITIONS.map((d) => [d, 0])) as Record<Disposition, number>;
    let staged = 0;
    let pending = 0;
    for (const c of counts) {
      staged += c.n;
      if (c.disposition === null) pending += c.n;
      else byDisposition[c.disposition as Disposition] = c.n;
    }
    const rejectedUnstaged = (this.db.prepare('SELECT count(*) AS n FROM rejected WHERE source = ? AND activity_id IS NULL').get(name) as { n: number }).n;
    byDisposition.rejected += rejectedUnstaged;
    const unmapped = this.db
      .prepare("SELECT type, count(*) AS n FROM activities WHERE source = ? AND disposition = 'unmapped' GROUP BY type ORDER BY n DESC, type")
      .all(name) as { type: string; n: number }[];
    return {
      name,
      kind: row.kind!,
      tenantId: row.tenant_id!,
      baseUrl: row.base_url!,
      phase: row.phase as 'backfill' | 'follow',
      staged,
      pending,
      byDisposition,
      unmappedTypes: Object.fromEntries(unmapped.map((u) => [u.type, u.n])),
      newestCreatedAt: row.newest_created_at ?? null,
      lastSyncAt: row.last_sync_at ?? null,
      lastError: row.last_error ?? null,
    };
  }

  rejections(name: string): { activityId: string | null; reason: string; json: string }[] {
    return (
      this.db.prepare('SELECT activity_id, reason, json FROM rejected WHERE source = ? ORDER BY seq').all(name) as {
        activity_id: string | null;
        reason: string;
        json: string;
      }[]
    ).map((r) => ({ activityId: r.activity_id, reason: r.reason, json: r.json }));
  }

  /** The activity as received, verbatim (the audit trail of activities that made no event). */
  activity(name: string, id: string): { json: string; disposition: string | null; reason: string | null } | undefined {
    return this.db.prepare('SELECT json, disposition, reason FROM activities WHERE source = ? AND id = ?').get(name, id) as never;
  }

  close(): void {
    this.db.close();
  }
}

/** One sync pass: stage what the feed has (backfill or follow), then apply what is staged. */
export async function syncOnce(store: SourcesStore, name: string, source: ActivitySource, ledger: ImportPort, options: SyncOptions = {}): Promise<SyncReport> {
  const def = store.get(name);
  if (!def) throw new Error(`no source named ${name}`);
  const db = store.db;
  const settings: StageSettings = {
    name,
    phase: def.phase,
    cursor: def.cursor,
    newestCreatedAt: def.newestCreatedAt,
    pageSize: options.pageSize ?? 1000,
    lookbackMs: options.lookbackMs ?? 10 * 60_000,
    observing: options.observe !== undefined,
    ...(options.stopAfterPages !== undefined ? { stopAfterPages: options.stopAfterPages } : {}),
  };
  // 1. staging (in a worker thread when the source can be rebuilt there)
  const client = source instanceof ComplianceApiClient ? source.settings() : undefined;
  const { pages, fetched, staged, duplicates, settled, settledCount } = await stageFeed(
    db,
    store.path,
    source,
    client,
    settings,
    (p) => options.onProgress?.({ phase: def.phase, pages: p.pages, fetched: p.fetched, applied: 0, pending: 0 }),
    options.stagingWorkerFile,
  );

  // 2. applying, oldest first
  await options.beforeApply?.();
  const applied = await applyStaged(store, def.name, def.tenantId, ledger, options);
  db.prepare('UPDATE sources SET last_sync_at = ?, last_error = NULL WHERE name = ?').run(new Date().toISOString(), name);
  const byDisposition = Object.fromEntries(DISPOSITIONS.map((d) => [d, settled[d] + applied.byDisposition[d]])) as Record<Disposition, number>;
  return { pages, fetched, staged, duplicates, applied: settledCount + applied.applied, appended: applied.appended, byDisposition };
}

async function applyStaged(
  store: SourcesStore,
  name: string,
  tenantId: string,
  ledger: ImportPort,
  options: SyncOptions,
): Promise<{ applied: number; appended: number; byDisposition: Record<Disposition, number> }> {
  const db = store.db;
  // Large batches: each is one append (one fsync); a refused batch costs a round per refusal, not an import per
  // activity.
  const batchSize = options.batchSize ?? 20_000;
  const pendingTotal = (db.prepare('SELECT count(*) AS n FROM activities WHERE source = ? AND applied = 0').get(name) as { n: number }).n;
  const byDisposition = Object.fromEntries(DISPOSITIONS.map((d) => [d, 0])) as Record<Disposition, number>;
  let applied = 0;
  let appended = 0;

  let earlierRefused = false;
  const refuse = (o: Outcome, reasons: readonly string[]) => {
    o.disposition = 'rejected';
    o.reason = `refused by the ledger: ${reasons.join('; ')}`;
  };

  /** The batch's import answered (refused activities set apart, the rest imported), then every row marked in one transaction. */
  const settle = async (outcomes: Outcome[], importing: ReturnType<ImportPort['importLines']> | undefined): Promise<void> => {
    const mapped = outcomes.filter((o) => o.lines.length > 0);
    const answer = importing === undefined ? undefined : await importing;
    // Whether the batch before this one was refused at first (what remained of it was written after this one was
    // checked); the next batch, checked while this one settles, asks the same of this one.
    const beforeRefused = earlierRefused;
    earlierRefused = answer !== undefined && answer.kind !== 'imported';
    if (answer !== undefined) {
      let outcome = answer;
      let remaining = mapped;
      // A reference to what the batch before wrote after this check looked unknown: checked again, against everything.
      if (outcome.kind !== 'imported' && beforeRefused)
        outcome = await ledger.importLines(
          tenantId,
          mapped.flatMap((o) => o.lines),
        );
      // The ledger names the lines it refuses: their activities are rejected with its reasons and the others imported
      // again (one whose lines refer to what a rejected one made is refused in the next round), until a round lands.
      while (outcome.kind !== 'imported') {
        const owners = remaining.flatMap((o) => o.lines.map(() => o));
        const refused = new Map<Outcome, string[]>();
        for (const e of outcome.errors) {
          const owner = owners[Number(/^line (\d+)/.exec(e.path)?.[1] ?? 0) - 1];
          if (owner === undefined) {
            refused.clear();
            break;
          }
          let reasons = refused.get(owner);
          if (reasons === undefined) refused.set(owner, (reasons = []));
          reasons.push(`${e.path.replace(/^line \d+:?\s*/, '')} ${e.message}`.trim());
        }
        if (refused.size === 0) {
          // An error that names no line: one activity at a time, so one bad activity does not hold back the others.
          for (const o of remaining) {
            const single = await ledger.importLines(tenantId, o.lines);
            if (single.kind === 'imported') appended += single.appended;
            else
              refuse(
                o,
                single.errors.map((e) => `${e.path.replace(/^line \d+:?\s*/, '')} ${e.message}`.trim()),
              );
          }
          remaining = [];
          break;
        }
        for (const [o, reasons] of refused) refuse(o, reasons);
        remaining = remaining.filter((o) => !refused.has(o));
        if (remaining.length === 0) break;
        outcome = await ledger.importLines(
          tenantId,
          remaining.flatMap((o) => o.lines),
        );
      }
      if (outcome.kind === 'imported') appended += outcome.appended;
    }
    await batches.mark(outcomes);
    for (const o of outcomes) byDisposition[o.disposition]++;
    applied += outcomes.length;
    options.onProgress?.({ phase: 'apply', pages: 0, fetched: 0, applied, pending: pendingTotal });
  };

  // Pipelined: while one batch is appended (the store hashes and writes it in a worker thread), the next is read and
  // mapped (in the pending-activities worker when there is one) and validated (importLines checks its lines before it
  // waits for the tenant's writer). A batch is marked only once its events are stored, so a crash anywhere re-applies
  // unmarked batches, whose events are skipped by id.
  const batches = pendingBatches(db, store.path, name, batchSize, options.observe !== undefined, options.pendingWorkerFile);
  let settling: Promise<void> | undefined;
  let importing: ReturnType<ImportPort['importLines']> | undefined;
  let reading = batches.next();
  try {
    for (;;) {
      const read = await reading;
      if (read === undefined) break;
      reading = batches.next();
      // Awaited at the next turn of this loop (or in `finally`); until then a failure must not count as unhandled.
      reading.catch(() => {});
      const outcomes: Outcome[] = [];
      for (const o of read) {
        if (!('observe' in o)) {
          outcomes.push(o);
          continue;
        }
        const m = await options.observe!(o.observe.raw, o.observe.envelope);
        outcomes.push({
          id: o.id,
          disposition: m.disposition,
          reason: m.disposition === 'rejected' ? m.reason : null,
          lines: m.lines.length > 0 ? withDigest(m.lines, o.observe.digest) : m.lines,
        });
      }
      const lines = outcomes.flatMap((o) => o.lines);
      importing = lines.length > 0 ? ledger.importLines(tenantId, lines) : undefined;
      // Awaited in `settle`; until then a failure must not count as unhandled.
      importing?.catch(() => {});
      await settling;
      settling = settle(outcomes, importing);
      // Awaited at the next batch or after the loop; until then a failure must not count as unhandled.
      settling.catch(() => {});
    }
    await settling;
  } catch (error) {
    // Let the batches already handed to the ledger end before the caller moves on (unmarked, they are re-applied
    // next time); the first error is the one reported.
    await importing?.catch(() => undefined);
    await settling?.catch(() => undefined);
    throw error;
  } finally {
    // A batch read ahead is dropped unmarked (re-read next time); the worker ends once its marks are written.
    await reading.catch(() => undefined);
    await batches.close();
  }
  return { applied, appended, byDisposition };
}

/**
 * Per source, the activities by disposition and the unmapped ones by type, read from `sources.sqlite` without
 * writing to it (for /metrics); empty when the file does not exist.
 */
export function readSourceCounts(path: string): {
  byDisposition: { source: string; disposition: string; n: number }[];
  unmapped: { source: string; type: string; n: number }[];
} {
  if (!existsSync(path)) return { byDisposition: [], unmapped: [] };
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'activities'").get();
    if (!hasTable) return { byDisposition: [], unmapped: [] };
    const byDisposition = db
      .prepare("SELECT source, coalesce(disposition, 'pending') AS disposition, count(*) AS n FROM activities GROUP BY source, disposition")
      .all() as { source: string; disposition: string; n: number }[];
    const unmapped = db.prepare("SELECT source, type, count(*) AS n FROM activities WHERE disposition = 'unmapped' GROUP BY source, type").all() as {
      source: string;
      type: string;
      n: number;
    }[];
    return { byDisposition, unmapped };
  } finally {
    db.close();
  }
}
