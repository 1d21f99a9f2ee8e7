import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHecReceiver, type HecReceiver } from '../../../test/support/hec-receiver.js';
import { startS3rver, type S3rverProcess } from '../../../test/support/s3rver-process.js';
import { auditRows, openTestReadModel } from './audit-history.js';
import { ClickHouseAuditTable } from '../src/clickhouse-audit-table.js';
import { ContinuousSinkConfig, type SinkConfig } from '../src/config.js';
import { S3ObjectStore } from '../src/s3/s3-store.js';
import { verifyExport } from '../src/s3/verify-export.js';
import { SqliteExportStateStore, type ExportJob } from '../src/jobs/export-state.js';
import { ExportJobs } from '../src/jobs/export-jobs.js';
import { SinkFollower } from '../src/jobs/sink-follower.js';
import { SqliteEventStore, tenantStream } from '@access-ledger/event-store';
import { EventStoreAuditSource } from '../src/event-store-audit-source.js';

const TOKEN = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
let s3: S3rverProcess;
let hec: HecReceiver;
let rm: Awaited<ReturnType<typeof openTestReadModel>>;
let table: ClickHouseAuditTable;
let dataDir: string;

const rows = auditRows({ tenantId: 'acme', count: 600, start: '2026-03-01T09:00:00.000Z', stepMs: 60_000 });
const body = { sink: 's3', from: '2026-03-01T00:00:00.000Z', to: '2026-03-02T00:00:00.000Z' };

function sinks(): Record<string, SinkConfig> {
  return {
    archive: {
      kind: 's3',
      uri: 's3://ledger-archive/audit',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: s3.credentials,
      region: 'us-east-1',
      format: 'parquet',
      writer: 'clickhouse',
      concurrency: 4,
    },
    siem: ContinuousSinkConfig.shape.sink.parse({
      kind: 'splunk',
      url: hec.url,
      token: TOKEN,
      ack: true,
      ackPollIntervalMs: 20,
      maxBatchBytes: 8192,
      maxBatchDelayMs: 20,
    }),
  };
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'exports-jobs-'));
  [s3, rm, hec] = await Promise.all([startS3rver({ buckets: ['ledger-archive'] }), openTestReadModel(), startHecReceiver({ token: TOKEN, ack: true })]);
  await rm.insert(rows);
  table = new ClickHouseAuditTable(rm.client);
});

