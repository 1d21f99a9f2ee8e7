/**
 * What the exports write, read back by tools nobody here wrote, and compared with the audit API row for row: the
 * Parquet file by DuckDB (nullable columns, NULL where an event has no value: `WHERE org_id IS NULL` finds the events
 * without an organization), the CSV by DuckDB too, the JSONL and the Splunk events as JSON; every object carries its
 * format's Content-Type; a Splunk export checks the token once.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { ApiKeyStore } from '../apps/api/src/keys/api-key-store.js';
import { SCOPES } from '../apps/api/src/keys/scopes.js';
import { composeServer, type ComposedServer } from '../apps/api/src/compose.js';
import { QUIET, testConfig } from '../apps/api/test/support/test-server.js';
import { S3ObjectStore, S3SinkConfig } from '@access-ledger/exports';
import { startHecReceiver, type HecReceiver } from './support/hec-receiver.js';
import { startS3rver, type S3rverProcess } from './support/s3rver-process.js';

let server: ComposedServer;
let s3: S3rverProcess;
let hec: HecReceiver;
let dataDir: string;
let key: string;
let duck: DuckDBConnection;
let apiEvents: any[];
const HEC_TOKEN = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const BUCKET = 'ledger-outputs';
const DAY = { from: '2026-03-01T00:00:00.000Z', to: '2026-03-02T00:00:00.000Z' };

async function request(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function command(type: string, payload: object, occurredAt: string): Promise<void> {
  const res = await request('POST', '/v1/tenants/acme/commands', { type, payload, occurredAt, actor: { kind: 'system' } });
  if (res.status !== 201) throw new Error(`${type} → ${res.status} ${JSON.stringify(res.body)}`);
}

/** Starts an export through the route and waits for it to succeed. */
async function exported(body: object): Promise<any> {
  const accepted = await request('POST', '/v1/tenants/acme/exports', { ...DAY, ...body });
  expect(accepted.status).toBe(202);
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    const job = (await request('GET', `/v1/tenants/acme/exports/${accepted.body.exportId}`)).body;
    if (job.status === 'failed') throw new Error(job.error);
    if (job.status === 'succeeded') return job;
  }
  throw new Error('export did not finish');
}

const s3Settings = (prefix: string) => ({ uri: `s3://${BUCKET}/${prefix}`, endpoint: s3.endpoint, forcePathStyle: true, credentials: s3.credentials });

/** The one data object of an S3 export, saved to a file for DuckDB, with its Content-Type. */
async function dataObject(prefix: string, extension: string): Promise<{ file: string; contentType: string | null; text: string }> {
  const store = new S3ObjectStore(S3SinkConfig.parse({ kind: 's3', ...s3Settings(prefix) }));
  try {
    const keys = (await store.list(BUCKET, `${prefix}/tenant=acme/dt=`)).filter((k) => k.endsWith(`.${extension}`));
    expect(keys).toHaveLength(1);
    const body = (await store.get(BUCKET, keys[0]!))!;
    const file = join(dataDir, `${prefix}.${extension}`);
    writeFileSync(file, body);
    return { file, contentType: await store.contentType(BUCKET, keys[0]!), text: body.toString('utf8') };
  } finally {
    store.destroy();
  }
}

async function duckRows(sql: string): Promise<Record<string, unknown>[]> {
  return (await duck.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

/** An exported row (columns of audit_events, NULL where there is no value) as the audit API shows the event. */
function asApiEvent(row: Record<string, unknown>): object {
  const text = (column: string) => row[column] as string | null;
  return {
    id: row.event_id,
    position: Number(row.position),
    revision: Number(row.revision),
    type: row.type,
    tenantId: row.tenant_id,
    orgId: text('org_id'),
    actor: {
      kind: row.actor_kind,
      ...(text('actor_org_id') === null ? {} : { orgId: text('actor_org_id') }),
      ...(text('actor_user_id') === null ? {} : { userId: text('actor_user_id') }),
    },
    subject: text('subject'),
    occurredAt: new Date(row.occurred_at as string).toISOString(),
    recordedAt: new Date(row.recorded_at as string).toISOString(),
    source: row.source,
    correlationId: text('correlation_id'),
    causationId: text('causation_id'),
    data: typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload,
    hash: row.hash,
    auth: text('auth') === null ? null : JSON.parse(text('auth')!),
  };
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'export-outputs-'));
  [s3, hec] = await Promise.all([startS3rver({ buckets: [BUCKET] }), startHecReceiver({ token: HEC_TOKEN, ack: false })]);
  server = await composeServer(testConfig(dataDir), QUIET);
  key = server.app.get(ApiKeyStore).create({ tenantId: 'acme', scopes: SCOPES }).key;
  duck = await (await DuckDBInstance.create(':memory:')).connect();

  await command(
    'CreateOrganization',
    { orgId: 'org-1', name: 'Acme', dualSeat: false, provisioningMode: 'invite_only', usageBased: false },
    '2026-03-01T09:00:00.000Z',
  );
  await command('AddMember', { orgId: 'org-1', userId: 'u-0', email: 'u0@acme.test', role: 'primary_owner' }, '2026-03-01T10:00:00.000Z');
  await command('AddMember', { orgId: 'org-1', userId: 'u-1', email: 'u1@acme.test', role: 'user' }, '2026-03-01T10:01:00.000Z');
  // Groups belong to the tenant, not to an organization: these events have no org_id.
  await command('CreateGroup', { groupId: 'g-1', name: 'Engineering', source: 'manual' }, '2026-03-01T11:00:00.000Z');
  await command('CreateGroup', { groupId: 'g-2', name: 'Support', source: 'manual' }, '2026-03-01T11:01:00.000Z');
  await server.readSide!.readModel.caughtUp();
  const page = await request('GET', `/v1/tenants/acme/audit/events?from=${DAY.from}&to=${DAY.to}&limit=100`);
  expect(page.status).toBe(200);
  apiEvents = (page.body.events as any[]).sort((a, b) => a.position - b.position);
  expect(apiEvents.length).toBe(5);
  expect(apiEvents.filter((e) => e.orgId === null).length).toBeGreaterThanOrEqual(2);
}, 60_000);

