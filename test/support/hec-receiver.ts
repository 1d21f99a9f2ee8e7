/**
 * A local Splunk HTTP Event Collector for tests and benchmarks: a real HTTP server on 127.0.0.1 that
 * enforces the HEC protocol strictly and injects faults on demand.
 *
 * Protocol as Splunk documents it (status codes and `code` values are Splunk's):
 * - POST /services/collector/event with `Authorization: Splunk <token>` (missing → 401 code 2,
 *   malformed → 401 code 3, wrong → 403 code 4); a body of JSON event objects concatenated (not an
 *   array); each needs `event` (code 12), non-blank (code 13); the first bad event's number is
 *   returned as `invalid-event-number`, and — like Splunk — the events before it are indexed.
 * - Stricter than Splunk, because our client promises it: the body must be gzip (`Content-Encoding:
 *   gzip`, else 415) and every event must have a numeric `time` (else code 6).
 * - With indexer acknowledgement: `X-Splunk-Request-Channel` (a GUID) on every request (missing →
 *   400 code 10, not a GUID → 400 code 11); a success answers `{ackId}` counting from 0 per channel;
 *   POST /services/collector/ack `{acks:[ids]}` → `{acks:{id:bool}}`, and an ack reported true is
 *   forgotten (a later query says false). Without acknowledgement, /ack answers 400 code 14.
 * - An index outside `indexes` → 400 code 7.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface HecReceiverOptions {
  readonly token: string;
  readonly ack?: boolean;
  /** Indexes the token may write to; events without an index go to the default one. */
  readonly indexes?: readonly string[];
  /** Acks turn true this long after the events were indexed. */
  readonly ackDelayMs?: number;
  /** Report `invalid-event-number` on bad data (Splunk does); off makes clients bisect blindly. */
  readonly reportInvalidEventNumber?: boolean;
  /** Keep every event (default); off keeps only the arrival count per event_id (benchmarks: millions of events). */
  readonly retainEvents?: boolean;
}

export interface ReceivedEvent {
  readonly time: number;
  readonly event: Record<string, unknown>;
  readonly index?: string;
  readonly source?: string;
  readonly sourcetype?: string;
  readonly host?: string;
  readonly request: number;
}

export interface RequestRecord {
  readonly n: number;
  readonly path: string;
  readonly status: number | 'dropped';
  readonly code?: number;
  readonly events: number;
  readonly gzip: boolean;
  readonly channel?: string;
}

export interface HecReceiver {
  readonly url: string;
  /** Every event indexed, in arrival order (duplicates included); empty when retainEvents is off. */
  readonly events: ReceivedEvent[];
  /** Events indexed, duplicates included. */
  indexed(): number;
  readonly requests: RequestRecord[];
  /** event_id of every indexed event, with how many times it arrived. */
  arrivals(): Map<string, number>;
  /** Next n event requests answer this status (503 "Server is busy" code 9, 429, 500 code 8…). */
  failNext(n: number, status?: number): void;
  /** Next n event requests lose their connection, before or after their events are indexed. */
  dropNext(n: number, options?: { afterIndexing?: boolean }): void;
  /** Next n event requests are indexed, then answered only after `ms` (client timeouts). */
  delayNext(n: number, ms: number): void;
  /** The next n ackIds issued never turn true (their events are indexed all the same). */
  loseNextAcks(n: number): void;
  setAckDelay(ms: number): void;
  /** Events matching this are refused as bad data (code 6), like events Splunk cannot parse. */
  rejectWhen(predicate: ((event: Record<string, unknown>) => boolean) | null): void;
  stop(): Promise<void>;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface AckState {
  readyAt: number;
  lost: boolean;
}

export async function startHecReceiver(options: HecReceiverOptions): Promise<HecReceiver> {
  const indexes = new Set(options.indexes ?? ['main']);
  const events: ReceivedEvent[] = [];
  const arrivals = new Map<string, number>();
  let indexedCount = 0;
  const retain = options.retainEvents !== false;
  const index = (accepted: readonly ReceivedEvent[]) => {
    indexedCount += accepted.length;
    for (const e of accepted) {
      const id = String(e.event['event_id']);
      arrivals.set(id, (arrivals.get(id) ?? 0) + 1);
    }
    if (retain) for (const e of accepted) events.push(e);
  };
  const requests: RequestRecord[] = [];
  const channels = new Map<string, { next: number; acks: Map<number, AckState> }>();
  let failures: { left: number; status: number } = { left: 0, status: 503 };
  let drops: { left: number; afterIndexing: boolean } = { left: 0, afterIndexing: false };
  let delays: { left: number; ms: number } = { left: 0, ms: 0 };
  let acksToLose = 0;
  let ackDelayMs = options.ackDelayMs ?? 0;
  let reject: ((event: Record<string, unknown>) => boolean) | null = null;
  let requestCount = 0;
  const sockets = new Set<Socket>();

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        handle(req, res, Buffer.concat(chunks));
      } catch (e) {
        send(res, 500, { text: `receiver bug: ${(e as Error).message}`, code: 8 });
      }
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.keepAliveTimeout = 5000;

