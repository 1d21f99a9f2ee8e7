import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { AuditRow, RowCursor } from '../audit-row.js';
import type { HecSinkConfig } from '../config.js';
import { SinkConfigurationError, SinkUnavailableError } from '../errors.js';
import { DeadLetterFile, type DeadLetter } from './dead-letter.js';
import { batchBody, encodeEvent, type EncodedEvent, type HecEnvelope } from './hec-event.js';
import { HecTransport } from './hec-transport.js';
import { backoffDelay, classifyAnswer, type HecVerdict } from './retry-policy.js';

const gzip = promisify(gzipCallback);
const EVENT_PATH = '/services/collector/event';
const ACK_PATH = '/services/collector/ack';
const ACK_QUERY_MAX = 1000;

export interface HecDeliveryStats {
  /** Rows handed to the delivery. */
  received: number;
  /** Rows whose delivery is final (indexed — acknowledged when acks are on — or dead-lettered). */
  delivered: number;
  deadLettered: number;
  /** Events posted, counting every resend: sent − delivered − in flight = the duplicates risked. */
  eventsSent: number;
  requests: number;
  retries: number;
  /** Events sent again because their acknowledgement did not come within ackTimeoutMs. */
  resentAfterAckTimeout: number;
  /** Events sent again around a bad event (Splunk may have indexed those before it). */
  resentAroundBadData: number;
  /**
   * Position of the last row of the delivered prefix (rows are delivered in the order handed in);
   * null before the first.
   */
  checkpoint: number | null;
  /** The same place as (occurredAt, position), for sources read in time order. */
  cursor: RowCursor | null;
}

export interface HecDeliveryOptions {
  /**
   * Called, in order, each time the delivered prefix grows: every row at or before `position` that
   * was handed in is indexed (acknowledged, when acks are on) or dead-lettered. Persist it and a
   * restart resumes from it without loss.
   */
  readonly onCheckpoint?: (position: number, stats: Readonly<HecDeliveryStats>, cursor: RowCursor) => Promise<void> | void;
  readonly random?: () => number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

interface Part {
  events: EncodedEvent[];
  ackId?: number;
  sentAt: number;
  acked: boolean;
}

/** A batch as handed in: done when every part of it (after isolating bad events) is acknowledged. */
interface Unit {
  readonly last: RowCursor;
  readonly count: number;
  parts: Part[];
}

/**
 * Delivers audit rows to a Splunk HTTP Event Collector at least once.
 *
 * Rows are batched by size (maxBatchBytes) and age (maxBatchDelayMs, on `tick`), gzip-compressed and
 * posted with `Authorization: Splunk <token>`. Up to maxInFlight batches wait for their indexer
 * acknowledgement at once; the checkpoint moves over a batch only when it and every batch before it
 * are acknowledged (the checkpoint is a place in the order rows were handed in: position order for a
 * follower, (occurredAt, position) order for a time-range export). Busy or broken answers are retried with exponential backoff and full jitter;
 * a batch with events Splunk cannot take is split around them (by `invalid-event-number`, else by
 * bisection), those events go to the dead-letter file with the reason, and the rest continue.
 * A refused token, index or acknowledgement setting stops delivery at once (SinkConfigurationError)
 * with the checkpoint where it was.
 */
export class HecDelivery {
  readonly stats: HecDeliveryStats = {
    received: 0,
    delivered: 0,
    deadLettered: 0,
    eventsSent: 0,
    requests: 0,
    retries: 0,
    resentAfterAckTimeout: 0,
    resentAroundBadData: 0,
    checkpoint: null,
    cursor: null,
  };
  private readonly transport: HecTransport;
  private readonly deadLetterFile: DeadLetterFile | null;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private batch: EncodedEvent[] = [];
  private batchBytes = 0;
  private batchStartedAt = 0;
  private readonly queue: Unit[] = [];
  /** Dead letters kept in memory too, for callers without a file and for reports. */
  readonly deadLetters: DeadLetter[] = [];

  constructor(
    private readonly config: HecSinkConfig,
    private readonly options: HecDeliveryOptions = {},
  ) {
    this.transport = new HecTransport(config.url, config.token, config.requestTimeoutMs, config.insecureSkipVerify);
    this.deadLetterFile = config.deadLetterPath ? new DeadLetterFile(config.deadLetterPath) : null;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = options.random ?? Math.random;
  }

