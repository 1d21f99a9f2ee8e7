import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { RowCursor } from '../audit-row.js';
import type { SinkConfig } from '../config.js';

export type ExportStatus = 'queued' | 'running' | 'succeeded' | 'failed';

/** What `GET /v1/tenants/{t}/exports/{id}` shows (secrets never leave the store: see `redactSink`). */
export interface ExportJob {
  readonly exportId: string;
  readonly tenantId: string;
  readonly sink: SinkConfig;
  readonly from: string;
  readonly to: string;
  readonly status: ExportStatus;
  readonly progress: { readonly rowsTotal: number; readonly rowsDone: number };
  readonly counts: {
    readonly rows: number;
    readonly objects?: number;
    readonly deadLettered?: number;
    readonly eventsSent?: number;
    readonly retries?: number;
  };
  /** S3: the manifest, its chained digest and the previous one. */
  readonly digests: { readonly location: string; readonly manifestKey: string; readonly digest: string; readonly previousDigest: string } | null;
  /** Head position when the export started (rows after it wait for the next export). */
  readonly upToPosition: number | null;
  /** Splunk: position of the last row of the delivered prefix (rows go in occurredAt, position order). */
  readonly checkpoint: number | null;
  /** Splunk: the same place as a cursor; a restart resumes after it. */
  readonly cursor: RowCursor | null;
  readonly error: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly finishedAt: string | null;
}

/**
 * The exports' own state: one-shot jobs and the checkpoints of continuous sinks. A port so the
 * API can list jobs without knowing where they live; the adapter is SQLite in the data directory.
 */
export interface ExportStateStore {
  saveJob(job: ExportJob): void;
  job(tenantId: string, exportId: string): ExportJob | null;
  jobs(filter?: { tenantId?: string; status?: readonly ExportStatus[] }): ExportJob[];
  checkpoint(sinkName: string): number | null;
  saveCheckpoint(sinkName: string, position: number): void;
  close(): void;
}

export class SqliteExportStateStore implements ExportStateStore {
  private readonly db: DatabaseSync;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path, { timeout: 5000 });
    this.db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
      CREATE TABLE IF NOT EXISTS export_jobs (
        tenant_id TEXT NOT NULL, export_id TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL, job TEXT NOT NULL,
        PRIMARY KEY (tenant_id, export_id));
      CREATE TABLE IF NOT EXISTS sink_checkpoints (sink_name TEXT PRIMARY KEY, position INTEGER NOT NULL, updated_at TEXT NOT NULL);`);
  }

  saveJob(job: ExportJob): void {
    this.db
      .prepare(
        `INSERT INTO export_jobs (tenant_id, export_id, status, created_at, job) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (tenant_id, export_id) DO UPDATE SET status = excluded.status, job = excluded.job`,
      )
      .run(job.tenantId, job.exportId, job.status, job.createdAt, JSON.stringify(job));
  }

  job(tenantId: string, exportId: string): ExportJob | null {
    const row = this.db.prepare('SELECT job FROM export_jobs WHERE tenant_id = ? AND export_id = ?').get(tenantId, exportId) as { job: string } | undefined;
    return row ? (JSON.parse(row.job) as ExportJob) : null;
  }

  jobs(filter: { tenantId?: string; status?: readonly ExportStatus[] } = {}): ExportJob[] {
    const rows = this.db.prepare('SELECT job FROM export_jobs ORDER BY created_at, export_id').all() as { job: string }[];
    return rows
      .map((r) => JSON.parse(r.job) as ExportJob)
      .filter((j) => (filter.tenantId === undefined || j.tenantId === filter.tenantId) && (filter.status === undefined || filter.status.includes(j.status)));
  }

  checkpoint(sinkName: string): number | null {
    const row = this.db.prepare('SELECT position FROM sink_checkpoints WHERE sink_name = ?').get(sinkName) as { position: number } | undefined;
    return row ? Number(row.position) : null;
  }

  saveCheckpoint(sinkName: string, position: number): void {
    this.db
      .prepare(
        `INSERT INTO sink_checkpoints (sink_name, position, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (sink_name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
      )
      .run(sinkName, position, new Date().toISOString());
  }

  close(): void {
    this.db.close();
  }
}

/** A job or sink as shown to clients: the HEC token and S3 secret key are never returned. */
export function redactSink(sink: SinkConfig): SinkConfig {
  if (sink.kind === 'splunk') return { ...sink, token: '***' };
  return sink.credentials
    ? { ...sink, credentials: { ...sink.credentials, secretAccessKey: '***', ...(sink.credentials.sessionToken ? { sessionToken: '***' } : {}) } }
    : sink;
}
