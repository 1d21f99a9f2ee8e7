import { NULLABLE_AUDIT_COLUMNS, type AuditRow } from '../audit-row.js';
import type { HecSinkConfig } from '../config.js';

/**
 * One audit row as a Splunk HEC event (pure). `time` is occurredAt in epoch seconds with
 * milliseconds; `event` is the row itself (null where it has no value), so every event carries its `event_id` and duplicates
 * (at-least-once delivery) can be removed in Splunk with `dedup event_id`.
 */
export interface HecEvent {
  readonly time: number;
  readonly host?: string;
  readonly source: string;
  readonly sourcetype: string;
  readonly index?: string;
  readonly event: Record<string, unknown>;
}

/** The per-sink fields every event carries besides time and event. */
export type HecEnvelope = Pick<HecSinkConfig, 'host' | 'source' | 'sourcetype' | 'index'>;

/** The envelope as the JSON text between `"time":…` and `,"event":` (for sources that build the line themselves). */
export function envelopeJson(config: HecEnvelope): string {
  const e = toHecEvent({ occurred_at: '1970-01-01T00:00:00.000Z', payload: '{}' } as AuditRow, config);
  const { time: _time, event: _event, ...envelope } = e;
  return JSON.stringify(envelope).replace(/^\{/, ',').replace(/\}$/, '').replace(/^,$/, '');
}

export function toHecEvent(row: AuditRow, config: HecEnvelope): HecEvent {
  return {
    time: Date.parse(row.occurred_at) / 1000,
    ...(config.host ? { host: config.host } : {}),
    source: config.source,
    sourcetype: config.sourcetype,
    ...(config.index ? { index: config.index } : {}),
    event: { ...withNulls(row), payload: parsePayload(row.payload) },
  };
}

/** The row with null where the table stores '' for "none" (NULLABLE_AUDIT_COLUMNS), as every export writes it. */
function withNulls(row: AuditRow): Record<string, unknown> {
  const event: Record<string, unknown> = { ...row };
  for (const column of NULLABLE_AUDIT_COLUMNS) if (event[column] === '') event[column] = null;
  return event;
}

/** The payload is JSON text in the table; Splunk indexes its fields when it is sent as an object. */
function parsePayload(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text; // not JSON: Splunk gets the text as it is, nothing is lost
  }
}

/** What the delivery keeps per event: the bytes to send and what the checkpoint and dead letters need. */
export interface EncodedEvent {
  readonly eventId: string;
  readonly position: number;
  readonly occurredAt: string;
  readonly line: string;
  readonly bytes: number;
}

export function encodeEvent(row: AuditRow, config: HecEnvelope): EncodedEvent {
  const line = JSON.stringify(toHecEvent(row, config));
  return { eventId: row.event_id, position: row.position, occurredAt: row.occurred_at, line, bytes: Buffer.byteLength(line) + 1 };
}

/** A request body: the events' JSON objects concatenated, newline-separated (HEC takes no JSON array). */
export function batchBody(events: readonly EncodedEvent[]): string {
  return events.map((e) => e.line).join('\n');
}
