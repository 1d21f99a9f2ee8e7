/**
 * Issue 14 over HTTP: the server's checkpointer signs a checkpoint every CHECKPOINT_EVERY_EVENTS events, the public
 * keys are served without a key, checkpoints and proofs with audit:read; the proofs it serves verify offline
 * (`ledger verify-proof`, the compiled CLI) with the keys it published.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeServer, type ComposedServer } from '../apps/api/src/compose.js';
import { ApiKeyStore } from '../apps/api/src/keys/api-key-store.js';
import { SCOPES } from '../apps/api/src/keys/scopes.js';
import { createGroup, post, QUIET, testConfig } from '../apps/api/test/support/test-server.js';
import { runLedger } from './support/ledger-cli.js';

let dataDir: string;
let server: ComposedServer;
let key: string;
let sizes: number[] = [];
const get = (path: string, k: string | null = key) => fetch(`${server.url}${path}`, { headers: k !== null ? { authorization: `Bearer ${k}` } : {} });

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'proofs-routes-'));
  server = await composeServer(testConfig(dataDir, { CHECKPOINT_EVERY_EVENTS: '10', CHECKPOINT_EVERY_SECONDS: '3600' }), {
    ...QUIET,
    readSide: false,
    accessQueries: false,
  });
  key = server.app.get(ApiKeyStore).create({ tenantId: 'acme', scopes: SCOPES }).key;
});
afterAll(async () => {
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('checkpoint and proof routes (issue 14)', () => {
  test('a checkpoint every 10 events; keys public; an inclusion and a consistency proof verify offline', async () => {
    for (let i = 0; i < 12; i++) expect((await post(`${server.url}/v1/tenants/acme/commands`, key, createGroup(`g-${i}`))).status).toBe(201);
    await server.checkpointer!.tick();
    for (let i = 12; i < 25; i++) expect((await post(`${server.url}/v1/tenants/acme/commands`, key, createGroup(`g-${i}`))).status).toBe(201);
    await server.checkpointer!.tick();
    expect(await server.checkpointer!.tick()).toEqual([]); // nothing new since the last one: no checkpoint
    // The server's own timer ticks too (every second), so which sizes were signed depends on timing; what holds:
    // at least 10 events between two checkpoints, the first within the first 12 events, at least two in all.
    const list = (await (await get('/v1/tenants/acme/checkpoints')).json()) as { checkpoints: { treeSize: number }[] };
    sizes = list.checkpoints.map((c) => c.treeSize);
    expect(sizes.length).toBeGreaterThanOrEqual(2);
    expect(sizes[0]).toBeGreaterThanOrEqual(10);
    expect(sizes[0]).toBeLessThanOrEqual(12);
    for (let i = 1; i < sizes.length; i++) expect(sizes[i]! - sizes[i - 1]!).toBeGreaterThanOrEqual(10);
    const [first, last] = [sizes[0]!, sizes.at(-1)!];

    const keys = await get('/checkpoints/keys', null);
    expect(keys.status).toBe(200);
    const keysFile = join(dataDir, 'published-keys.json');
    writeFileSync(keysFile, await keys.text());

    const events = (await (await get('/v1/tenants/acme/integrity')).json()) as { events: number };
    expect(events.events).toBe(25);
    // The id of revision 3: any event of the first checkpoint.
    const { tenantStream } = await import('@access-ledger/event-store');
    let id = '';
    for await (const e of server.core.store.readStream(tenantStream('acme'), { fromRevision: 3, maxCount: 1 })) id = e.id;
    for (const path of [
      `/v1/tenants/acme/events/${id}/proof?checkpoint=${first}`,
      `/v1/tenants/acme/events/${id}/proof`,
      `/v1/tenants/acme/checkpoints/consistency?from=${first}&to=${last}`,
    ]) {
      const response = await get(path);
      expect([path, response.status]).toEqual([path, 200]);
      const file = join(dataDir, 'proof.json');
      writeFileSync(file, await response.text());
      const run = await runLedger(dataDir, ['verify-proof', file, '--keys', keysFile]);
      expect([path, run.status, run.stdout]).toEqual([path, 0, expect.stringMatching(/proof valid/)]);
    }
  });

  test('unknown checkpoint or event: 404 naming what exists; a bad parameter: 400; no key: 401', async () => {
    const noCheckpoint = await get('/v1/tenants/acme/events/nope/proof?checkpoint=9');
    expect(noCheckpoint.status).toBe(404);
    expect(((await noCheckpoint.json()) as { detail: string }).detail).toBe(`no checkpoint of 9 events for tenant acme; checkpoints: ${sizes.join(', ')}`);
    expect((await get('/v1/tenants/acme/events/nope/proof')).status).toBe(404);
    const bad = await get('/v1/tenants/acme/checkpoints/consistency?from=0&extra=1');
    expect(bad.status).toBe(400);
    expect((await get('/v1/tenants/acme/checkpoints', null)).status).toBe(401);
  });
});
