/**
 * Requests without a key cannot take the server. The OpenAPI document is served from one cached
 * buffer (ETag, 304), and every anonymous route but the probes is rate-limited per client address.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { DEFAULT_CONNECTION_LIMITS } from '../src/http-limits.js';
import { openRaw, type RawSocket } from './support/raw-socket.js';
import { startTestServer, type TestServer } from './support/test-server.js';

let limited: TestServer;

// RSS moves with heap growth the collector has not given back yet; what the server retains is the heap after a collection.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function retainedMb(): number {
  gc();
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / 1024 / 1024;
}

beforeAll(async () => {
  limited = await startTestServer({ anonymousRateLimit: { perSecond: 1, burst: 5 } });
});
afterAll(async () => limited?.close());

describe('the OpenAPI document from a cached buffer', () => {
  test('an ETag, 304 to a matching If-None-Match (also in a list, weak), 200 otherwise', async () => {
    const server = await startTestServer();
    try {
      const first = await fetch(`${server.url}/docs/openapi.json`);
      expect(first.status).toBe(200);
      expect(first.headers.get('content-type')).toMatch(/^application\/json/);
      const etag = first.headers.get('etag')!;
      expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
      expect((await first.json()) as { openapi: string }).toMatchObject({ openapi: '3.1.0' });
      for (const ifNoneMatch of [etag, `"other", W/${etag}`, '*']) {
        const again = await fetch(`${server.url}/docs/openapi.json`, { headers: { 'if-none-match': ifNoneMatch } });
        expect(again.status).toBe(304);
        expect(await again.text()).toBe('');
      }
      expect((await fetch(`${server.url}/docs/openapi.json`, { headers: { 'if-none-match': '"stale"' } })).status).toBe(200);
      const page = await fetch(`${server.url}/docs`);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect((await fetch(`${server.url}/docs`, { headers: { 'if-none-match': page.headers.get('etag')! } })).status).toBe(304);
    } finally {
      await server.close();
    }
  });
});

describe('anonymous rate limit per client address (1/s, bursts of 5 here)', () => {
  test('a burst of /docs requests gets 429 rate-limited with Retry-After after the burst; probes and keyed routes are never limited by it', async () => {
    const statuses: number[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`${limited.url}/docs/openapi.json`);
      statuses.push(res.status);
      if (res.status === 429) refused = res;
      else await res.arrayBuffer();
    }
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await refused!.json()).toMatchObject({
      type: 'urn:access-ledger:problem:rate-limited',
      status: 429,
      detail: expect.stringContaining('1/s, bursts of 5'),
    });
    expect((await fetch(`${limited.url}/metrics`)).status).toBe(429);
    expect((await fetch(`${limited.url}/no/such/route`)).status).toBe(429);

    for (let i = 0; i < 30; i++) {
      expect((await fetch(`${limited.url}/health`)).status).toBe(200);
      expect((await fetch(`${limited.url}/ready`)).status).toBe(200);
    }
    for (let i = 0; i < 10; i++) {
      expect((await fetch(`${limited.url}/v1/tenants/acme/integrity`, { headers: { authorization: `Bearer ${limited.key}` } })).status).toBe(200);
    }
  });
});

describe('pipelined requests that are never read', () => {
  test.each([
    ['with the anonymous rate limit', { perSecond: 20, burst: 100 }],
    ['without it (the per-connection bound alone)', { perSecond: 0, burst: 1 }],
  ])(
    '20 sockets × 2 000 pipelined GET /docs/openapi.json, %s: every such connection is closed, memory stays bounded, /health answers at once',
    async (_name, anonymousRateLimit) => {
      const server = await startTestServer({ anonymousRateLimit, connectionLimits: { ...DEFAULT_CONNECTION_LIMITS, maxPipelined: 8 } });
      const sockets: RawSocket[] = [];
      try {
        const request = 'GET /docs/openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
        const before = retainedMb();
        for (let i = 0; i < 20; i++) {
          const raw = await openRaw(server.url);
          raw.socket.pause(); // never read what the server answers
          raw.socket.write(request.repeat(2000));
          sockets.push(raw);
        }
        // The clients never read, so they cannot see the close: the server's count of connections says it.
        const connections = (): Promise<number> =>
          new Promise((resolve, reject) => server.app.getHttpServer().getConnections((e: Error | null, n: number) => (e ? reject(e) : resolve(n))));
        for (let i = 0; i < 500 && (await connections()) > 0; i++) await new Promise((r) => setTimeout(r, 10));
        expect(await connections()).toBe(0);
        const started = performance.now();
        const health = await fetch(`${server.url}/health`);
        expect(health.status).toBe(200);
        expect(performance.now() - started).toBeLessThan(1000);
        // Unbounded, 40 000 answers of the document would be gigabytes; at most 8 a connection are ever queued, and
        // nothing of them is retained once the connections are gone.
        expect(retainedMb() - before).toBeLessThan(50);
      } finally {
        for (const raw of sockets) raw.socket.destroy();
        await server.close();
      }
    },
  );

  test('a client that pipelines within the bound gets every answer, in order', async () => {
    const server = await startTestServer({ connectionLimits: { ...DEFAULT_CONNECTION_LIMITS, maxPipelined: 8 } });
    try {
      const raw = await openRaw(server.url);
      raw.socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'.repeat(8));
      let at = 0;
      for (let i = 0; i < 8; i++) {
        const answer = await raw.response(2000, at);
        expect(answer.status).toBe(200);
        at = answer.end;
      }
      raw.socket.destroy();
    } finally {
      await server.close();
    }
  });
});
