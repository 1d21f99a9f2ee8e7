import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startS3rver, type S3rverProcess } from '../../../test/support/s3rver-process.js';
import { auditRows, openTestReadModel } from './audit-history.js';
import { ClickHouseAuditTable } from '../src/clickhouse-audit-table.js';
import { S3SinkConfig } from '../src/config.js';
import { exportToS3 } from '../src/s3/s3-export.js';
import { S3ObjectStore } from '../src/s3/s3-store.js';
import { verifyExport } from '../src/s3/verify-export.js';
import { exportS3Command, verifyExportCommand } from '../src/cli/export-commands.js';

let s3: S3rverProcess;
let rm: Awaited<ReturnType<typeof openTestReadModel>>;
let table: ClickHouseAuditTable;

// 3 000 events an minute apart from 2026-03-01T22:00Z: they span three UTC days.
const rows = auditRows({ tenantId: 'acme', count: 3000, start: '2026-03-01T22:00:00.000Z', stepMs: 60_000 });
const other = auditRows({ tenantId: 'globex', count: 50, start: '2026-03-01T22:00:00.000Z', stepMs: 60_000, firstPosition: 10_000 });

function sinkConfig(over: Partial<S3SinkConfig> = {}): S3SinkConfig {
  return S3SinkConfig.parse({
    kind: 's3',
    uri: 's3://audit-exports/ledger',
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: s3.credentials,
    ...over,
  });
}

beforeAll(async () => {
  [s3, rm] = await Promise.all([startS3rver({ buckets: ['audit-exports', 'second-bucket'] }), openTestReadModel()]);
  await rm.insert([...rows, ...other]);
  table = new ClickHouseAuditTable(rm.client);
});

afterAll(async () => {
  await rm?.close();
  await s3?.stop();
});

const range = { tenantId: 'acme', from: '2026-03-01T00:00:00.000Z', to: '2026-03-04T00:00:00.000Z' };