  /** Checks the token (and acknowledgement) before anything is sent: fails fast on a bad configuration. */
  async preflight(): Promise<void> {
    // An empty body is answered 400 code 5 "No data" once the token is accepted, and 401/403 otherwise.
    const verdict = await this.post(EVENT_PATH, await gzip(''), true);
    if (verdict.kind === 'fatal' && verdict.code !== 5) throw new SinkConfigurationError('splunk', `${verdict.reason} (${this.config.url})`);
    if (this.config.ack) {
      const ack = await this.post(ACK_PATH, Buffer.from('{"acks":[]}'), false);
      if (ack.kind === 'fatal') throw new SinkConfigurationError('splunk', `${ack.reason} (${this.config.url})`);
    }
  }

  async add(row: AuditRow): Promise<void> {
    await this.addEncoded(encodeEvent(row, this.config));
  }

  /** The fields (host, source, sourcetype, index) a source must put around each event it encodes itself. */
  get envelope(): HecEnvelope {
    return this.config;
  }

  /** An event already encoded (by `encodeEvent` or by ClickHouse, see ClickHouseAuditTable.readRangeEncoded). */
  async addEncoded(event: EncodedEvent): Promise<void> {
    if (this.batch.length > 0 && this.batchBytes + event.bytes > this.config.maxBatchBytes) await this.dispatch();
    if (this.batch.length === 0) this.batchStartedAt = this.now();
    this.batch.push(event);
    this.batchBytes += event.bytes;
    this.stats.received++;
  }

  /** For continuous delivery: sends a batch that has waited maxBatchDelayMs and collects acknowledgements. */
  async tick(): Promise<void> {
    if (this.batch.length > 0 && this.now() - this.batchStartedAt >= this.config.maxBatchDelayMs) await this.dispatch();
    if (this.queue.length > 0) {
      await this.pollAcks();
      await this.advance();
    }
  }

  /** Sends what is batched and waits until everything handed in is delivered. */
  async flush(): Promise<void> {
    if (this.batch.length > 0) await this.dispatch();
    await this.drainTo(0);
  }

  /** Rows handed in and not yet delivered. */
  get pending(): number {
    return this.stats.received - this.stats.delivered;
  }

  close(): void {
    this.transport.close();
  }

  private async dispatch(): Promise<void> {
    const events = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    await this.drainTo(this.config.maxInFlight - 1);
    const parts = await this.sendIsolatingBadData(events);
    const last = events.at(-1)!;
    this.queue.push({ last: { occurredAt: last.occurredAt, position: last.position }, count: events.length, parts });
    await this.advance();
  }

  /** Polls acknowledgements until at most `limit` batches wait for theirs. */
  private async drainTo(limit: number): Promise<void> {
    let wait = Math.min(20, this.config.ackPollIntervalMs);
    await this.advance();
    while (this.queue.length > limit) {
      await this.pollAcks();
      await this.advance();
      if (this.queue.length > limit) {
        await this.sleep(wait);
        wait = Math.min(wait * 2, this.config.ackPollIntervalMs);
      }
    }
  }

  private async advance(): Promise<void> {
    let moved = false;
    while (this.queue.length > 0 && this.queue[0]!.parts.every((p) => p.acked)) {
      const unit = this.queue.shift()!;
      this.stats.checkpoint = unit.last.position;
      this.stats.cursor = unit.last;
      this.stats.delivered += unit.count;
      moved = true;
    }
    if (moved) await this.options.onCheckpoint?.(this.stats.checkpoint!, this.stats, this.stats.cursor!);
  }

  private async pollAcks(): Promise<void> {
    const waiting = this.queue.flatMap((u) => u.parts.filter((p) => !p.acked && p.ackId !== undefined));
    for (let i = 0; i < waiting.length; i += ACK_QUERY_MAX) {
      const slice = waiting.slice(i, i + ACK_QUERY_MAX);
      const body = Buffer.from(JSON.stringify({ acks: slice.map((p) => p.ackId) }));
      const answer = await this.postForBody(ACK_PATH, body);
      const acks = (JSON.parse(answer) as { acks?: Record<string, boolean> }).acks ?? {};
      for (const p of slice) if (acks[String(p.ackId)] === true) p.acked = true;
    }
    // Splunk's advice: an ack that never comes means the events may be lost — send them again.
    const now = this.now();
    for (const unit of this.queue) {
      const parts: Part[] = [];
      for (const p of unit.parts) {
        if (!p.acked && now - p.sentAt >= this.config.ackTimeoutMs) {
          this.stats.resentAfterAckTimeout += p.events.length;
          parts.push(...(await this.sendIsolatingBadData(p.events)));
        } else parts.push(p);
      }
      unit.parts = parts;
    }
  }

