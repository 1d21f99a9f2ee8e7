/**
 * Issue 14, anchoring against s3rver: a checkpoint is written create-only (never overwritten) with the Object Lock
 * headers the sink config asks for. What s3rver honours, and what this test therefore verifies:
 * - s3rver IGNORES `If-None-Match: *` on PUT (it honours it on GET only) and Object Lock entirely: the refusal seen
 *   here comes from the HEAD check `putCreateOnly` makes first; the headers are checked as SENT (captured from the
 *   SDK's finalized request), not as enforced. Real S3 enforces both (412 PreconditionFailed → ObjectExistsError).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { composeServer } from '../apps/api/src/compose.js';
import { SinksFile } from '../apps/api/src/exports/sinks-file.js';
import { QUIET, testConfig } from '../apps/api/test/support/test-server.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointFiles, CheckpointKeyring, makeCheckpoint, SqliteEventStore, tenantStream } from '@access-ledger/event-store';
import { anchorCheckpointToS3, ObjectExistsError, parseS3Uri, S3ObjectStore } from '@access-ledger/exports';
import { startHecReceiver, type HecReceiver } from './support/hec-receiver.js';
import { startS3rver, type S3rverProcess } from './support/s3rver-process.js';

let s3: S3rverProcess;
let hec: HecReceiver;
let dir: string;
const HEC_TOKEN = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
beforeAll(async () => {
  s3 = await startS3rver({ buckets: ['anchors'] });
  hec = await startHecReceiver({ token: HEC_TOKEN, ack: false });
  dir = mkdtempSync(join(tmpdir(), 'anchor-'));
});
afterAll(async () => {
  await s3.stop();
  await hec.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('checkpoints anchored to S3, create-only (issue 14)', () => {
  test('the second write of the same checkpoint key is refused and the object keeps its first bytes; lock headers are sent', async () => {
    const events = SqliteEventStore.open(join(dir, 'events.sqlite'));
    const keyring = CheckpointKeyring.open(join(dir, 'keys'));
    await events.append(tenantStream('acme'), [{ id: 'e1', type: 'T', data: {}, metadata: {} }]);
    const checkpoint = (await makeCheckpoint(events, keyring, 'acme', tenantStream('acme')))!;
    await events.close();

    const store = new S3ObjectStore({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: s3.credentials });
    const sent: Record<string, string>[] = [];
    store.client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { method?: string; headers?: Record<string, string> };
        if (request.method === 'PUT') sent.push({ ...request.headers });
        return next(args);
      },
      { step: 'finalizeRequest' },
    );
    const loc = parseS3Uri('s3://anchors/ledger');
    const key = await anchorCheckpointToS3(store, loc, checkpoint, { mode: 'COMPLIANCE', days: 7 });
    expect(key).toBe('ledger/tenant=acme/_checkpoints/000000000001.json');
    expect(sent[0]).toMatchObject({ 'if-none-match': '*', 'x-amz-object-lock-mode': 'COMPLIANCE' });
    const until = Date.parse(sent[0]!['x-amz-object-lock-retain-until-date']!);
    expect(until - Date.now()).toBeGreaterThan(6.9 * 86_400_000);

    const forged = { ...checkpoint, rootHash: '0'.repeat(64) };
    await expect(anchorCheckpointToS3(store, loc, forged)).rejects.toBeInstanceOf(ObjectExistsError);
    expect(sent).toHaveLength(1); // nothing was PUT the second time
    expect(JSON.parse((await store.get('anchors', key))!.toString('utf8'))).toEqual(checkpoint);
    store.destroy();
  });

  test("the server ships each new checkpoint to its tenant's S3 (with the sink's Object Lock) and Splunk live sinks as it is made", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'anchor-server-'));
    const sink = {
      kind: 's3',
      uri: 's3://anchors/srv',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: s3.credentials,
      objectLock: { mode: 'GOVERNANCE', days: 1 },
    };
    const server = await composeServer(testConfig(dataDir, { CHECKPOINT_EVERY_EVENTS: '2', CHECKPOINT_EVERY_SECONDS: '3600' }), {
      ...QUIET,
      readSide: false,
      accessQueries: false,
      sinks: SinksFile.parse({
        live: [
          { name: 'acme-s3', tenantId: 'acme', sink },
          { name: 'acme-splunk', tenantId: 'acme', sink: { kind: 'splunk', url: hec.url, token: HEC_TOKEN } },
        ],
      }),
    });
    try {
      await server.core.store.append(
        tenantStream('acme'),
        [1, 2, 3].map((i) => ({ id: `e${i}`, type: 'T', data: { i }, metadata: {} })),
      );
      await server.core.store.append(
        tenantStream('globex'),
        [1, 2, 3].map((i) => ({ id: `e${i}`, type: 'T', data: { i }, metadata: {} })),
      );
      // The tick is serialized after any the server's own timer started, so acme's checkpoint is made and shipped by now.
      await server.checkpointer!.tick();
      const made = new CheckpointFiles(join(dataDir, 'checkpoints')).list('acme')[0];
      expect(made?.treeSize).toBe(3);
      const client = s3.client();
      const listed = await client.send(new ListObjectsV2Command({ Bucket: 'anchors', Prefix: 'srv/' }));
      expect((listed.Contents ?? []).map((o) => o.Key)).toEqual(['srv/tenant=acme/_checkpoints/000000000003.json']); // globex has no sink
      const body = await (
        await client.send(new GetObjectCommand({ Bucket: 'anchors', Key: 'srv/tenant=acme/_checkpoints/000000000003.json' }))
      ).Body!.transformToString();
      expect(JSON.parse(body)).toEqual(made);
      client.destroy();
      // …and to Splunk, as one event of sourcetype access-ledger:checkpoint.
      expect(hec.events.map((e) => [e.sourcetype, e.event])).toEqual([['access-ledger:checkpoint', made]]);
    } finally {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('what s3rver does with If-None-Match: * on PUT: it overwrites (so the HEAD check is what refuses there)', async () => {
    const client = s3.client();
    await client.send(new PutObjectCommand({ Bucket: 'anchors', Key: 'probe', Body: 'first' }));
    await client.send(new PutObjectCommand({ Bucket: 'anchors', Key: 'probe', Body: 'second', IfNoneMatch: '*' }));
    const body = await (await client.send(new GetObjectCommand({ Bucket: 'anchors', Key: 'probe' }))).Body!.transformToString();
    expect(body).toBe('second');
    client.destroy();
  });
});