describe('S3 export through ClickHouse s3() into s3rver (separate process, real AWS SDK)', () => {
  test('Parquet by default: one object per UTC day under tenant=/dt=, manifest rows and sha256 match the bucket', async () => {
    const config = sinkConfig();
    expect(config.format).toBe('parquet');
    const store = new S3ObjectStore(config);
    const progress: number[] = [];
    const result = await exportToS3({ table, store, config }, { exportId: 'exp-1', ...range }, (p) => progress.push(p.rowsDone));
    expect(result.rows).toBe(3000);
    // The tenant's head position, as the export found it, is part of every name (the bytes depend on it).
    expect(result.upToPosition).toBe(rows.at(-1)!.position);
    expect(result.objects.map((o) => o.key)).toEqual([
      `ledger/tenant=acme/dt=2026-03-01/events-20260301T000000000Z-20260302T000000000Z-upto${result.upToPosition}.parquet`,
      `ledger/tenant=acme/dt=2026-03-02/events-20260302T000000000Z-20260303T000000000Z-upto${result.upToPosition}.parquet`,
      `ledger/tenant=acme/dt=2026-03-03/events-20260303T000000000Z-20260304T000000000Z-upto${result.upToPosition}.parquet`,
    ]);
    expect(result.objects.map((o) => o.rows)).toEqual([120, 1440, 1440]);
    expect(progress.at(-1)).toBe(3000);
    // ClickHouse reads the Parquet back: same rows, same ids, nothing of the other tenant.
    const back = await rm.client.query({
      query: `SELECT count() AS n, uniqExact(event_id) AS ids, countIf(tenant_id != 'acme') AS foreign FROM s3({url:String}, 'S3RVER', 'S3RVER', 'Parquet')`,
      query_params: { url: `${s3.endpoint}/audit-exports/ledger/tenant=acme/dt=*/*.parquet` },
      format: 'JSONEachRow',
    });
    expect(await back.json()).toEqual([{ n: 3000, ids: 3000, foreign: 0 }]);
    const verification = await verifyExport(store, 's3://audit-exports/ledger');
    expect(verification.problems).toEqual([]);
    expect(verification.ok).toBe(true);
    store.destroy();
  });

  test('running the same export again takes the objects already there (same bytes, no duplicates, none rewritten) and extends the digest chain', async () => {
    const config = sinkConfig();
    const store = new S3ObjectStore(config);
    const first = await exportToS3({ table, store, config }, { exportId: 'exp-2', ...range });
    const keysBefore = (await store.list('audit-exports', 'ledger/tenant=acme/dt=')).sort();
    const again = await exportToS3({ table, store, config }, { exportId: 'exp-3', ...range });
    const keysAfter = (await store.list('audit-exports', 'ledger/tenant=acme/dt=')).sort();
    expect(keysAfter).toEqual(keysBefore);
    expect(again.previousDigest).toBe(first.digest);
    expect(again.objects.map((o) => o.sha256)).toEqual(first.objects.map((o) => o.sha256));
    const verification = await verifyExport(store, 's3://audit-exports/ledger', { expectHead: { acme: again.digest } });
    expect(verification.ok).toBe(true);
    expect(verification.tenants.find((t) => t.tenantId === 'acme')).toMatchObject({ objects: 3, rows: 3000, headDigest: again.digest });
    store.destroy();
  });

  test('JSONL and CSV on request, also with the upload writer (ClickHouse renders, the SDK uploads)', async () => {
    for (const [format, writer] of [
      ['jsonl', 'clickhouse'],
      ['csv', 'upload'],
      ['parquet', 'upload'],
    ] as const) {
      const config = sinkConfig({ uri: `s3://second-bucket/${format}-${writer}`, format, writer });
      const store = new S3ObjectStore(config);
      const result = await exportToS3({ table, store, config }, { exportId: `fmt-${format}`, ...range, tenantId: 'globex' });
      expect(result.rows).toBe(50);
      const body = (await store.get('second-bucket', result.objects[0]!.key))!.toString('utf8');
      if (format === 'jsonl') {
        const first = JSON.parse(body.split('\n')[0]!);
        expect(first).toMatchObject({ tenant_id: 'globex', position: 10_000, occurred_at: '2026-03-01T22:00:00.000Z' });
      }
      if (format === 'csv') expect(body.split('\n')[0]).toContain('"tenant_id","org_id","event_id"');
      expect((await verifyExport(store, config.uri)).ok).toBe(true);
      store.destroy();
    }
  });

  describe('create-only objects (never overwritten)', () => {
    /** The PUT requests the SDK sends, headers as finalized. */
    const capturePuts = (store: S3ObjectStore) => {
      const sent: { key: string; headers: Record<string, string> }[] = [];
      store.client.middlewareStack.add(
        (next) => async (args) => {
          const request = args.request as { method?: string; path?: string; headers?: Record<string, string> };
          if (request.method === 'PUT') sent.push({ key: decodeURIComponent(request.path ?? ''), headers: { ...request.headers } });
          return next(args);
        },
        { step: 'finalizeRequest' },
      );
      return sent;
    };

    for (const writer of ['clickhouse', 'upload'] as const)
      test(`${writer} writer: a data object already there with other bytes is refused, left as it was, and no manifest is written`, async () => {
        const config = sinkConfig({ uri: `s3://second-bucket/taken-${writer}`, writer });
        const store = new S3ObjectStore(config);
        const first = await exportToS3({ table, store, config }, { exportId: `t-${writer}`, ...range, tenantId: 'globex' });
        const key = first.objects[0]!.key;
        // Someone else's bytes under the next run's name (the same name: same window, same head position).
        await store.put('second-bucket', key, Buffer.from('someone else'), 'text/plain');
        const error = await exportToS3({ table, store, config }, { exportId: `t2-${writer}`, ...range, tenantId: 'globex' }).catch((e: unknown) => e);
        expect(error).toMatchObject({ name: 'ObjectExistsError', key });
        expect((error as Error).message).toContain('with other bytes');
        expect((await store.get('second-bucket', key))!.toString('utf8')).toBe('someone else');
        const manifests = (await store.list('second-bucket', `taken-${writer}/tenant=globex/_exports/`)).filter((k) => k.endsWith('.manifest.json'));
        expect(manifests).toEqual([first.manifestKey]);
        store.destroy();
      });

    test("upload writer: data objects, manifest and digest are PUT with If-None-Match: * and the sink's Object Lock retention", async () => {
      const config = sinkConfig({ uri: 's3://second-bucket/locked', writer: 'upload', objectLock: { mode: 'GOVERNANCE', days: 30 } });
      const store = new S3ObjectStore(config);
      const sent = capturePuts(store);
      const result = await exportToS3({ table, store, config }, { exportId: 'lock-1', ...range });
      const written = [...result.objects.map((o) => o.key), result.manifestKey, result.digestKey];
      expect(sent.map((s) => s.key.replace(/^\/second-bucket\//, '')).sort()).toEqual(written.sort());
      for (const { headers } of sent) {
        expect(headers).toMatchObject({ 'if-none-match': '*', 'x-amz-object-lock-mode': 'GOVERNANCE' });
        expect(Date.parse(headers['x-amz-object-lock-retain-until-date']!) - Date.now()).toBeGreaterThan(29.9 * 86_400_000);
      }
      // The same export again: every object is there with its bytes, so nothing but the new manifest and digest is PUT.
      sent.length = 0;
      const again = await exportToS3({ table, store, config }, { exportId: 'lock-2', ...range });
      expect(sent.map((s) => s.key.replace(/^\/second-bucket\//, '')).sort()).toEqual([again.digestKey, again.manifestKey].sort());
      expect((await verifyExport(store, config.uri)).ok).toBe(true);
      store.destroy();
    });

    test('a run stopped after its objects, or after its manifest, completes when run again: objects and manifest taken as they are, the chain intact', async () => {
      const config = sinkConfig({ uri: 's3://second-bucket/resumed' });
      const store = new S3ObjectStore(config);
      const input = { exportId: 'crash-1', ...range };
      const done = await exportToS3({ table, store, config }, input);
      // As if it had stopped before its digest: the manifest stays (create-only objects are never deleted by the
      // ledger; the test plays the crash by removing what would not have been written).
      await s3.client().send(new DeleteObjectCommand({ Bucket: 'second-bucket', Key: done.digestKey }));
      const manifestBytes = (await store.get('second-bucket', done.manifestKey))!;
      const resumed = await exportToS3({ table, store, config, now: () => new Date('2030-01-01T00:00:00Z') }, input);
      expect(resumed.manifestKey).toBe(done.manifestKey);
      expect(resumed.digest).toBe(done.digest);
      expect((await store.get('second-bucket', done.manifestKey))!.equals(manifestBytes)).toBe(true);
      // As if it had stopped before its manifest: only the objects are there.
      await s3.client().send(new DeleteObjectCommand({ Bucket: 'second-bucket', Key: done.digestKey }));
      await s3.client().send(new DeleteObjectCommand({ Bucket: 'second-bucket', Key: done.manifestKey }));
      const again = await exportToS3({ table, store, config }, input);
      expect(again.objects.map((o) => [o.key, o.sha256])).toEqual(done.objects.map((o) => [o.key, o.sha256]));
      const verification = await verifyExport(store, config.uri, { expectHead: { acme: again.digest } });
      expect(verification.problems).toEqual([]);
      store.destroy();
    });
  });

  test('a tampered object and a deleted object make verify-export fail and name both', async () => {
    const config = sinkConfig({ uri: 's3://second-bucket/tamper' });
    const store = new S3ObjectStore(config);
    const result = await exportToS3({ table, store, config }, { exportId: 'exp-t', ...range });
    const [a, b] = result.objects;
    await store.client.send(new PutObjectCommand({ Bucket: 'second-bucket', Key: a!.key, Body: Buffer.from('not the export') }));
    await store.client.send(new DeleteObjectCommand({ Bucket: 'second-bucket', Key: b!.key }));
    const verification = await verifyExport(store, config.uri);
    expect(verification.ok).toBe(false);
    expect(verification.problems.map((p) => [p.kind, p.key])).toEqual([
      ['object-altered', a!.key],
      ['object-missing', b!.key],
    ]);
    store.destroy();
  });

  test('an altered manifest breaks the chain and is named', async () => {
    const config = sinkConfig({ uri: 's3://second-bucket/manifest' });
    const store = new S3ObjectStore(config);
    const one = await exportToS3({ table, store, config }, { exportId: 'm-1', ...range });
    await exportToS3({ table, store, config }, { exportId: 'm-2', ...range });
    const text = (await store.get('second-bucket', one.manifestKey))!.toString('utf8').replace('"rows": 120', '"rows": 119');
    await store.put('second-bucket', one.manifestKey, Buffer.from(text), 'application/json');
    const verification = await verifyExport(store, config.uri);
    expect(verification.problems.map((p) => [p.kind, p.key])).toEqual([['manifest-altered', one.manifestKey]]);
    store.destroy();
  });

  test('unknown bucket fails fast with a clear message and writes nothing', async () => {
    const config = sinkConfig({ uri: 's3://no-such-bucket/x' });
    const store = new S3ObjectStore(config);
    await expect(exportToS3({ table, store, config }, { exportId: 'bad', ...range })).rejects.toMatchObject({
      name: 'SinkConfigurationError',
      message: `S3 bucket "no-such-bucket" does not exist at ${s3.endpoint}`,
    });
    store.destroy();
  });

  test('listing past one page works against s3rver (continuation tokens), as verify-export needs beyond 1 000 objects', async () => {
    const store = new S3ObjectStore(sinkConfig());
    const keys = Array.from({ length: 25 }, (_, i) => `many/k-${String(i).padStart(4, '0')}`);
    await Promise.all(keys.map((k) => store.put('second-bucket', k, Buffer.from('x'), 'text/plain')));
    expect((await store.list('second-bucket', 'many/', 10)).sort()).toEqual(keys);
    store.destroy();
  });

  test('credentials come from the standard AWS chain when the configuration has none', async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = s3.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = s3.credentials.secretAccessKey;
    try {
      const { credentials: _none, ...config } = sinkConfig({ uri: 's3://second-bucket/chain' });
      const store = new S3ObjectStore(config);
      expect(await store.resolvedCredentials()).toEqual({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });
      const result = await exportToS3({ table, store, config }, { exportId: 'chain', ...range, tenantId: 'globex' });
      expect(result.rows).toBe(50);
      store.destroy();
    } finally {
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      else process.env.AWS_ACCESS_KEY_ID = saved.id;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
  });

  test('CLI: ledger export s3 then ledger verify-export — exit 0 when intact, 1 naming the deleted object, 2 for an unknown bucket', async () => {
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(`ERR ${l}`), progress: false };
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
    try {
      const o = { tenant: 'globex', from: range.from, to: range.to, endpoint: s3.endpoint };
      expect(await exportS3Command(table, { ...o, uri: 's3://second-bucket/cli' }, io)).toBe(0);
      expect(lines[0]).toBe('exported 50 rows in 1 objects to s3://second-bucket/cli');
      expect(await verifyExportCommand('s3://second-bucket/cli', { endpoint: s3.endpoint }, io)).toBe(0);
      expect(lines.at(-1)).toBe('OK: s3://second-bucket/cli verifies');
      const key = `cli/tenant=globex/dt=2026-03-01/events-20260301T000000000Z-20260302T000000000Z-upto${other.at(-1)!.position}.parquet`;
      await s3.client().send(new DeleteObjectCommand({ Bucket: 'second-bucket', Key: key }));
      expect(await verifyExportCommand('s3://second-bucket/cli', { endpoint: s3.endpoint }, io)).toBe(1);
      expect(lines.filter((l) => l.startsWith('FAIL '))).toEqual([
        expect.stringMatching(new RegExp(`^FAIL object-missing ${key.replace(/\./g, '\\.')}: listed in the manifest`)),
      ]);
      expect(await exportS3Command(table, { ...o, uri: 's3://nope-bucket/cli' }, io)).toBe(2);
      expect(lines.at(-1)).toBe(`ERR SinkConfigurationError: S3 bucket "nope-bucket" does not exist at ${s3.endpoint}`);
    } finally {
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      else process.env.AWS_ACCESS_KEY_ID = saved.id;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
  });
});
