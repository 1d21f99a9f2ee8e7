import type { ClickHouseClient } from '@clickhouse/client';
import type { RecordedEvent } from '@access-ledger/event-store';
import { LineBuffer, insertEncodedRows, type EncodedRows } from '../clickhouse.js';
import { AUDIT_COLUMNS, auditLineOf } from './audit-row.js';
import { BatchSource, TIMEOUT, type BatchingProjectionOptions, type ProjectionProgress } from './batch-source.js';
import { CheckpointStore, TRUNCATION_PENDING, type Checkpoint } from './checkpoint.js';
import { Quarantine, isDataError } from './quarantine.js';

/**
 * The audit trail projection: every stored event, flattened into `audit_events`, exactly once.
 *
 * Exactly-once (docs/read-model.md): for each batch
 *   1. the checkpoint row announces `pending_through = last position of the batch`;
 *   2. the rows are inserted with `insert_deduplication_token = <projection>:g<generation>:<first>-<last>`;
 *   3. the checkpoint advances to the batch's last position.
 * A crash after 1 or 2 restarts from the old checkpoint and, because of the announcement, rebuilds exactly the
 * same batch (whatever the batch size or timer says), so the same token makes ClickHouse drop whatever part of it
 * was already stored. A crash after 3 starts after the batch. Events at or below the checkpoint are skipped.
 *
 * Backpressure: while one batch is being written, the next is read and serialised; the loop then waits for the
 * write before going on, so a fast source never runs ahead of ClickHouse by more than two batches.
 *
 * Quarantine: an event that cannot be encoded, or a batch whose insert fails on its data, does not
 * stop the projection: the batch is inserted row by row, the rows that fail are recorded in `quarantined_events`
 * and skipped, and the checkpoint advances past them. They are tried again at the next start.
 */
export interface AuditProjectionOptions extends BatchingProjectionOptions {
  /** Rows per insert. chDB parses JSON off the event loop, but we build the body on it: keep it moderate. */
  readonly maxBatchSize?: number;
}

export interface AuditProjectionMetrics extends ProjectionProgress {
  readonly eventsProjected: number;
  readonly batchesInserted: number;
  readonly insertErrors: number;
  readonly lastBatchMs: number;
  readonly generation: number;
  /** Events of this generation in quarantine, not yet released. */
  readonly quarantined: number;
}

const YIELD_EVERY = 1000;

export class AuditProjection {
  readonly name: string;
  private readonly client: ClickHouseClient;
  private readonly checkpoints: CheckpointStore;
  private readonly maxBatchSize: number;
  private readonly maxBatchDelayMs: number;
  private checkpoint: Checkpoint | undefined;
  private head = -1;
  private eventsProjected = 0;
  private batchesInserted = 0;
  private insertErrors = 0;
  private lastBatchMs = 0;
  private stopping = false;
  private running: Promise<void> | undefined;
  private source: BatchSource | undefined;
  readonly quarantine: Quarantine;

  constructor(private readonly options: AuditProjectionOptions) {
    this.client = options.client;
    this.name = options.name ?? 'audit_events';
    this.checkpoints = new CheckpointStore(options.client, this.name);
    this.quarantine = new Quarantine(options.client, this.name);
    this.maxBatchSize = options.maxBatchSize ?? 5000;
    this.maxBatchDelayMs = options.maxBatchDelayMs ?? 250;
  }

  /** Projects until the source ends (catch-up of a finite source, tests, rebuild tools). */
  async run(): Promise<void> {
    if (this.running) throw new Error(`projection ${this.name} is already running`);
    this.stopping = false;
    this.running = this.loop();
    try {
      await this.running;
    } finally {
      this.running = undefined;
    }
  }

  /**
   * Starts projecting in the background (a live subscription never ends); `stop()` ends it. A run that fails goes to
   * `onError` (required: a projection that stops without anyone knowing is a silent, growing lag).
   */
  start(onError: (error: unknown) => void): void {
    void this.run().catch(onError);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const running = this.running;
    await this.source?.close();
    await running?.catch(() => undefined); // a failed run was already reported to start()'s onError
  }

  /**
   * Starts a new generation from position 0 and empties the audit trail; call run()/start() to replay.
   * The checkpoint moves first and says "truncation pending" (pending_through = -2); a run that finds that mark
   * empties the table before projecting, so a crash between the two steps still ends in a clean replay.
   */
  async rebuild(): Promise<void> {
    await this.stop();
    const current = await this.checkpoints.load();
    await this.checkpoints.save({ position: -1, pendingThrough: TRUNCATION_PENDING, generation: current.generation + 1 });
    this.checkpoint = await this.truncate(current.generation + 1);
    this.eventsProjected = 0;
  }