afterAll(async () => {
  duck?.closeSync();
  await server?.app.close();
  await Promise.all([s3?.stop(), hec?.stop()]);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('S3 exports read by DuckDB, compared with the audit API', () => {
  test('Parquet: nullable columns, NULL where the API says null, row for row; Content-Type application/vnd.apache.parquet', async () => {
    const job = await exported({ sink: 's3', s3: s3Settings('parquet') });
    const { file, contentType } = await dataObject('parquet', 'parquet');
    expect(contentType).toBe('application/vnd.apache.parquet');
    const schema = await duckRows(`SELECT name, repetition_type FROM parquet_schema('${file}') WHERE name IN ('org_id', 'subject', 'auth', 'event_id')`);
    expect(Object.fromEntries(schema.map((c) => [c.name, c.repetition_type]))).toEqual({
      org_id: 'OPTIONAL',
      subject: 'OPTIONAL',
      auth: 'OPTIONAL',
      event_id: 'REQUIRED',
    });
    const rows = await duckRows(
      `SELECT * REPLACE (strftime(occurred_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS occurred_at, strftime(recorded_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS recorded_at)
       FROM read_parquet('${file}') ORDER BY position`,
    );
    expect(rows.map(asApiEvent)).toEqual(apiEvents);
    const withoutOrg = await duckRows(`SELECT count(*)::INTEGER AS n FROM read_parquet('${file}') WHERE org_id IS NULL`);
    expect(withoutOrg[0]!.n).toBe(apiEvents.filter((e) => e.orgId === null).length);
    // The digest chain hashes exactly what docs/exports.md says: the manifest object's bytes, then the previous
    // digest as 64 ASCII hex characters.
    const store = new S3ObjectStore(S3SinkConfig.parse({ kind: 's3', ...s3Settings('parquet') }));
    const manifestBytes = (await store.get(BUCKET, job.digests.manifestKey))!;
    store.destroy();
    const recomputed = createHash('sha256')
      .update(Buffer.concat([manifestBytes, Buffer.from(job.digests.previousDigest, 'ascii')]))
      .digest('hex');
    expect(job.digests.previousDigest).toBe('0'.repeat(64));
    expect(recomputed).toBe(job.digests.digest);
    const empty = await duckRows(`SELECT count(*)::INTEGER AS n FROM read_parquet('${file}') WHERE org_id = '' OR subject = '' OR auth = ''`);
    expect(empty[0]!.n).toBe(0);
  });

  test('CSV (upload writer): an empty unquoted field is NULL, row for row; Content-Type text/csv', async () => {
    await exported({ sink: 's3', format: 'csv', s3: { ...s3Settings('csv'), writer: 'upload' } });
    const { file, contentType } = await dataObject('csv', 'csv');
    expect(contentType).toBe('text/csv');
    const rows = await duckRows(`SELECT * FROM read_csv('${file}', header = true, all_varchar = true) ORDER BY position::INTEGER`);
    expect(rows.map(asApiEvent)).toEqual(apiEvents);
  });

  test('JSONL (ClickHouse writer): JSON null where the API says null, row for row; Content-Type application/x-ndjson', async () => {
    await exported({ sink: 's3', format: 'jsonl', s3: s3Settings('jsonl') });
    const { contentType, text } = await dataObject('jsonl', 'jsonl');
    expect(contentType).toBe('application/x-ndjson');
    const rows = text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line));
    expect(rows.map(asApiEvent)).toEqual(apiEvents);
  });
});

describe('Splunk HEC export', () => {
  test('events carry JSON null where the API says null; the token is checked once per export', async () => {
    const before = hec.requests.length;
    await exported({ sink: 'splunk', splunk: { url: hec.url, token: HEC_TOKEN } });
    const requests = hec.requests.slice(before);
    // Splunk's answer to an empty body with an accepted token is "No data" (code 5): that is the preflight.
    expect(requests.filter((r) => r.code === 5)).toHaveLength(1);
    const events = hec.events.map((e) => e.event).sort((a, b) => Number(a.position) - Number(b.position));
    expect(events.map(asApiEvent)).toEqual(apiEvents);
  });
});