afterAll(async () => {
  await Promise.all([rm?.close(), s3?.stop(), hec?.stop()]);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('one-shot export jobs', () => {
  test('S3 job: accepted, runs in the background, status/progress/counts/digests persisted and readable after a restart', async () => {
    const statePath = join(dataDir, 'state-1.sqlite');
    const state = new SqliteExportStateStore(statePath);
    const jobs = new ExportJobs({ table, state, dataDir, sinks: sinks() });
    const { exportId } = await jobs.start('acme', body);
    await jobs.whenIdle();
    state.close();

    const reopened = new ExportJobs({ table, state: new SqliteExportStateStore(statePath), dataDir });
    const job = reopened.get('acme', exportId)!;
    expect(job).toMatchObject({
      status: 'succeeded',
      progress: { rowsTotal: 600, rowsDone: 600 },
      counts: { rows: 600, objects: 1 },
      upToPosition: 599,
      error: null,
    });
    expect(job.digests!.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(job.sink).toMatchObject({ kind: 's3', credentials: { secretAccessKey: '***' } });
    expect(reopened.get('other-tenant', exportId)).toBeNull();
    const store = new S3ObjectStore(sinks()['archive'] as never);
    const verification = await verifyExport(store, 's3://ledger-archive/audit', { expectHead: { acme: job.digests!.digest } });
    expect(verification.ok).toBe(true);
    store.destroy();
  });

  test('a bad sink is refused at once, before any job exists: unknown bucket, wrong token, missing settings', async () => {
    const state = new SqliteExportStateStore(':memory:');
    const jobs = new ExportJobs({ table, state, dataDir, sinks: sinks() });
    await expect(jobs.start('acme', { ...body, s3: { uri: 's3://missing-bucket/x' } })).rejects.toMatchObject({
      name: 'SinkConfigurationError',
      message: `S3 bucket "missing-bucket" does not exist at ${s3.endpoint}`,
    });
    await expect(jobs.start('acme', { ...body, sink: 'splunk', splunk: { token: 'nope' } })).rejects.toMatchObject({
      name: 'SinkConfigurationError',
      message: expect.stringContaining('Splunk refused the HEC token'),
    });
    const bare = new ExportJobs({ table, state, dataDir });
    await expect(bare.start('acme', { ...body, sink: 'splunk' })).rejects.toMatchObject({
      message: expect.stringMatching(/^the splunk sink is not fully configured: url: .*; token: /),
    });
    await expect(jobs.start('acme', { ...body, from: 'yesterday' })).rejects.toMatchObject({ name: 'ZodError' });
    expect(jobs.list('acme')).toEqual([]);
    state.close();
  });

  test('Splunk job interrupted mid-way resumes after its checkpoint on restart: nothing lost, nothing before the checkpoint sent again', async () => {
    const state = new SqliteExportStateStore(join(dataDir, 'state-2.sqlite'));
    const before = hec.events.length;
    // What a crashed process leaves behind: a running job whose checkpoint says 0..299 are delivered.
    const at = '2026-03-05T00:00:00.000Z';
    const interrupted: ExportJob = {
      exportId: 'exp-crashed',
      tenantId: 'acme',
      sink: { ...(sinks()['siem'] as Extract<SinkConfig, { kind: 'splunk' }>), deadLetterPath: join(dataDir, 'dl.ndjson') },
      from: body.from,
      to: body.to,
      status: 'running',
      progress: { rowsTotal: 600, rowsDone: 300 },
      counts: { rows: 300 },
      digests: null,
      upToPosition: 599,
      checkpoint: 299,
      cursor: { occurredAt: rows[299]!.occurred_at, position: 299 },
      error: null,
      createdAt: at,
      updatedAt: at,
      finishedAt: null,
    };
    state.saveJob(interrupted);
    const jobs = new ExportJobs({ table, state, dataDir });
    expect(jobs.resume()).toEqual(['exp-crashed']);
    await jobs.whenIdle();
    const job = jobs.get('acme', 'exp-crashed')!;
    expect(job).toMatchObject({ status: 'succeeded', checkpoint: 599, progress: { rowsDone: 600 }, sink: { token: '***' } });
    const ids = hec.events.slice(before).map((e) => e.event['event_id']);
    expect(ids).toEqual(rows.slice(300).map((r) => r.event_id));
    state.close();
  });
});

test('a Splunk job that failed while Splunk was down is retried and continues after its checkpoint', async () => {
  const state = new SqliteExportStateStore(':memory:');
  const jobs = new ExportJobs({ table, state, dataDir, sinks: sinks() });
  const splunk = { retry: { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 2 }, maxBatchBytes: 8192 };
  const before = hec.events.length;
  // Splunk goes down once the first events have arrived.
  const { exportId } = await jobs.start('acme', { ...body, sink: 'splunk', splunk });
  const watch = setInterval(() => {
    if (hec.events.length >= before + 100) {
      hec.failNext(10_000, 503);
      clearInterval(watch);
    }
  }, 0);
  await jobs.whenIdle();
  clearInterval(watch);
  const failed = jobs.get('acme', exportId)!;
  expect(failed).toMatchObject({ status: 'failed', error: expect.stringContaining('SinkUnavailableError: Splunk HEC at') });
  expect(failed.checkpoint).toBeGreaterThanOrEqual(0);
  expect(failed.checkpoint).toBeLessThan(599);
  hec.failNext(0);
  const beforeRetry = hec.events.length;
  expect(jobs.retry('acme', exportId)).toBe(true);
  expect(jobs.retry('acme', 'no-such-export')).toBe(false);
  await jobs.whenIdle();
  expect(jobs.get('acme', exportId)).toMatchObject({ status: 'succeeded', checkpoint: 599, progress: { rowsDone: 600 }, error: null });
  const arrived = new Set(hec.events.slice(before).map((e) => e.event['event_id']));
  expect(rows.every((r) => arrived.has(r.event_id))).toBe(true);
  const resent = hec.events.slice(beforeRetry).map((e) => Number(e.event['position']));
  expect(Math.min(...resent)).toBe(failed.checkpoint! + 1);
  state.close();
});

/** The SQLite state store, except that saving a job's failed state fails (as a full disk would). */
class FailingOnFailedStateStore extends SqliteExportStateStore {
  failing = true;
  override saveJob(job: ExportJob): void {
    if (this.failing && job.status === 'failed') throw new Error('SQLITE_FULL: database or disk is full');
    super.saveJob(job);
  }
}

test('a job whose failed state cannot be saved answers "failed" with both errors, is logged, and can be retried — it never stays "running"', async () => {
  const state = new FailingOnFailedStateStore(':memory:');
  const logged: string[] = [];
  const jobs = new ExportJobs({ table, state, dataDir, sinks: sinks(), log: (line) => logged.push(line) });
  const splunk = { retry: { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 2 }, maxBatchBytes: 8192 };
  const { exportId } = await jobs.start('acme', { ...body, sink: 'splunk', splunk });
  hec.failNext(10_000, 503);
  await jobs.whenIdle();
  hec.failNext(0);
  // The store still holds the last state it took (a restart runs the job again); this process answers the truth.
  expect(state.job('acme', exportId)?.status).toBe('running');
  const failed = jobs.get('acme', exportId)!;
  expect(failed).toMatchObject({ status: 'failed', error: expect.stringContaining('SinkUnavailableError: Splunk HEC at') });
  expect(failed.error).toContain('this state could not be saved: Error: SQLITE_FULL: database or disk is full');
  expect(jobs.list('acme').find((j) => j.exportId === exportId)?.status).toBe('failed');
  expect(logged).toEqual([
    expect.stringMatching(new RegExp(`^export acme/${exportId} failed \\(SinkUnavailableError: .*\\), and saving its failed state failed: Error: SQLITE_FULL`)),
  ]);
  state.failing = false;
  expect(jobs.retry('acme', exportId)).toBe(true);
  await jobs.whenIdle();
  expect(jobs.get('acme', exportId)).toMatchObject({ status: 'succeeded', error: null });
  expect(state.job('acme', exportId)?.status).toBe('succeeded');
  state.close();
});

describe('continuous sinks follow the log from their checkpoint', () => {
  test('Splunk follower: delivers history, then new rows live; a restart resumes from the checkpoint', async () => {
    const state = new SqliteExportStateStore(':memory:');
    const config = ContinuousSinkConfig.parse({ name: 'siem-live', tenantId: 'live', sink: sinks()['siem'], pollIntervalMs: 20 });
    const liveRows = auditRows({ tenantId: 'live', count: 400, start: '2026-03-02T00:00:00.000Z', stepMs: 1000, firstPosition: 1000 });
    await rm.insert(liveRows.slice(0, 300));
    const follower = new SinkFollower(config, { source: table, state });
    await follower.start();
    await until(() => state.checkpoint('siem-live') === 1299);
    await rm.insert(liveRows.slice(300));
    await until(() => state.checkpoint('siem-live') === 1399);
    await follower.stop();
    const again = new SinkFollower(config, { source: table, state });
    await again.start();
    await new Promise((r) => setTimeout(r, 100));
    await again.stop();
    const arrivals = hec.arrivals();
    expect(liveRows.every((r) => arrivals.get(r.event_id) === 1)).toBe(true);
    expect(again.status()).toMatchObject({ checkpoint: 1399, lastError: null });
  });

  test('Splunk follower reading the event log itself (event-store adapter): only this tenant, flattened like the read model', async () => {
    const store = SqliteEventStore.open(join(dataDir, 'events.sqlite'));
    const event = (tenantId: string, i: number) => ({
      id: `${tenantId}-e${i}`,
      type: 'UserAddedToGroup',
      data: { groupId: 'g-eng', userId: `u-${i}` },
      metadata: {
        tenantId,
        occurredAt: new Date(Date.UTC(2026, 2, 1, 9, 0, i)).toISOString(),
        recordedAt: '2026-03-01T10:00:00.000Z',
        actor: { kind: 'scim' },
        source: 'scim',
        schemaVersion: 1,
      },
    });
    for (let i = 0; i < 30; i++) {
      await store.append(tenantStream('log-tenant'), [event('log-tenant', i)]);
      await store.append(tenantStream('someone-else'), [event('someone-else', i)]);
    }
    const state = new SqliteExportStateStore(':memory:');
    const config = ContinuousSinkConfig.parse({ name: 'log-live', tenantId: 'log-tenant', sink: sinks()['siem'], pollIntervalMs: 20 });
    const follower = new SinkFollower(config, { source: new EventStoreAuditSource(store), state });
    await follower.start();
    const head = await new EventStoreAuditSource(store).headPosition('log-tenant');
    await until(() => state.checkpoint('log-live') === head);
    await follower.stop();
    await store.close();
    const got = hec.events.filter((e) => String(e.event['event_id']).startsWith('log-tenant-') || String(e.event['event_id']).startsWith('someone-else-'));
    expect(got.map((e) => e.event['event_id'])).toEqual(Array.from({ length: 30 }, (_, i) => `log-tenant-e${i}`));
    expect(got[3]!.event).toMatchObject({
      tenant_id: 'log-tenant',
      type: 'UserAddedToGroup',
      subject: 'u-3',
      actor_kind: 'scim',
      payload: { groupId: 'g-eng', userId: 'u-3' },
    });
    expect(got[3]!.time).toBe(Date.UTC(2026, 2, 1, 9, 0, 3) / 1000);
  });

  test('S3 follower: each step exports the rows after the checkpoint as position-named objects, chained and verifiable', async () => {
    const state = new SqliteExportStateStore(':memory:');
    const config = ContinuousSinkConfig.parse({ name: 's3-live', tenantId: 'stream', sink: { ...sinks()['archive'], uri: 's3://ledger-archive/live' } });
    const streamRows = auditRows({ tenantId: 'stream', count: 200, start: '2026-03-03T23:00:00.000Z', stepMs: 30_000, firstPosition: 5000 });
    await rm.insert(streamRows.slice(0, 100));
    const follower = new SinkFollower(config, { source: table, table, state });
    expect(await follower.step()).toBe(100);
    expect(await follower.step()).toBe(0);
    await rm.insert(streamRows.slice(100));
    expect(await follower.step()).toBe(100);
    expect(state.checkpoint('s3-live')).toBe(5199);
    const store = new S3ObjectStore(config.sink as never);
    const keys = (await store.list('ledger-archive', 'live/tenant=stream/dt=')).sort();
    expect(keys).toEqual([
      'live/tenant=stream/dt=2026-03-03/events-p0-5099.parquet',
      'live/tenant=stream/dt=2026-03-03/events-p5100-5199.parquet',
      'live/tenant=stream/dt=2026-03-04/events-p5100-5199.parquet',
    ]);
    const verification = await verifyExport(store, 's3://ledger-archive/live');
    expect(verification).toMatchObject({ ok: true, tenants: [{ tenantId: 'stream', exports: 2, rows: 200 }] });
    store.destroy();
  });
});

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
