import type { ClickHouseClient } from '@clickhouse/client';
import { join } from 'node:path';
import { ClickHouseAuditTable, ExportJobs, SqliteExportStateStore, type SinkConfig } from '../../../../libs/exports/src/index.js';

/**
 * One-shot exports as the server runs them: jobs in `$dataDir/exports.sqlite`, rows from the read model's
 * audit trail. Jobs a previous process left queued or running are taken up again at start (`resume`).
 */
export class ExportService {
  readonly jobs: ExportJobs;
  private readonly state: SqliteExportStateStore;

  constructor(client: ClickHouseClient, dataDir: string, sinks?: Readonly<Record<string, SinkConfig>>) {
    this.state = new SqliteExportStateStore(join(dataDir, 'exports.sqlite'));
    this.jobs = new ExportJobs({ table: new ClickHouseAuditTable(client), state: this.state, dataDir, ...(sinks ? { sinks } : {}) });
  }

  resume(): string[] {
    return this.jobs.resume();
  }

  /**
   * Waits a little for the running job, then closes the job store. A job still running is left `running` in the
   * store and runs again at the next start (S3 objects have deterministic keys; Splunk resumes at its checkpoint).
   */
  async close(graceMs = 2000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.jobs.whenIdle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    this.state.close();
  }
}
