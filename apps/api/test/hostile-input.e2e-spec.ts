import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { CommandBody } from '@access-ledger/access-model';
import { createOrg, post, startTestServer, type TestServer } from './support/test-server.js';

/**
 * Property: whatever malformed or hostile body arrives, the answer is a 4xx problem+json, never a 5xx,
 * and nothing is appended. Bodies go through `app.inject` (Fastify's in-process request) to keep
 * thousands of runs within seconds; the HTTP pipeline (parsers, guard, filter) is the same.
 */
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ bodyLimits: { commandBytes: 64 * 1024, importBytes: 64 * 1024 } });
  expect((await post(`${server.url}/v1/tenants/acme/commands`, server.key, createOrg('acme-eng'))).status).toBe(201);
});
afterAll(() => server.close());

const hostileKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', ' ', '\u0000', '𝕏', 'type', 'payload', 'actor');
const hostileString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 50 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\uD800',
    '\u202E',
    '%00',
    '../../etc/passwd',
    '<script>',
    "' OR 1=1 --",
    '1e309',
    'NaN',
    'null',
    'true',
    '2026-02-30T00:00:00.000Z',
  ),
  fc.integer({ min: 1000, max: 70_000 }).map((n) => 'x'.repeat(n)),
);
const scalar = fc.oneof(hostileString, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.bigInt().map(String));
const hostileValue = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 5 }),
  object: fc.dictionary(fc.oneof(hostileKey, fc.string({ maxLength: 10 })), tie('value'), { maxKeys: 6 }),
})).value;
const deepNesting = fc.integer({ min: 50, max: 5000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth));

const VALID = { type: 'CreateGroup', actor: { kind: 'system' }, payload: { groupId: 'g-1', name: 'Group', source: 'manual' } };
/** Near-misses: a valid command with one field replaced by something hostile. */
const nearMiss = fc
  .tuple(
    fc.constantFrom(
      'type',
      'actor',
      'payload',
      'occurredAt',
      'idempotencyKey',
      'payload.groupId',
      'payload.name',
      'payload.source',
      'actor.kind',
      '__proto__',
      'payload.__proto__',
      'constructor',
    ),
    hostileValue,
  )
  .map(([path, value]) => {
    const body = structuredClone(VALID) as Record<string, unknown>;
    const [head, tail] = path.split('.') as [string, string | undefined];
    if (tail === undefined) body[head] = value;
    else (body[head] as Record<string, unknown>)[tail] = value;
    const json = JSON.stringify(body);
    // JSON.stringify writes an own `__proto__` key only when the object has one; assigning it set the prototype.
    return path.endsWith('__proto__') ? json.replace('{', `{"__proto__":${JSON.stringify(value) ?? 'null'},`) : json;
  })
  // A near-miss that happens to be valid (e.g. groupId replaced by another good id) is not hostile: the real
  // schema is the oracle. (A valid but refused command would append AccessChangeDenied, R22.)
  .filter((json) => {
    try {
      return !CommandBody.safeParse(JSON.parse(json)).success;
    } catch {
      return true;
    }
  });

const commandBody = fc.oneof(
  hostileValue.map((v) => JSON.stringify(v) ?? 'null'),
  nearMiss,
  deepNesting,
  fc.string({ maxLength: 200 }), // mostly not JSON at all
  fc.constantFrom(
    '{"type":"CreateGroup"',
    '{"a":1}{"b":2}',
    '\uFEFF{}',
    '{"type": 1e309}',
    '{"__proto__":{"polluted":1}}',
    '{"constructor":{"prototype":{"polluted":1}}}',
    '[]',
    '""',
    '0',
  ),
);

const importLine = fc.oneof(
  hostileValue.map((v) => JSON.stringify(v) ?? 'null'),
  fc.string({ maxLength: 100 }),
  fc.constantFrom(
    '{"id":"x","type":"GroupCreated"',
    '{"__proto__":{}}',
    '{"id":"e1","type":"NoSuchEvent","occurredAt":"2026-01-01T00:00:00.000Z","actor":{"kind":"import"},"source":"seed","data":{}}',
  ),
);
/** NDJSON with at least one broken line among possibly good ones, or blank/garbage bodies. */
const importBody = fc
  .array(importLine, { minLength: 1, maxLength: 6 })
  .map((lines) => lines.map((l) => l.replaceAll('\n', ' ')).join('\n'))
  // Only blank lines is an empty import (200, nothing appended), not a broken one.
  .filter((body) => body.trim() !== '');

const contentTypes = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/x-ndjson',
  'text/plain',
  'application/xml',
  'multipart/form-data; boundary=x',
  '',
);

async function expectRejected(response: { statusCode: number; headers: Record<string, unknown>; body: string }): Promise<void> {
  if (response.statusCode < 400 || response.statusCode >= 500) throw new Error(`status ${response.statusCode}: ${response.body.slice(0, 300)}`);
  if (!String(response.headers['content-type']).startsWith('application/problem+json'))
    throw new Error(`content-type ${String(response.headers['content-type'])}`);
  const problem = JSON.parse(response.body) as Record<string, unknown>;
  if (problem.status !== response.statusCode || typeof problem.type !== 'string' || typeof problem.title !== 'string' || typeof problem.detail !== 'string') {
    throw new Error(`not a problem document: ${response.body.slice(0, 300)}`);
  }
}

describe('hostile input (property-based, fast-check)', () => {
  it('commands: 1 500 malformed bodies → always 4xx problem+json, never 5xx, nothing appended', async () => {
    const before = await server.events();
    await fc.assert(
      fc.asyncProperty(commandBody, fc.option(contentTypes, { freq: 4 }), async (payload, contentType) => {
        const response = await server.app.inject({
          method: 'POST',
          url: '/v1/tenants/acme/commands',
          headers: { authorization: `Bearer ${server.key}`, 'content-type': contentType ?? 'application/json' },
          payload,
        });
        await expectRejected(response);
      }),
      { numRuns: 1500 },
    );
    expect(await server.events()).toBe(before);
  });

  it('events:import: 500 broken NDJSON bodies → always 4xx problem+json, never 5xx, nothing appended', async () => {
    const before = await server.events();
    await fc.assert(
      fc.asyncProperty(importBody, fc.option(contentTypes, { freq: 4 }), async (payload, contentType) => {
        const response = await server.app.inject({
          method: 'POST',
          url: '/v1/tenants/acme/events:import',
          headers: { authorization: `Bearer ${server.key}`, 'content-type': contentType ?? 'application/x-ndjson' },
          payload,
        });
        await expectRejected(response);
      }),
      { numRuns: 500 },
    );
    expect(await server.events()).toBe(before);
  });

  it('hostile tenant ids and authorization headers → 4xx problem+json', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 40 }),
        fc.oneof(fc.constant(undefined), fc.string({ maxLength: 80 }), fc.constant(`Bearer ${server.key}`)),
        async (tenant, authorization) => {
          const response = await server.app.inject({
            method: 'POST',
            url: `/v1/tenants/${encodeURIComponent(tenant)}/commands`,
            headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization: authorization.replace(/[\r\n]/g, '') }) },
            payload: JSON.stringify(VALID),
          });
          if (tenant === 'acme' && authorization === `Bearer ${server.key}`) return;
          await expectRejected(response);
        },
      ),
      { numRuns: 300 },
    );
  });
});
