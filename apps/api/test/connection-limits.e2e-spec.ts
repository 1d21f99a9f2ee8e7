/**
 * Slow and idle connections are closed, and connections beyond the cap are dropped while the
 * ones already open keep being served. Small limits, bounded loops on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { loadConfig } from '@access-ledger/config';
import { connectionCap, descriptorLimit, RESERVED_DESCRIPTORS } from '../src/http-limits.js';
import { openRaw, type RawSocket } from './support/raw-socket.js';
import { startTestServer, type TestServer } from './support/test-server.js';

let timeouts: TestServer;
let capped: TestServer;
const CAP = 4;

beforeAll(async () => {
  timeouts = await startTestServer({ connectionLimits: { headersTimeoutMs: 300, requestTimeoutMs: 1000, keepAliveTimeoutMs: 300, maxConnections: 1000 } });
  capped = await startTestServer({ connectionLimits: { headersTimeoutMs: 10_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 10_000, maxConnections: CAP } });
});
afterAll(async () => {
  await timeouts?.close();
  await capped?.close();
});

const HEALTH = 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';

/** Connections the server holds (Node's count, once it has accepted them). */
function serverConnections(server: TestServer): Promise<number> {
  return new Promise((resolve, reject) => server.app.getHttpServer().getConnections((error: Error | null, n: number) => (error ? reject(error) : resolve(n))));
}

describe('timeouts (headers 300 ms, request 1 s, keep-alive 300 ms)', () => {
  test('slowloris: connections that dribble a header line every 50 ms are closed after the headers timeout', async () => {
    const sockets = await Promise.all(Array.from({ length: 5 }, () => openRaw(timeouts.url)));
    for (const raw of sockets) raw.socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const dribble = setInterval(() => {
      for (const raw of sockets) if (!raw.closed) raw.socket.write('X-Slow: 1\r\n');
    }, 50);
    try {
      const closed = await Promise.all(sockets.map((raw) => raw.closedWithin(3000)));
      expect(closed).toEqual(sockets.map(() => true));
      // Node answers 408 before closing when it can.
      for (const raw of sockets) if (raw.received() !== '') expect(raw.received()).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      clearInterval(dribble);
      for (const raw of sockets) raw.socket.destroy();
    }
  });

  test('a body that never finishes is cut at the request timeout', async () => {
    const raw = await openRaw(timeouts.url);
    raw.socket.write(
      `POST /v1/tenants/acme/commands HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${timeouts.key}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`,
    );
    const dribble = setInterval(() => !raw.closed && raw.socket.write(' '), 50);
    try {
      expect(await raw.closedWithin(4000)).toBe(true);
    } finally {
      clearInterval(dribble);
      raw.socket.destroy();
    }
  });

  test('an idle keep-alive connection is closed after the keep-alive timeout; a connection that sends nothing after the headers timeout', async () => {
    const used = await openRaw(timeouts.url);
    used.socket.write(HEALTH);
    expect((await used.response(2000)).status).toBe(200);
    const silent = await openRaw(timeouts.url);
    expect(await used.closedWithin(3000)).toBe(true);
    expect(await silent.closedWithin(3000)).toBe(true);
  });
});

describe(`connection cap (${CAP})`, () => {
  let open: RawSocket[] = [];
  afterAll(() => {
    for (const raw of open) raw.socket.destroy();
  });

  test('connections beyond the cap are closed at once; /health still answers on a connection already open', async () => {
    const first = await openRaw(capped.url);
    first.socket.write(HEALTH);
    const before = await first.response(2000);
    expect(before.status).toBe(200);
    open = [first, ...(await Promise.all(Array.from({ length: CAP - 1 }, () => openRaw(capped.url))))];
    for (let i = 0; i < 100 && (await serverConnections(capped)) < CAP; i++) await new Promise((r) => setTimeout(r, 10));
    expect(await serverConnections(capped)).toBe(CAP);

    const extra = await Promise.all(Array.from({ length: 3 }, () => openRaw(capped.url)));
    open.push(...extra);
    expect(await Promise.all(extra.map((raw) => raw.closedWithin(2000)))).toEqual([true, true, true]);

    first.socket.write(HEALTH);
    expect((await first.response(2000, before.end)).status).toBe(200);
    expect(open.slice(0, CAP).map((raw) => raw.closed)).toEqual(Array(CAP).fill(false));

    // A slot freed is a slot a new client gets.
    open[1]!.socket.destroy();
    for (let i = 0; i < 100 && (await serverConnections(capped)) >= CAP; i++) await new Promise((r) => setTimeout(r, 10));
    const next = await openRaw(capped.url);
    open.push(next);
    next.socket.write(HEALTH);
    expect((await next.response(2000)).status).toBe(200);
  });

  test('the cap stays RESERVED_DESCRIPTORS below the descriptor limit (ulimit -n, read from /proc/self/limits)', () => {
    expect(connectionCap(10_000, 4096)).toBe(4096 - RESERVED_DESCRIPTORS);
    expect(connectionCap(10_000, 65_536)).toBe(10_000);
    expect(connectionCap(10_000, undefined)).toBe(10_000);
    const limit = descriptorLimit();
    if (process.platform === 'linux') expect(limit === undefined || limit > 0).toBe(true);
  });
});

describe('configuration', () => {
  test('defaults: 300 s per request, 10 s for headers, 65 s keep-alive, 10 000 connections, 32 pipelined; headers longer than the request refused', () => {
    expect(loadConfig({}, {})).toMatchObject({
      HTTP_REQUEST_TIMEOUT_MS: 300_000,
      HTTP_HEADERS_TIMEOUT_MS: 10_000,
      HTTP_KEEP_ALIVE_TIMEOUT_MS: 65_000,
      HTTP_MAX_CONNECTIONS: 10_000,
      HTTP_MAX_PIPELINED: 32,
      RATE_LIMIT_ANON_PER_SECOND: 20,
      RATE_LIMIT_ANON_BURST: 100,
    });
    expect(() => loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '5000', HTTP_HEADERS_TIMEOUT_MS: '6000' }, {})).toThrow(
      /HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS/,
    );
  });
});
