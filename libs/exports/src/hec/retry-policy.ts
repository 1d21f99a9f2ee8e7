/**
 * How the HEC client reacts to each answer (pure), after Splunk's documented status codes:
 * - success: 200 with code 0;
 * - retry with backoff: 429, 503 (code 9 "Server is busy", 18–20 "unhealthy"), other 5xx, timeouts
 *   and broken connections — the request may or may not have been indexed, hence at-least-once;
 * - bad data: 400 with code 6 "Invalid data format", 12 "Event field is required",
 *   13 "Event field cannot be blank", 15 "Error in handling indexed fields": the batch holds events
 *   Splunk will never take; isolate them (dead letter) and send the rest;
 * - fatal configuration: 401/403 (codes 1–4: token disabled, required, invalid authorization,
 *   invalid token), 400 code 7 "Incorrect index", codes 10/11 (channel) and 14 "ACK is disabled",
 *   and any other 4xx: nothing will ever succeed until someone fixes the configuration.
 */
export type HecVerdict =
  | { readonly kind: 'ok'; readonly ackId?: number }
  | { readonly kind: 'retry'; readonly reason: string }
  | { readonly kind: 'bad-data'; readonly reason: string; readonly code: number; readonly invalidEventNumber?: number }
  | { readonly kind: 'fatal'; readonly reason: string; readonly code?: number };

export interface HecAnswer {
  readonly status: number;
  readonly body: string;
}

const BAD_DATA_CODES = new Set([6, 12, 13, 15]);

export function classifyAnswer(answer: HecAnswer): HecVerdict {
  let json: { text?: string; code?: number; ackId?: number; 'invalid-event-number'?: number } = {};
  try {
    json = JSON.parse(answer.body) as typeof json;
  } catch {
    // not JSON (a proxy's error page): judged by status alone
  }
  const said = `HTTP ${answer.status}${json.code === undefined ? '' : ` code ${json.code}`}${json.text ? ` "${json.text}"` : ''}`;
  if (answer.status === 200 && (json.code === undefined || json.code === 0))
    return json.ackId === undefined ? { kind: 'ok' } : { kind: 'ok', ackId: json.ackId };
  if (answer.status === 429 || answer.status >= 500) return { kind: 'retry', reason: said };
  if (answer.status === 401 || answer.status === 403)
    return { kind: 'fatal', reason: `Splunk refused the HEC token (${said}): check the token and that it is enabled` };
  if (answer.status === 400 && json.code === 7)
    return { kind: 'fatal', reason: `Splunk refused the index (${said}): the index does not exist or the token may not write to it` };
  if (answer.status === 400 && (json.code === 14 || json.code === 10 || json.code === 11))
    return { kind: 'fatal', reason: `indexer acknowledgement is misconfigured (${said}): enable it on the token or set ack: false` };
  if (answer.status === 400 && json.code !== undefined && BAD_DATA_CODES.has(json.code))
    return {
      kind: 'bad-data',
      reason: said,
      code: json.code,
      ...(json['invalid-event-number'] === undefined ? {} : { invalidEventNumber: json['invalid-event-number'] }),
    };
  return { kind: 'fatal', reason: `Splunk HEC answered ${said}`, ...(json.code === undefined ? {} : { code: json.code }) };
}

/** Exponential backoff with full jitter: a uniformly random wait in [0, min(cap, base·2^attempt)). */
export function backoffDelay(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt));
}
