import type { AuditRowSource } from '../audit-row.js';
import type { ClickHouseAuditTable } from '../clickhouse-audit-table.js';
import type { ContinuousSinkConfig, HecSinkConfig } from '../config.js';
import { HecDelivery, type HecDeliveryStats } from '../hec/hec-delivery.js';
import { parseS3Uri } from '../s3/layout.js';
import { exportToS3, type S3ExportResult } from '../s3/s3-export.js';
import { S3ObjectStore } from '../s3/s3-store.js';
import type { ExportStateStore } from './export-state.js';

/** Every occurredAt a continuous S3 step covers: the step is bounded by positions, not by time. */
const ALL_TIME = { from: '1970-01-01T00:00:00.000Z', to: '2299-12-31T23:59:59.999Z' } as const;

export interface FollowerStatus {
  readonly name: string;
  readonly kind: 's3' | 'splunk';
  readonly running: boolean;
  readonly checkpoint: number | null;
  readonly lastError: string | null;
  readonly hec?: Readonly<HecDeliveryStats>;
  readonly lastS3Export?: Pick<S3ExportResult, 'manifestKey' | 'digest' | 'rows'>;
}

export interface SinkFollowerDeps {
  /** Rows to follow. For S3 this must be the ClickHouse table (its `s3` function writes the objects). */
  readonly source: AuditRowSource;
  readonly table?: ClickHouseAuditTable;
  readonly state: ExportStateStore;
  readonly onError?: (error: Error) => void;
}

/**
 * A configured sink that follows the tenant's events live from its checkpoint (kept in the export
 * state store under the sink's name). Splunk: rows stream into a HecDelivery and the checkpoint moves
 * only after acknowledgement. S3: each step exports the rows after the checkpoint up to the current
 * head as objects named by position range, with a manifest and digest chained like any export, and
 * the checkpoint moves once the digest is written. A restart resumes from the checkpoint: at least
 * once, never a gap. A failed step is retried at the next poll; a configuration error stops the follower.
 */
export class SinkFollower {
  private running = false;
  private loop: Promise<void> | null = null;
  private lastError: string | null = null;
  private delivery: HecDelivery | null = null;
  private readCursor: number | null = null;
  private lastS3Export: S3ExportResult | null = null;
  private wake: (() => void) | null = null;

  constructor(
    readonly config: ContinuousSinkConfig,
    private readonly deps: SinkFollowerDeps,
  ) {
    if (config.sink.kind === 's3' && !deps.table) throw new Error(`sink ${config.name}: an S3 follower needs the ClickHouse audit table`);
  }

  get checkpoint(): number | null {
    return this.deps.state.checkpoint(this.config.name);
  }

  status(): FollowerStatus {
    return {
      name: this.config.name,
      kind: this.config.sink.kind,
      running: this.running,
      checkpoint: this.checkpoint,
      lastError: this.lastError,
      ...(this.delivery ? { hec: { ...this.delivery.stats } } : {}),
      ...(this.lastS3Export
        ? { lastS3Export: { manifestKey: this.lastS3Export.manifestKey, digest: this.lastS3Export.digest, rows: this.lastS3Export.rows } }
        : {}),
    };
  }

  /** Checks the sink (fails fast on bad configuration), then follows in the background until `stop()`. */
  async start(): Promise<void> {
    if (this.running) return;
    if (this.config.sink.kind === 'splunk') {
      this.delivery = this.newDelivery(this.config.sink);
      await this.delivery.preflight();
    } else {
      const store = new S3ObjectStore(this.config.sink);
      try {
        await store.preflight(parseS3Uri(this.config.sink.uri));
      } finally {
        store.destroy();
      }
    }
    this.running = true;
    this.loop = this.follow();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = null;
    this.delivery?.close();
    this.delivery = null;
    this.readCursor = null;
  }

  /**
   * One step: deliver what is new since the checkpoint. Splunk: returns once the rows read are
   * handed to the delivery (they are acknowledged later, on `tick`/`flush`). S3: one export.
   */
  async step(): Promise<number> {
    const { tenantId } = this.config;
    if (this.config.sink.kind === 's3') {
      const after = this.checkpoint ?? -1;
      const head = await this.deps.source.headPosition(tenantId);
      if (head <= after) return 0;
      const store = new S3ObjectStore(this.config.sink);
      try {
        const result = await exportToS3(
          { table: this.deps.table!, store, config: this.config.sink },
          { exportId: `${this.config.name}-p${after + 1}-${head}`, tenantId, ...ALL_TIME, afterPosition: after, upToPosition: head },
        );
        this.deps.state.saveCheckpoint(this.config.name, head);
        this.lastS3Export = result;
        return result.rows;
      } finally {
        store.destroy();
      }
    }
    this.delivery ??= this.newDelivery(this.config.sink);
    this.readCursor ??= this.checkpoint ?? -1;
    const page = await this.deps.source.readPage({ tenantId, afterPosition: this.readCursor, limit: 5000 });
    for (const row of page) await this.delivery.add(row);
    if (page.length > 0) this.readCursor = page.at(-1)!.position;
    await this.delivery.tick();
    return page.length;
  }

  /** Waits until everything read so far is delivered and checkpointed (Splunk). */
  async flush(): Promise<void> {
    await this.delivery?.flush();
  }

  private newDelivery(sink: HecSinkConfig): HecDelivery {
    return new HecDelivery(sink, { onCheckpoint: (position) => this.deps.state.saveCheckpoint(this.config.name, position) });
  }

  private async follow(): Promise<void> {
    while (this.running) {
      let moved = 0;
      try {
        moved = await this.step();
        this.lastError = null;
      } catch (e) {
        this.lastError = `${(e as Error).name}: ${(e as Error).message}`;
        this.deps.onError?.(e as Error);
        if ((e as Error).name === 'SinkConfigurationError') {
          this.running = false;
          break;
        }
        // Anything in flight is sent again from the checkpoint by a fresh delivery.
        this.delivery?.close();
        this.delivery = null;
        this.readCursor = null;
      }
      if (moved === 0 && this.running) await this.pause(this.config.pollIntervalMs);
    }
    try {
      await this.delivery?.flush();
    } catch (e) {
      this.lastError = `${(e as Error).name}: ${(e as Error).message}`;
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
