import type { PublicCheckpointKey, SignedCheckpoint } from '@access-ledger/event-store';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import type { ClickHouseAuditTable } from '../clickhouse-audit-table.js';
import { ExportRequest, HecSinkConfig, S3SinkConfig, type SinkConfig } from '../config.js';
import { SinkConfigurationError } from '../errors.js';
import { HecDelivery } from '../hec/hec-delivery.js';
import { exportToHec } from '../hec/hec-export.js';
import { parseS3Uri } from '../s3/layout.js';
import { exportToS3 } from '../s3/s3-export.js';
import { S3ObjectStore } from '../s3/s3-store.js';
import { redactSink, type ExportJob, type ExportStateStore } from './export-state.js';

export interface ExportJobsDeps {
  readonly table: ClickHouseAuditTable;
  readonly state: ExportStateStore;
  /** Where dead-letter files go: `<dataDir>/exports/<exportId>.dead-letter.ndjson`. */
  readonly dataDir: string;
  /** Sinks configured by the operator, usable by name (`sinkName`) and as defaults per kind. */
  readonly sinks?: Readonly<Record<string, SinkConfig>>;
  readonly now?: () => Date;
  readonly newId?: () => string;
  /** Where a failure the caller cannot see goes (a job's state that could not be saved); default stderr. */
  readonly log?: (line: string) => void;
  /** The signed checkpoint covering the event at a position, recorded per object in S3 manifests. */
  readonly checkpointFor?: (tenantId: string, position: number) => Promise<SignedCheckpoint | undefined>;
  /** The checkpoint public keys, written into each S3 manifest. */
  readonly checkpointKeys?: () => readonly PublicCheckpointKey[];
}

/**
 * One-shot exports (`POST /v1/tenants/{t}/exports`): validates the sink and checks it can work before
 * accepting (a bad bucket or token is refused at once, and no job exists), then runs jobs one at a
 * time in the background (exports to one prefix must not interleave: the digest chain is sequential,
 * and chDB is one engine per process). Every state change is persisted, so `GET …/exports/{id}`
 * answers after a restart, and `resume()` takes up interrupted jobs: an S3 export runs again
 * (deterministic keys: the same objects are replaced), a Splunk export continues after its checkpoint.
 */
export class ExportJobs {
  private chain: Promise<void> = Promise.resolve();
  private readonly now: () => Date;
  private readonly newId: () => string;
  private readonly log: (line: string) => void;
  /**
   * Jobs whose end could not be saved (the state store failed), by `tenantId/exportId`: `get`, `list` and `retry`
   * answer with this state instead of the stored one, so a job never shows "running" for ever. The store still holds
   * the earlier state, so a restart runs the job again (`resume`).
   */
  private readonly unsaved = new Map<string, ExportJob>();
  /**
   * Jobs whose sink `start` checked in this process, by `tenantId/exportId`: their first run does not check it again
   * (one HEC preflight per export, not two). A job resumed after a restart or retried is checked when it runs.
   */
  private readonly checked = new Set<string>();

  constructor(private readonly deps: ExportJobsDeps) {
    this.now = deps.now ?? (() => new Date());
    this.newId = deps.newId ?? (() => `exp-${randomUUID()}`);
    this.log = deps.log ?? ((line) => process.stderr.write(`${line}\n`));
  }

  /** Accepts an export: 202 material. Throws z.ZodError for a bad body, SinkConfigurationError for a sink that cannot work. */
  async start(tenantId: string, body: unknown): Promise<{ exportId: string }> {
    const request = ExportRequest.parse(body);
    const exportId = this.newId();
    const sink = this.resolveSink(request, exportId);
    await preflight(sink);
    this.checked.add(keyOf(tenantId, exportId));
    const at = this.now().toISOString();
    const job: ExportJob = {
      exportId,
      tenantId,
      sink,
      from: request.from,
      to: request.to,
      status: 'queued',
      progress: { rowsTotal: 0, rowsDone: 0 },
      counts: { rows: 0 },
      digests: null,
      upToPosition: null,
      checkpoint: null,
      cursor: null,
      error: null,
      createdAt: at,
      updatedAt: at,
      finishedAt: null,
    };
    this.deps.state.saveJob(job);
    this.enqueue(job);
    return { exportId };
  }