  /** Sends events; events Splunk refuses as bad data go to the dead-letter file and the rest are sent again. */
  private async sendIsolatingBadData(events: EncodedEvent[]): Promise<Part[]> {
    if (events.length === 0) return [];
    const body = await gzip(batchBody(events));
    const verdict = await this.post(EVENT_PATH, body, true);
    this.stats.eventsSent += events.length;
    if (verdict.kind === 'ok') {
      const acked = !this.config.ack;
      if (this.config.ack && verdict.ackId === undefined)
        throw new SinkConfigurationError(
          'splunk',
          `Splunk did not return an ackId although ack is enabled (${this.config.url}): enable indexer acknowledgement on the token or set ack: false`,
        );
      return [{ events, ...(verdict.ackId === undefined ? {} : { ackId: verdict.ackId }), sentAt: this.now(), acked }];
    }
    if (verdict.kind === 'fatal') throw new SinkConfigurationError('splunk', `${verdict.reason} (${this.config.url})`);
    if (events.length === 1) {
      await this.deadLetter(events[0]!, verdict);
      return [];
    }
    const n = verdict.invalidEventNumber;
    if (n !== undefined && n >= 0 && n < events.length) {
      await this.deadLetter(events[n]!, verdict);
      const rest = [...events.slice(0, n), ...events.slice(n + 1)];
      this.stats.resentAroundBadData += rest.length;
      return this.sendIsolatingBadData(rest);
    }
    const half = Math.ceil(events.length / 2);
    this.stats.resentAroundBadData += events.length;
    return [...(await this.sendIsolatingBadData(events.slice(0, half))), ...(await this.sendIsolatingBadData(events.slice(half)))];
  }

  private async deadLetter(event: EncodedEvent, verdict: Extract<HecVerdict, { kind: 'bad-data' }>): Promise<void> {
    const letter: DeadLetter = {
      at: new Date(this.now()).toISOString(),
      eventId: event.eventId,
      position: event.position,
      reason: verdict.reason,
      code: verdict.code,
      event: JSON.parse(event.line) as unknown,
    };
    await this.deadLetterFile?.append([letter]);
    this.deadLetters.push(letter);
    this.stats.deadLettered++;
  }

  /** One POST, retried with backoff and full jitter while the answer says "try again". */
  private async post(path: string, body: Buffer, gzipped: boolean): Promise<Exclude<HecVerdict, { kind: 'retry' }>> {
    const { retry } = this.config;
    for (let attempt = 0; ; attempt++) {
      let verdict: HecVerdict;
      try {
        verdict = classifyAnswer(await this.transport.post(path, body, gzipped));
      } catch (e) {
        verdict = { kind: 'retry', reason: (e as Error).message };
      }
      this.stats.requests++;
      if (verdict.kind !== 'retry') return verdict;
      if (attempt + 1 >= retry.maxAttempts)
        throw new SinkUnavailableError('splunk', `Splunk HEC at ${this.config.url} still failing after ${retry.maxAttempts} attempts: ${verdict.reason}`);
      this.stats.retries++;
      await this.sleep(backoffDelay(attempt, retry.baseDelayMs, retry.maxDelayMs, this.random));
    }
  }

  private async postForBody(path: string, body: Buffer): Promise<string> {
    const { retry } = this.config;
    for (let attempt = 0; ; attempt++) {
      let reason: string;
      try {
        const answer = await this.transport.post(path, body, false);
        const verdict = classifyAnswer(answer);
        if (verdict.kind === 'ok') return answer.body;
        if (verdict.kind !== 'retry') throw new SinkConfigurationError('splunk', `${verdict.reason} (${this.config.url})`);
        reason = verdict.reason;
      } catch (e) {
        if (e instanceof SinkConfigurationError) throw e;
        reason = (e as Error).message;
      }
      this.stats.requests++;
      if (attempt + 1 >= retry.maxAttempts)
        throw new SinkUnavailableError(
          'splunk',
          `Splunk HEC acknowledgements at ${this.config.url} still failing after ${retry.maxAttempts} attempts: ${reason}`,
        );
      this.stats.retries++;
      await this.sleep(backoffDelay(attempt, retry.baseDelayMs, retry.maxDelayMs, this.random));
    }
  }
}