  function send(res: ServerResponse, status: number, body: object): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  function handle(req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
    const n = ++requestCount;
    const path = (req.url ?? '').split('?')[0]!;
    const gzip = (req.headers['content-encoding'] ?? '') === 'gzip';
    const channel = req.headers['x-splunk-request-channel'] as string | undefined;
    const log = (status: number | 'dropped', code?: number, count = 0) =>
      requests.push({ n, path, status, ...(code === undefined ? {} : { code }), events: count, gzip, ...(channel ? { channel } : {}) });
    const answer = (status: number, body: { text: string; code: number; [k: string]: unknown }, count = 0) => {
      log(status, body.code, count);
      send(res, status, body);
    };

    if (req.method !== 'POST' || (path !== '/services/collector/event' && path !== '/services/collector/ack')) {
      return answer(404, { text: 'The requested URL was not found on this server.', code: 404 });
    }
    const auth = req.headers.authorization;
    if (!auth) return answer(401, { text: 'Token is required', code: 2 });
    const m = /^Splunk (\S+)$/.exec(auth);
    if (!m) return answer(401, { text: 'Invalid authorization', code: 3 });
    if (m[1] !== options.token) return answer(403, { text: 'Invalid token', code: 4 });

    if (path === '/services/collector/ack') {
      if (!options.ack) return answer(400, { text: 'ACK is disabled', code: 14 });
      if (!channel) return answer(400, { text: 'Data channel is missing', code: 10 });
      if (!GUID.test(channel)) return answer(400, { text: 'Invalid data channel', code: 11 });
      let ids: unknown;
      try {
        ids = (JSON.parse((gzip ? gunzipSync(raw) : raw).toString('utf8')) as { acks?: unknown }).acks;
      } catch {
        return answer(400, { text: 'Invalid data format', code: 6 });
      }
      if (!Array.isArray(ids) || !ids.every((i) => Number.isInteger(i))) return answer(400, { text: 'Invalid data format', code: 6 });
      const state = channels.get(channel);
      const now = Date.now();
      const acks: Record<string, boolean> = {};
      for (const id of ids as number[]) {
        const a = state?.acks.get(id);
        const ready = a !== undefined && !a.lost && a.readyAt <= now;
        acks[String(id)] = ready;
        if (ready) state!.acks.delete(id); // Splunk forgets an ack once it has reported it
      }
      log(200, 0);
      return send(res, 200, { acks });
    }

    // /services/collector/event
    if (options.ack) {
      if (!channel) return answer(400, { text: 'Data channel is missing', code: 10 });
      if (!GUID.test(channel)) return answer(400, { text: 'Invalid data channel', code: 11 });
    }
    if (failures.left > 0) {
      failures.left--;
      const s = failures.status;
      return answer(
        s,
        s === 503 ? { text: 'Server is busy', code: 9 } : s === 429 ? { text: 'Too many requests', code: 9 } : { text: 'Internal server error', code: 8 },
      );
    }
    if (!gzip) return answer(415, { text: 'this receiver requires Content-Encoding: gzip', code: 6 });
    let text: string;
    try {
      text = gunzipSync(raw).toString('utf8');
    } catch {
      return answer(400, { text: 'Invalid data format', code: 6 });
    }
    if (text.trim() === '') return answer(400, { text: 'No data', code: 5 });
    const parsed = splitConcatenatedJson(text);

    // Index event by event; stop at the first bad one (Splunk's behaviour).
    const accepted: ReceivedEvent[] = [];
    let bad: { text: string; code: number; at: number } | null = null;
    if (parsed === null) bad = { text: 'Invalid data format', code: 6, at: 0 };
    else {
      for (let i = 0; i < parsed.length; i++) {
        const e = parsed[i] as Record<string, unknown> | null;
        const verdict = checkEvent(e);
        if (verdict) {
          bad = { ...verdict, at: i };
          break;
        }
        accepted.push({
          time: e!['time'] as number,
          event: e!['event'] as Record<string, unknown>,
          request: n,
          ...(typeof e!['index'] === 'string' ? { index: e!['index'] } : {}),
          ...(typeof e!['source'] === 'string' ? { source: e!['source'] } : {}),
          ...(typeof e!['sourcetype'] === 'string' ? { sourcetype: e!['sourcetype'] } : {}),
          ...(typeof e!['host'] === 'string' ? { host: e!['host'] } : {}),
        });
      }
    }
    if (bad) {
      index(accepted);
      const body: { text: string; code: number; 'invalid-event-number'?: number } = { text: bad.text, code: bad.code };
      if (options.reportInvalidEventNumber !== false) body['invalid-event-number'] = bad.at;
      return answer(400, body, accepted.length);
    }

    if (drops.left > 0) {
      drops.left--;
      if (drops.afterIndexing) index(accepted);
      log('dropped', undefined, drops.afterIndexing ? accepted.length : 0);
      req.socket.destroy();
      return;
    }
    index(accepted);
    let body: { text: string; code: number; ackId?: number } = { text: 'Success', code: 0 };
    if (options.ack) {
      const state = channels.get(channel!) ?? { next: 0, acks: new Map<number, AckState>() };
      channels.set(channel!, state);
      const ackId = state.next++;
      const lost = acksToLose > 0;
      if (lost) acksToLose--;
      state.acks.set(ackId, { readyAt: Date.now() + ackDelayMs, lost });
      body = { ...body, ackId };
    }
    if (delays.left > 0) {
      delays.left--;
      const ms = delays.ms;
      setTimeout(() => {
        if (!res.destroyed) answer(200, body, accepted.length);
      }, ms);
      return;
    }
    answer(200, body, accepted.length);
  }