  private async truncate(generation: number): Promise<Checkpoint> {
    await this.client.command({ query: 'TRUNCATE TABLE IF EXISTS audit_events' });
    const fresh: Checkpoint = { position: -1, pendingThrough: -1, generation };
    await this.checkpoints.save(fresh);
    return fresh;
  }

  async currentCheckpoint(): Promise<Checkpoint> {
    this.checkpoint ??= await this.checkpoints.load();
    return this.checkpoint;
  }

  /** Refreshes the head from the event store (the API calls it before rendering /metrics). */
  async refreshLag(): Promise<number> {
    await this.currentCheckpoint();
    if (this.options.headPosition) this.head = Math.max(this.head, await this.options.headPosition());
    return this.metrics.lag;
  }

  get lag(): number {
    return this.metrics.lag;
  }

  get metrics(): AuditProjectionMetrics {
    const checkpoint = this.checkpoint?.position ?? -1;
    return {
      checkpoint,
      head: this.head,
      lag: Math.max(0, this.head - checkpoint),
      eventsProjected: this.eventsProjected,
      batchesInserted: this.batchesInserted,
      insertErrors: this.insertErrors,
      lastBatchMs: this.lastBatchMs,
      generation: this.checkpoint?.generation ?? 0,
      quarantined: this.quarantine.count,
    };
  }

  private async loop(): Promise<void> {
    let checkpoint = (this.checkpoint = await this.checkpoints.load());
    if (checkpoint.pendingThrough === TRUNCATION_PENDING) checkpoint = this.checkpoint = await this.truncate(checkpoint.generation);
    await this.retryQuarantined(checkpoint);
    // A batch announced before a crash must be rebuilt with exactly its old boundary.
    let forcedThrough = checkpoint.pendingThrough > checkpoint.position ? checkpoint.pendingThrough : undefined;
    const source = (this.source = new BatchSource(this.options.source(checkpoint.position), this.maxBatchDelayMs));
    // The batch is encoded as it fills (one line per event, straight into bytes), so cutting it costs nothing.
    const batch = new LineBuffer();
    // The batch's events (for a row-by-row retry) and those that could not be encoded at all.
    let batchEvents: RecordedEvent[] = [];
    let unencodable: { event: RecordedEvent; error: unknown }[] = [];
    let batchFirst = -1;
    let sinceYield = 0;
    let lastQueued = checkpoint.position;
    // At most one batch is being written while the next one is read and serialised (the insert itself runs on
    // chDB's or the HTTP client's side, off the event loop). Writes stay strictly one after another.
    let writing: Promise<void> = Promise.resolve();
    // Batches cut and waiting for their insert, the one being inserted first.
    const queued: PreparedBatch[] = [];

    const flush = (): Promise<void> => {
      if (batchEvents.length === 0 && unencodable.length === 0) return writing;
      const rows = batch.lines;
      const prepared: PreparedBatch = {
        first: batchFirst,
        last: lastQueued,
        rows,
        encoded: { columns: AUDIT_COLUMNS, body: batch.take(), rows },
        events: batchEvents,
        unencodable,
      };
      batchEvents = [];
      unencodable = [];
      forcedThrough = undefined;
      const previous = writing;
      queued.push(prepared);
      writing = (async () => {
        await previous;
        checkpoint = await this.insertBatch(checkpoint, prepared, () => queued[1]);
        this.checkpoint = checkpoint;
        queued.shift();
      })();
      // Observed when the next flush (or the end of the loop) awaits it; never an unhandled rejection meanwhile.
      writing.catch(() => undefined);
      return previous;
    };

    try {
      while (!this.stopping) {
        const result = await source.next();
        if (result === TIMEOUT) {
          source.endBatch();
          await flush();
          continue;
        }
        if (result.done) break;
        const event = result.value;
        this.head = Math.max(this.head, event.position);
        if (event.position <= lastQueued) continue;
        lastQueued = event.position;
        if (batchEvents.length === 0 && unencodable.length === 0) {
          batchFirst = event.position;
          if (forcedThrough === undefined) source.startBatch();
        }
        let line: string | undefined;
        try {
          line = auditLineOf(event);
        } catch (error) {
          // Data nested past JSON.stringify's stack: no row can carry it.
          unencodable.push({ event, error });
        }
        if (line !== undefined) {
          batch.add(line);
          batchEvents.push(event);
        }
        if (forcedThrough !== undefined ? event.position >= forcedThrough : batchEvents.length + unencodable.length >= this.maxBatchSize) {
          source.endBatch();
          await flush();
        } else if (++sinceYield >= YIELD_EVERY) {
          // A source that never waits (a catch-up read) would otherwise keep the loop to itself for a whole batch,
          // and the insert chain (its completions, the checkpoint writes) would stall behind it.
          sinceYield = 0;
          await new Promise((resume) => setImmediate(resume));
        }
      }
      if (!this.stopping) flush();
      await writing;
    } finally {
      this.source = undefined;
      await source.finish();
    }
  }