  /** The job as clients see it (secrets redacted), or null when this tenant has no such export. */
  get(tenantId: string, exportId: string): ExportJob | null {
    const job = this.current(tenantId, exportId);
    return job ? { ...job, sink: redactSink(job.sink) } : null;
  }

  list(tenantId: string): ExportJob[] {
    return this.deps.state.jobs({ tenantId }).map((stored) => {
      const j = this.unsaved.get(keyOf(stored.tenantId, stored.exportId)) ?? stored;
      return { ...j, sink: redactSink(j.sink) };
    });
  }

  private current(tenantId: string, exportId: string): ExportJob | null {
    return this.unsaved.get(keyOf(tenantId, exportId)) ?? this.deps.state.job(tenantId, exportId);
  }

  /** At start-up: queue again every job a previous process left queued or running. Returns their ids. */
  resume(): string[] {
    const open = this.deps.state.jobs({ status: ['queued', 'running'] });
    for (const job of open) this.enqueue(job);
    return open.map((j) => j.exportId);
  }

  /**
   * Runs a failed job again (e.g. after Splunk was down longer than the retries lasted): a Splunk
   * job continues after its checkpoint, an S3 job writes its objects again. Returns false when the
   * tenant has no such job or it has not failed.
   */
  retry(tenantId: string, exportId: string): boolean {
    const job = this.current(tenantId, exportId);
    if (job?.status !== 'failed') return false;
    this.enqueue(this.update(job, { status: 'queued', error: null, finishedAt: null }));
    return true;
  }

  /** Resolves when every queued job has finished (tests, shutdown). */
  whenIdle(): Promise<void> {
    return this.chain;
  }

  private enqueue(job: ExportJob): void {
    // `run` records its own failures in the job; what still escapes it (the state store failing to read the job)
    // is logged here, so one job's failure neither stops the jobs queued after it nor goes unseen.
    this.chain = this.chain
      .then(() => this.run(job.tenantId, job.exportId))
      .catch((e: unknown) => this.log(`export ${job.tenantId}/${job.exportId}: ${errorText(e)}`));
  }

  private update(job: ExportJob, change: Partial<ExportJob>): ExportJob {
    const next = { ...job, ...change, updatedAt: this.now().toISOString() };
    this.deps.state.saveJob(next);
    this.unsaved.delete(keyOf(job.tenantId, job.exportId));
    return next;
  }

  private async run(tenantId: string, exportId: string): Promise<void> {
    let job = this.deps.state.job(tenantId, exportId);
    if (!job || job.status === 'succeeded' || job.status === 'failed') return;
    const preflight = !this.checked.delete(keyOf(tenantId, exportId));
    try {
      const upToPosition = job.upToPosition ?? (await this.deps.table.headPosition(tenantId));
      const rowsTotal = await this.deps.table.countRange({ tenantId, from: job.from, to: job.to, upToPosition });
      job = this.update(job, { status: 'running', upToPosition, progress: { rowsTotal, rowsDone: job.progress.rowsDone } });
      if (job.sink.kind === 's3') job = await this.runS3(job, job.sink, upToPosition, preflight);
      else job = await this.runHec(job, job.sink, upToPosition, preflight);
      this.update(job, { status: 'succeeded', finishedAt: this.now().toISOString() });
    } catch (e) {
      const latest = this.deps.state.job(tenantId, exportId) ?? job;
      const error = errorText(e);
      try {
        this.update(latest, { status: 'failed', error, finishedAt: this.now().toISOString() });
      } catch (saveError) {
        // The job has ended whether or not the store took it: answer "failed" from memory, and say why it is not stored.
        const at = this.now().toISOString();
        const failed: ExportJob = {
          ...latest,
          status: 'failed',
          error: `${error} (this state could not be saved: ${errorText(saveError)})`,
          finishedAt: at,
          updatedAt: at,
        };
        this.unsaved.set(keyOf(tenantId, exportId), failed);
        this.log(`export ${tenantId}/${exportId} failed (${error}), and saving its failed state failed: ${errorText(saveError)}`);
      }
    }
  }

