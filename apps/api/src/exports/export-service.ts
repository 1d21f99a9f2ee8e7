import type { ClickHouseClient } from '@clickhouse/client';
import { join } from 'node:path';
import {
  ClickHouseAuditTable,
  ExportJobs,
  SinkFollower,
  SqliteExportStateStore,
  type ContinuousSinkConfig,
  type ExportJobsDeps,
  type FollowerStatus,
  type SinkConfig,
} from '@access-ledger/exports';

/**
 * One-shot exports as the server runs them: jobs in `$dataDir/exports.sqlite`, rows from the read model's
 * audit trail. Jobs a previous process left queued or running are taken up again at start (`resume`).
 */
export class ExportService {
  readonly jobs: ExportJobs;
  private readonly state: SqliteExportStateStore;
  private readonly table: ClickHouseAuditTable;
  private readonly followers: SinkFollower[] = [];

  constructor(
    client: ClickHouseClient,
    dataDir: string,
    sinks?: Readonly<Record<string, SinkConfig>>,
    private readonly live: readonly ContinuousSinkConfig[] = [],
    private readonly log: (line: string) => void = () => {},
    /** The checkpoint covering an object's last event, written into each S3 manifest object. */
    checkpointFor?: ExportJobsDeps['checkpointFor'],
    checkpointKeys?: ExportJobsDeps['checkpointKeys'],
  ) {
    this.state = new SqliteExportStateStore(join(dataDir, 'exports.sqlite'));
    this.table = new ClickHouseAuditTable(client);
    this.jobs = new ExportJobs({
      table: this.table,
      state: this.state,
      dataDir,
      ...(sinks ? { sinks } : {}),
      ...(checkpointFor ? { checkpointFor } : {}),
      ...(checkpointKeys ? { checkpointKeys } : {}),
    });
  }

  /**
   * Starts every configured live sink from its checkpoint. Each checks its sink first and fails fast (a wrong token,
   * an unknown bucket) with the sink's name in the message; nothing of a failed sink is checkpointed.
   */
  async startLiveSinks(): Promise<void> {
    for (const config of this.live) {
      const follower = new SinkFollower(config, {
        source: this.table,
        table: this.table,
        state: this.state,
        onError: (error) => this.log(`live sink ${config.name}: ${error.message}`),
      });
      try {
        await follower.start();
      } catch (error) {
        throw new Error(`live sink ${config.name} (${config.sink.kind}) cannot start: ${(error as Error).message}`, { cause: error });
      }
      this.followers.push(follower);
      this.log(`live sink ${config.name}: following tenant ${config.tenantId} into ${config.sink.kind} from checkpoint ${follower.checkpoint ?? 'start'}`);
    }
  }

  /** The live sinks of a tenant, with their checkpoints and last errors (GET …/exports/sinks). */
  liveSinks(tenantId: string): FollowerStatus[] {
    return this.followers.filter((f) => f.config.tenantId === tenantId).map((f) => f.status());
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
    await Promise.all(this.followers.map((f) => f.stop()));
    this.state.close();
  }
}