  /**
   * A batch whose insert failed on its data, one row at a time: each row with its own deduplication token (so a
   * crash in the middle and the replay of the same batch insert nothing twice); a row that fails on its data goes
   * to quarantine. Any other failure stops the projection as before. Returns the rows inserted.
   */
  private async insertOneByOne(generation: number, events: readonly RecordedEvent[]): Promise<number> {
    let inserted = 0;
    for (const event of events) {
      const failure = await this.insertOne(generation, event);
      if (failure === undefined) inserted++;
      else await this.quarantine.add(generation, event, failure.error);
    }
    return inserted;
  }

  /** One event's row; the error when it failed on its data. */
  private async insertOne(generation: number, event: RecordedEvent): Promise<{ error: unknown } | undefined> {
    try {
      const body = Buffer.from(auditLineOf(event), 'utf8');
      await insertEncodedRows(this.client, {
        table: 'audit_events',
        encoded: { columns: AUDIT_COLUMNS, body, rows: 1 },
        deduplicationToken: `${this.name}:g${generation}:${event.position}-${event.position}`,
      });
      return undefined;
    } catch (error) {
      if (!isDataError(error)) throw error;
      return { error };
    }
  }

  /**
   * At each start, the quarantined events already passed are tried again (after a fix of the code or the schema
   * they go in, and are released); those that still fail stay. Events after the checkpoint are met by the loop.
   */
  private async retryQuarantined(checkpoint: Checkpoint): Promise<void> {
    for (const held of await this.quarantine.load(checkpoint.generation)) {
      if (held.position > checkpoint.position) continue;
      const event = await this.eventAt(held.position);
      if (event && (await this.insertOne(checkpoint.generation, event)) === undefined) {
        await this.quarantine.release(held.position);
        this.eventsProjected++;
      }
    }
  }

  private async eventAt(position: number): Promise<RecordedEvent | undefined> {
    const iterable = this.options.source(position - 1);
    const iterator = iterable[Symbol.asyncIterator]();
    try {
      const next = await iterator.next();
      return !next.done && next.value.position === position ? next.value : undefined;
    } finally {
      const live = iterable as AsyncIterable<RecordedEvent> & { close?: () => Promise<void> };
      if (typeof live.close === 'function') await live.close();
      else await iterator.return?.();
    }
  }

  /**
   * Announce (unless already announced), insert, advance. When the next batch is already cut, the advance also
   * announces it: one checkpoint write per batch instead of two while catching up.
   */
  private async insertBatch(checkpoint: Checkpoint, batch: PreparedBatch, next: () => PreparedBatch | undefined): Promise<Checkpoint> {
    const started = performance.now();
    const { first, last } = batch;
    if (checkpoint.pendingThrough !== last) {
      await this.checkpoints.save({ position: checkpoint.position, pendingThrough: last, generation: checkpoint.generation });
    }
    let inserted = batch.rows;
    try {
      await insertEncodedRows(this.client, {
        table: 'audit_events',
        encoded: batch.encoded,
        deduplicationToken: `${this.name}:g${checkpoint.generation}:${first}-${last}`,
      });
    } catch (error) {
      this.insertErrors++;
      if (!isDataError(error)) throw error;
      inserted = await this.insertOneByOne(checkpoint.generation, batch.events);
    }
    for (const { event, error } of batch.unencodable) await this.quarantine.add(checkpoint.generation, event, error);
    await this.options.afterInsert?.({ first, last, rows: inserted });
    const advanced: Checkpoint = { position: last, pendingThrough: next()?.last ?? last, generation: checkpoint.generation };
    await this.checkpoints.save(advanced);
    this.eventsProjected += inserted;
    this.batchesInserted++;
    this.lastBatchMs = performance.now() - started;
    return advanced;
  }
}

interface PreparedBatch {
  readonly first: number;
  readonly last: number;
  readonly rows: number;
  readonly encoded: EncodedRows;
  readonly events: readonly RecordedEvent[];
  readonly unencodable: readonly { event: RecordedEvent; error: unknown }[];
}
