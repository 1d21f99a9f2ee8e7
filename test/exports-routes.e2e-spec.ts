/**
 * The export routes end to end: commands in over HTTP into the real server (SQLite store, chDB read model in a
 * temporary data directory), an S3 export requested through `POST /v1/tenants/{t}/exports` and written by ClickHouse
 * into s3rver running in a separate process, polled through `GET …/exports/{id}`, then verified from the bucket.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiKeyStore } from '../apps/api/src/keys/api-key-store.js';
import { SCOPES } from '../apps/api/src/keys/scopes.js';
import { composeServer, type ReadSide } from '../apps/api/src/compose.js';
import { QUIET, testConfig } from '../apps/api/test/support/test-server.js';
import { S3ObjectStore, verifyExport } from '@access-ledger/exports';
import { createLedger } from '@access-ledger/ledger';
import { startHecReceiver, type HecReceiver } from './support/hec-receiver.js';
import { startS3rver, type S3rverProcess } from './support/s3rver-process.js';
import { LEDGER_CLI, runLedger } from './support/ledger-cli.js';

let app: NestFastifyApplication;
let side: ReadSide;
let s3: S3rverProcess;
let hec: HecReceiver;
const HEC_TOKEN = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
let url: string;
let dataDir: string;
const keys = { acme: '', globex: '', acmeReadOnly: '' };
const BUCKET = 'ledger-archive';
const DAY = { from: '2026-03-01T00:00:00.000Z', to: '2026-03-02T00:00:00.000Z' };

async function request(method: string, path: string, key: string, body?: unknown): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

async function command(type: string, payload: object, occurredAt: string): Promise<void> {
  const res = await request('POST', '/v1/tenants/acme/commands', keys.acme, { type, actor: { kind: 'system' }, payload, occurredAt });
  if (res.status !== 201) throw new Error(`${type} → ${res.status} ${JSON.stringify(res.body)}`);
}

const s3Settings = (uri = `s3://${BUCKET}/audit`) => ({ uri, endpoint: s3.endpoint, forcePathStyle: true, credentials: s3.credentials });

async function until(exportId: string, timeoutMs = 20_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await request('GET', `/v1/tenants/acme/exports/${exportId}`, keys.acme);
    expect(res.status).toBe(200);
    if (res.body.status === 'succeeded' || res.body.status === 'failed') return res.body;
    if (Date.now() > deadline) throw new Error(`export still ${res.body.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'exports-routes-'));
  const [ledger, s3rver, receiver] = await Promise.all([
    createLedger({ dataDir }),
    startS3rver({ buckets: [BUCKET] }),
    startHecReceiver({ token: HEC_TOKEN, ack: true }),
  ]);
  s3 = s3rver;
  hec = receiver;
  const server = await composeServer(testConfig(dataDir), { ...QUIET, ledger });
  ({ app, url } = server);
  side = server.readSide!;
  const store = app.get(ApiKeyStore);
  keys.acme = store.create({ tenantId: 'acme', scopes: SCOPES }).key;
  keys.globex = store.create({ tenantId: 'globex', scopes: SCOPES }).key;
  keys.acmeReadOnly = store.create({ tenantId: 'acme', scopes: ['audit:read'] }).key;

  await command(
    'CreateOrganization',
    { orgId: 'org-1', name: 'Acme', dualSeat: false, provisioningMode: 'invite_only', usageBased: false },
    '2026-03-01T09:00:00.000Z',
  );
  // R23: the first member is the primary owner.
  for (let i = 0; i < 20; i++) {
    await command(
      'AddMember',
      { orgId: 'org-1', userId: `u-${i}`, email: `u${i}@acme.test`, role: i === 0 ? 'primary_owner' : 'user' },
      new Date(Date.UTC(2026, 2, 1, 10, i)).toISOString(),
    );
  }
  await command('CreateGroup', { groupId: 'g-late', name: 'Next day', source: 'manual' }, '2026-03-02T08:00:00.000Z');
  await side.readModel.caughtUp();
}, 60_000);

afterAll(async () => {
  await app?.close();
  await Promise.all([s3?.stop(), hec?.stop()]);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('POST /v1/tenants/{t}/exports and GET …/exports/{id}', () => {
  let exportId: string;

  test('an S3 export: 202 { exportId } with a Location, then polled until succeeded, with counts and digests', async () => {
    const accepted = await request('POST', '/v1/tenants/acme/exports', keys.acme, { sink: 's3', ...DAY, s3: s3Settings() });
    expect(accepted.status).toBe(202);
    expect(accepted.body).toEqual({ exportId: expect.any(String) });
    exportId = accepted.body.exportId;
    expect(accepted.headers.get('location')).toBe(`/v1/tenants/acme/exports/${exportId}`);

    const job = await until(exportId);
    expect(job).toMatchObject({
      exportId,
      tenantId: 'acme',
      status: 'succeeded',
      ...DAY,
      progress: { rowsTotal: 21, rowsDone: 21 },
      counts: { rows: 21, objects: 1 },
      error: null,
      sink: { kind: 's3', uri: `s3://${BUCKET}/audit`, format: 'parquet', credentials: { secretAccessKey: '***' } },
    });
    expect(job.digests.digest).toMatch(/^[0-9a-f]{64}$/);

    const listed = await s3.client().send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'audit/tenant=acme/' }));
    const objectKeys = (listed.Contents ?? []).map((o) => o.Key!);
    expect(objectKeys.filter((k) => k.includes('/dt=2026-03-01/') && k.endsWith('.parquet'))).toHaveLength(1);
    expect(objectKeys.filter((k) => k.endsWith('.manifest.json'))).toHaveLength(1);
    expect(objectKeys.filter((k) => k.endsWith('.digest.json'))).toHaveLength(1);

    const store = new S3ObjectStore({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: s3.credentials });
    try {
      const verification = await verifyExport(store, `s3://${BUCKET}/audit`, { expectHead: { acme: job.digests.digest } });
      expect(verification.ok).toBe(true);
      expect(verification.tenants).toEqual([expect.objectContaining({ tenantId: 'acme', rows: 21 })]);
    } finally {
      store.destroy();
    }

    const list = await request('GET', '/v1/tenants/acme/exports', keys.acme);
    expect(list.body.exports.map((e: any) => e.exportId)).toEqual([exportId]);
  });

  test("another tenant's export or an unknown id → 404 (the same answer); another tenant's path → 403", async () => {
    const asGlobex = await request('GET', `/v1/tenants/globex/exports/${exportId}`, keys.globex);
    const unknown = await request('GET', '/v1/tenants/acme/exports/exp-does-not-exist', keys.acme);
    expect(asGlobex.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(asGlobex.body).toEqual(unknown.body);
    expect(asGlobex.headers.get('content-type')).toContain('application/problem+json');
    expect((await request('GET', `/v1/tenants/acme/exports/${exportId}`, keys.globex)).status).toBe(403);
    expect((await request('GET', '/v1/tenants/globex/exports', keys.globex)).body.exports).toEqual([]);
  });

  test('an unknown bucket → 400 sink-configuration with what to fix, and no job is created', async () => {
    const before = (await request('GET', '/v1/tenants/acme/exports', keys.acme)).body.exports.length;
    const res = await request('POST', '/v1/tenants/acme/exports', keys.acme, { sink: 's3', ...DAY, s3: s3Settings('s3://missing-bucket/x') });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body).toMatchObject({
      type: 'urn:access-ledger:problem:sink-configuration',
      detail: `S3 bucket "missing-bucket" does not exist at ${s3.endpoint}`,
    });
    expect((await request('GET', '/v1/tenants/acme/exports', keys.acme)).body.exports).toHaveLength(before);
  });

  test('a Splunk HEC export: 202, polled until succeeded, every event indexed once; a wrong token → 400 and no job', async () => {
    const accepted = await request('POST', '/v1/tenants/acme/exports', keys.acme, {
      sink: 'splunk',
      ...DAY,
      splunk: { url: hec.url, token: HEC_TOKEN, ack: true, ackPollIntervalMs: 20 },
    });
    expect(accepted.status).toBe(202);
    const job = await until(accepted.body.exportId);
    expect(job).toMatchObject({ status: 'succeeded', counts: { rows: 21 }, sink: { kind: 'splunk', token: '***' } });
    expect(hec.events.map((e) => e.event['tenant_id'])).toEqual(Array(21).fill('acme'));
    expect(new Set(hec.events.map((e) => e.event['event_id'])).size).toBe(21);

    const before = (await request('GET', '/v1/tenants/acme/exports', keys.acme)).body.exports.length;
    const refused = await request('POST', '/v1/tenants/acme/exports', keys.acme, { sink: 'splunk', ...DAY, splunk: { url: hec.url, token: 'wrong' } });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({
      type: 'urn:access-ledger:problem:sink-configuration',
      detail: expect.stringContaining('Splunk refused the HEC token'),
    });
    expect((await request('GET', '/v1/tenants/acme/exports', keys.acme)).body.exports).toHaveLength(before);
  });

  test('an invalid body → 400 listing every failing field; a key without exports:write → 403', async () => {
    const res = await request('POST', '/v1/tenants/acme/exports', keys.acme, { sink: 'ftp', from: 'yesterday', to: DAY.to, extra: 1 });
    expect(res.status).toBe(400);
    expect(res.body.type).toBe('urn:access-ledger:problem:invalid-input');
    expect(res.body.errors.map((e: any) => e.path)).toEqual(expect.arrayContaining(['sink', 'from']));
    const backwards = await request('POST', '/v1/tenants/acme/exports', keys.acme, { sink: 's3', from: DAY.to, to: DAY.from, s3: s3Settings() });
    expect(backwards.status).toBe(400);
    expect((await request('POST', '/v1/tenants/acme/exports', keys.acmeReadOnly, { sink: 's3', ...DAY, s3: s3Settings() })).status).toBe(403);
  });
});

/** The compiled CLI (`npm run build` first; `npm test` does) as a child process with Node 24. */
const cli = LEDGER_CLI;
// The AWS chain (environment) supplies s3rver's credentials, as for any S3.
const ledger = (dir: string, ...args: string[]) =>
  runLedger(dir, args, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' });

describe('ledger export s3 and ledger verify-export', () => {
  test("export from a data directory into s3rver, verify it (exit 0), and verify the route's export against its kept head", async () => {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
    const dir = mkdtempSync(join(tmpdir(), 'export-cli-'));
    try {
      const line = (id: string, type: string, minute: number, data: object) =>
        JSON.stringify({
          id,
          type,
          occurredAt: new Date(Date.UTC(2026, 2, 1, 10, minute)).toISOString(),
          actor: { kind: 'import' },
          source: 'console_import',
          data,
        });
      writeFileSync(
        join(dir, 'events.ndjson'),
        [
          line('e-org', 'OrganizationCreated', 0, { orgId: 'org-9', name: 'Nine', dualSeat: false, provisioningMode: 'invite_only', usageBased: false }),
          line('e-po', 'MemberAdded', 1, { orgId: 'org-9', userId: 'po', email: 'po@n.test', role: 'primary_owner' }),
        ].join('\n') + '\n',
      );
      expect((await ledger(dir, 'import', join(dir, 'events.ndjson'), '--tenant', 'nine')).status).toBe(0);
      const exported = await ledger(
        dir,
        'export',
        's3',
        '-t',
        'nine',
        '--from',
        DAY.from,
        '--to',
        DAY.to,
        '--uri',
        `s3://${BUCKET}/cli`,
        '--endpoint',
        s3.endpoint,
        '--format',
        'jsonl',
      );
      expect(exported.stderr).toBe('');
      expect(exported.status).toBe(0);
      expect(exported.stdout).toContain(`exported 2 rows in 1 objects to s3://${BUCKET}/cli`);

      const routeHead = (await request('GET', '/v1/tenants/acme/exports', keys.acme)).body.exports.find(
        (e: any) => e.status === 'succeeded' && e.sink.kind === 's3',
      ).digests.digest;
      const [fromCli, fromRoute, badUri] = await Promise.all([
        ledger(dir, 'verify-export', `s3://${BUCKET}/cli`, '--endpoint', s3.endpoint),
        ledger(dir, 'verify-export', `s3://${BUCKET}/audit`, '--endpoint', s3.endpoint, '--expect-head', `acme=${routeHead}`),
        ledger(dir, 'export', 's3', '-t', 'nine', '--from', DAY.from, '--to', DAY.to, '--uri', 's3://missing-bucket/x', '--endpoint', s3.endpoint),
      ]);
      expect(fromCli.status).toBe(0);
      expect(fromCli.stdout).toContain('tenant nine: 1 exports, 1 objects, 2 rows');
      expect(fromCli.stdout).toContain('OK');
      expect(fromRoute.status).toBe(0);
      expect(badUri.status).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
