/**
 * Issue 14, item 5: each object of an S3 export names, in its manifest, a signed checkpoint covering its last event, so
 * an exported day can be proven part of the log: the checkpoint verifies with the published keys, and an inclusion
 * proof of the object's last event in that checkpoint verifies (`ledger verify-proof`).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeyStore } from '../apps/api/src/keys/api-key-store.js';
import { SCOPES } from '../apps/api/src/keys/scopes.js';
import { composeServer, type ComposedServer } from '../apps/api/src/compose.js';
import { QUIET, testConfig } from '../apps/api/test/support/test-server.js';
import { S3ObjectStore, S3SinkConfig } from '@access-ledger/exports';
import { runLedger } from './support/ledger-cli.js';
import { startS3rver, type S3rverProcess } from './support/s3rver-process.js';

let server: ComposedServer;
let s3: S3rverProcess;
let dataDir: string;
let key: string;
const BUCKET = 'ledger-checkpointed';

async function request(method: string, path: string, body?: unknown): Promise<{ status: number; body: any; text: string }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, text };
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'export-checkpoints-'));
  s3 = await startS3rver({ buckets: [BUCKET] });
  server = await composeServer(testConfig(dataDir, { CHECKPOINT_EVERY_SECONDS: '0' }), QUIET);
  key = server.app.get(ApiKeyStore).create({ tenantId: 'acme', scopes: SCOPES }).key;
  const day = (d: number, h: number) => `2026-03-0${d}T${String(h).padStart(2, '0')}:00:00.000Z`;
  const cmd = async (type: string, payload: object, occurredAt: string) =>
    expect((await request('POST', '/v1/tenants/acme/commands', { type, payload, occurredAt, actor: { kind: 'system' } })).status).toBe(201);
  await cmd('CreateGroup', { groupId: 'g-1', name: 'One', source: 'manual' }, day(1, 9));
  await cmd('CreateGroup', { groupId: 'g-2', name: 'Two', source: 'manual' }, day(1, 10));
  await cmd('CreateGroup', { groupId: 'g-3', name: 'Three', source: 'manual' }, day(2, 9));
  await server.readSide!.readModel.caughtUp();
}, 60_000);
afterAll(async () => {
  await server.close();
  await s3.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('exports carry the checkpoint covering each object (issue 14)', () => {
  test('per object: a signed checkpoint with the last event inside; its inclusion proof verifies offline', async () => {
    const s3Settings = { uri: `s3://${BUCKET}/cp`, endpoint: s3.endpoint, forcePathStyle: true, credentials: s3.credentials, writer: 'upload' };
    const accepted = await request('POST', '/v1/tenants/acme/exports', {
      from: '2026-03-01T00:00:00.000Z',
      to: '2026-03-03T00:00:00.000Z',
      sink: 's3',
      format: 'jsonl',
      s3: s3Settings,
    });
    expect(accepted.status).toBe(202);
    let job: any;
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      job = (await request('GET', `/v1/tenants/acme/exports/${accepted.body.exportId}`)).body;
      if (job.status === 'failed') throw new Error(job.error);
      if (job.status === 'succeeded') break;
    }
    const store = new S3ObjectStore(S3SinkConfig.parse({ kind: 's3', ...s3Settings }));
    const manifest = JSON.parse((await store.get(BUCKET, job.digests.manifestKey))!.toString('utf8'));
    store.destroy();
    expect(manifest.objects).toHaveLength(2);
    const keysFile = join(dataDir, 'keys.json');
    writeFileSync(keysFile, await fetch(`${server.url}/checkpoints/keys`).then((r) => r.text()));
    for (const object of manifest.objects) {
      expect(object.checkpoint).toMatchObject({ tenantId: 'acme', version: 1 });
      // The last event of the object (its id, from the audit API at that position) is inside the checkpoint.
      const page = await request('GET', `/v1/tenants/acme/audit/events?from=${object.from}&to=${object.to}&limit=100`);
      const last = (page.body.events as any[]).find((e) => e.position === object.maxPosition);
      expect(last.revision).toBeLessThan(object.checkpoint.treeSize);
      const proof = await request('GET', `/v1/tenants/acme/events/${last.id}/proof?checkpoint=${object.checkpoint.treeSize}`);
      expect(proof.status).toBe(200);
      const file = join(dataDir, 'proof.json');
      writeFileSync(file, proof.text);
      const run = await runLedger(dataDir, ['verify-proof', file, '--keys', keysFile]);
      expect([run.status, run.stdout]).toEqual([0, expect.stringMatching(/proof valid/)]);
    }
  });
});
