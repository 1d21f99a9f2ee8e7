/**
 * A `/v1/` request is authenticated from its headers, before its body is read. The import below
 * announces 20 MiB and sends none of it: the refusal can only come before the body.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { openRaw } from './support/raw-socket.js';
import { startTestServer, type TestServer } from './support/test-server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server?.close());

const BODY_BYTES = 20 * 1024 * 1024;

function importHead(authorization?: string, tenantId = 'acme'): string {
  return [
    `POST /v1/tenants/${tenantId}/events:import HTTP/1.1`,
    'Host: 127.0.0.1',
    'Content-Type: application/x-ndjson',
    `Content-Length: ${BODY_BYTES}`,
    ...(authorization ? [`Authorization: ${authorization}`] : []),
    '',
    '',
  ].join('\r\n');
}

describe('authentication before the body', () => {
  test.each([
    ['no key', undefined, 401, 'Bearer'],
    ['an unknown key', `Bearer lk_0123456789abcdef_${'A'.repeat(43)}`, 401, 'Bearer error="invalid_token"'],
  ])(
    '%s: 401 problem+json after the headers alone, and the connection is closed instead of reading 20 MiB',
    async (_name, authorization, status, challenge) => {
      const raw = await openRaw(server.url);
      raw.socket.write(importHead(authorization));
      const answer = await raw.response(5000);
      expect(answer.status).toBe(status);
      expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(answer.headers['www-authenticate']).toBe(challenge);
      expect(answer.headers['connection']).toBe('close');
      expect(JSON.parse(answer.body)).toMatchObject({ type: 'urn:access-ledger:problem:unauthenticated', status: 401 });
      expect(await raw.closedWithin(2000)).toBe(true);
    },
  );

  test('a key of another tenant (403 not valid for this tenant) and a key without the route’s scope (403 naming it), before the body', async () => {
    for (const [key, detail] of [
      [server.newKey('globex', ['events:import']), 'not valid for this tenant'],
      [server.newKey('acme', ['commands:write']), 'events:import'],
    ] as const) {
      const raw = await openRaw(server.url);
      raw.socket.write(importHead(`Bearer ${key}`));
      const answer = await raw.response(5000);
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.body)).toMatchObject({ type: 'urn:access-ledger:problem:forbidden', detail: expect.stringContaining(detail) });
      expect(await raw.closedWithin(2000)).toBe(true);
    }
  });

  test('a valid key: the body is read and the import runs (no early answer)', async () => {
    const raw = await openRaw(server.url);
    const line = JSON.stringify({
      id: 'early-auth-1',
      type: 'GroupCreated',
      occurredAt: '2026-01-01T00:00:00.000Z',
      actor: { kind: 'import' },
      source: 'console_import',
      data: { groupId: 'g-early', name: 'Early', source: 'manual' },
    });
    raw.socket.write(importHead(`Bearer ${server.key}`).replace(`Content-Length: ${BODY_BYTES}`, `Content-Length: ${Buffer.byteLength(line)}`));
    await new Promise((r) => setTimeout(r, 100));
    expect(raw.received()).toBe('');
    raw.socket.write(line);
    const answer = await raw.response(10_000);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ appended: 1, skipped: 0 });
    raw.socket.destroy();
  });

  test('commands too: a command route without a key answers 401 before its body', async () => {
    const raw = await openRaw(server.url);
    raw.socket.write('POST /v1/tenants/acme/commands HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n');
    expect((await raw.response(5000)).status).toBe(401);
  });
});
