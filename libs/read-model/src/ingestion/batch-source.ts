import type { ClickHouseClient } from '@clickhouse/client';
import type { RecordedEvent } from '@access-ledger/event-store';

export const TIMEOUT = Symbol('timeout');

/** What every batching projection into ClickHouse (the audit trail, the access intervals) is given. */
export interface BatchingProjectionOptions {
  readonly client: ClickHouseClient;
  /** The events after a position, in position order (e.g. `after => store.subscribeToAll({ after })`). */
  readonly source: (after: number) => AsyncIterable<RecordedEvent>;
  /** Head of the event store, for the lag. */
  readonly headPosition?: () => Promise<number>;
  readonly name?: string;
  /** A partial batch is written at most this long after its first event, so a quiet live stream is projected promptly. */
  readonly maxBatchDelayMs?: number;
  /** Test hook: runs after a batch's insert and before its checkpoint (the crash window). */
  readonly afterInsert?: (batch: { first: number; last: number; rows: number }) => Promise<void> | void;
}

/** Where a batching projection stands: its checkpoint, the store's head as last seen, and the difference. */
export interface ProjectionProgress {
  readonly checkpoint: number;
  readonly head: number;
  readonly lag: number;
}

/**
 * The event source of a batching projection (the audit trail, the access intervals): the next event, or TIMEOUT once
 * the batch being filled has waited its longest — one timer per batch, not per event, so that a quiet live stream is
 * still written promptly — and a close that also ends a live subscription's pending `next()`.
 */
export class BatchSource {
  private readonly iterator: AsyncIterator<RecordedEvent>;
  private pending: Promise<IteratorResult<RecordedEvent>> | undefined;
  private deadline: Promise<typeof TIMEOUT> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly iterable: AsyncIterable<RecordedEvent>,
    private readonly maxBatchDelayMs: number,
  ) {
    this.iterator = iterable[Symbol.asyncIterator]();
  }

  /** Starts the batch clock (at a batch's first event). */
  startBatch(): void {
    this.deadline = new Promise((done) => (this.timer = setTimeout(() => done(TIMEOUT), this.maxBatchDelayMs)));
  }

  /** Stops the batch clock (the batch is being written). */
  endBatch(): void {
    clearTimeout(this.timer);
    this.deadline = undefined;
  }

  /** The next event, the end of the source, or TIMEOUT if the batch clock ran out first (the event stays pending). */
  async next(): Promise<IteratorResult<RecordedEvent> | typeof TIMEOUT> {
    this.pending ??= this.iterator.next();
    const result = this.deadline === undefined ? await this.pending : await Promise.race([this.pending, this.deadline]);
    if (result !== TIMEOUT) this.pending = undefined;
    return result;
  }

  /** From outside the loop (stop): a live subscription is closed, which settles its pending `next()`. */
  async close(): Promise<void> {
    const iterable = this.iterable as AsyncIterable<RecordedEvent> & { close?: () => Promise<void> };
    if (typeof iterable.close === 'function') await iterable.close();
    else void this.iterator.return?.()?.catch(() => undefined); // abandoned on purpose: nothing more is read from it
  }

  /** When the loop ends: the clock stops, and a finite source with no pending `next()` is returned. */
  async finish(): Promise<void> {
    this.endBatch();
    if (this.pending === undefined) await this.iterator.return?.();
  }
}