  private async runS3(job: ExportJob, sink: S3SinkConfig, upToPosition: number, preflight: boolean): Promise<ExportJob> {
    const store = new S3ObjectStore(sink);
    try {
      let current = job;
      const result = await exportToS3(
        {
          table: this.deps.table,
          store,
          config: sink,
          now: this.now,
          preflight,
          ...(this.deps.checkpointFor ? { checkpointFor: this.deps.checkpointFor } : {}),
        },
        { exportId: job.exportId, tenantId: job.tenantId, from: job.from, to: job.to, upToPosition },
        (p) => {
          current = this.update(current, { progress: { rowsTotal: p.rowsTotal, rowsDone: p.rowsDone }, counts: { rows: p.rowsDone, objects: p.objectsDone } });
        },
      );
      return this.update(current, {
        counts: { rows: result.rows, objects: result.objects.length },
        digests: { location: result.location, manifestKey: result.manifestKey, digest: result.digest, previousDigest: result.previousDigest },
      });
    } finally {
      store.destroy();
    }
  }

  private async runHec(job: ExportJob, sink: HecSinkConfig, upToPosition: number, preflight: boolean): Promise<ExportJob> {
    let current = job;
    const before = job.progress.rowsDone;
    const delivery = new HecDelivery(sink, {
      onCheckpoint: (position, stats, cursor) => {
        current = this.update(current, {
          checkpoint: position,
          cursor,
          progress: { rowsTotal: current.progress.rowsTotal, rowsDone: before + stats.delivered },
          counts: {
            rows: before + stats.delivered,
            deadLettered: (job.counts.deadLettered ?? 0) + stats.deadLettered,
            eventsSent: stats.eventsSent,
            retries: stats.retries,
          },
        });
      },
    });
    try {
      await exportToHec(
        this.deps.table,
        delivery,
        {
          tenantId: job.tenantId,
          from: job.from,
          to: job.to,
          after: job.cursor,
          upToPosition,
        },
        { preflight },
      );
      return current;
    } finally {
      delivery.close();
    }
  }

  private resolveSink(request: ExportRequest, exportId: string): SinkConfig {
    const configured = request.sinkName === undefined ? defaultSink(this.deps.sinks, request.sink) : this.deps.sinks?.[request.sinkName];
    if (request.sinkName !== undefined && !configured) throw new SinkConfigurationError(request.sink, `no sink named "${request.sinkName}" is configured`);
    if (configured && configured.kind !== request.sink)
      throw new SinkConfigurationError(request.sink, `sink "${request.sinkName}" is a ${configured.kind} sink, not ${request.sink}`);
    try {
      if (request.sink === 's3') {
        return S3SinkConfig.parse({ ...(configured ?? {}), ...(request.s3 ?? {}), kind: 's3', ...(request.format ? { format: request.format } : {}) });
      }
      return HecSinkConfig.parse({
        deadLetterPath: join(this.deps.dataDir, 'exports', `${exportId}.dead-letter.ndjson`),
        ...(configured ?? {}),
        ...(request.splunk ?? {}),
        kind: 'splunk',
      });
    } catch (e) {
      if (e instanceof z.ZodError)
        throw new SinkConfigurationError(
          request.sink,
          `the ${request.sink} sink is not fully configured: ${e.issues.map((i) => `${i.path.join('.') || '(sink)'}: ${i.message}`).join('; ')}`,
        );
      throw e;
    }
  }
}

function keyOf(tenantId: string, exportId: string): string {
  return `${tenantId}/${exportId}`;
}

function errorText(error: unknown): string {
  const e = error as { name?: unknown; message?: unknown } | null;
  return typeof e?.message === 'string' ? `${String(e.name ?? 'Error')}: ${e.message}` : String(error);
}

function defaultSink(sinks: Readonly<Record<string, SinkConfig>> | undefined, kind: 's3' | 'splunk'): SinkConfig | undefined {
  const matching = Object.values(sinks ?? {}).filter((s) => s.kind === kind);
  return matching.length === 1 ? matching[0] : undefined;
}

/** Fails fast (SinkConfigurationError) when the sink cannot work: unknown bucket, refused credentials or token. */
export async function preflight(sink: SinkConfig): Promise<void> {
  if (sink.kind === 's3') {
    const store = new S3ObjectStore(sink);
    try {
      await store.preflight(parseS3Uri(sink.uri));
      if (sink.writer === 'clickhouse') await store.resolvedCredentials();
    } finally {
      store.destroy();
    }
    return;
  }
  const delivery = new HecDelivery({ ...sink, retry: { ...sink.retry, maxAttempts: Math.min(sink.retry.maxAttempts, 3) } });
  try {
    await delivery.preflight();
  } finally {
    delivery.close();
  }
}