  function checkEvent(e: Record<string, unknown> | null): { text: string; code: number } | null {
    if (e === null || typeof e !== 'object' || Array.isArray(e)) return { text: 'Invalid data format', code: 6 };
    if (!('event' in e)) return { text: 'Event field is required', code: 12 };
    const ev = e['event'];
    if (ev === '' || ev === null || (typeof ev === 'object' && Object.keys(ev as object).length === 0))
      return { text: 'Event field cannot be blank', code: 13 };
    if (typeof e['time'] !== 'number' || !Number.isFinite(e['time'])) return { text: 'Invalid data format', code: 6 };
    if (e['index'] !== undefined && !indexes.has(String(e['index']))) return { text: 'Incorrect index', code: 7 };
    if (reject && typeof ev === 'object' && reject(ev as Record<string, unknown>)) return { text: 'Invalid data format', code: 6 };
    return null;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    events,
    requests,
    arrivals() {
      return arrivals;
    },
    indexed() {
      return indexedCount;
    },
    failNext(n, status = 503) {
      failures = { left: n, status };
    },
    dropNext(n, o = {}) {
      drops = { left: n, afterIndexing: o.afterIndexing ?? false };
    },
    delayNext(n, ms) {
      delays = { left: n, ms };
    },
    loseNextAcks(n) {
      acksToLose = n;
    },
    setAckDelay(ms) {
      ackDelayMs = ms;
    },
    rejectWhen(predicate) {
      reject = predicate;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Splits `{...}{...} {...}` into values. Splunk wants objects concatenated, never an array: a body
 * that is not a sequence of JSON objects is `null` (Invalid data format).
 */
export function splitConcatenatedJson(text: string): unknown[] | null {
  const out: unknown[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    if (text[i] !== '{') return null;
    let depth = 0;
    let inString = false;
    let j = i;
    for (; j < text.length; j++) {
      const c = text[j]!;
      if (inString) {
        if (c === '\\') j++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) break;
      }
    }
    if (depth !== 0) return null;
    try {
      out.push(JSON.parse(text.slice(i, j + 1)));
    } catch {
      out.push(null);
    }
    i = j + 1;
  }
  return out;
}
