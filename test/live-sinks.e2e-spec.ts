/**
 * Configured live sinks: the server follows the event log into Splunk from each sink's checkpoint, through
 * the real pipeline — commands over HTTP, the SQLite store, the audit projection into chDB, the follower, a strict
 * local HEC receiver with acknowledgements — and a sink that cannot work stops the start with its name.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiKeyStore } from '../apps/api/src/keys/api-key-store.js';
import { SCOPES } from '../apps/api/src/keys/scopes.js';
import { composeServer } from '../apps/api/src/compose.js';
import { loadSinksFile } from '../apps/api/src/exports/sinks-file.js';
import { QUIET, testConfig } from '../apps/api/test/support/test-server.js';
import { startHecReceiver, type HecReceiver } from './support/hec-receiver.js';

const TOKEN = '11111111-2222-3333-4444-555555555555';
let app: NestFastifyApplication;
let hec: HecReceiver;
let url: string;
let key: string;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'live-sinks-'));
  hec = await startHecReceiver({ token: TOKEN, ack: true });
  const sinksPath = join(dataDir, 'sinks.json');
  writeFileSync(
    sinksPath,
    JSON.stringify({
      live: [
        {
          name: 'splunk-live',
          tenantId: 'acme',
          pollIntervalMs: 50,
          sink: { kind: 'splunk', url: hec.url, token: TOKEN, ack: true, ackPollIntervalMs: 20, maxBatchDelayMs: 50 },
        },
      ],
    }),
  );
  // The live sinks start with the server, as with LEDGER_SINKS_FILE in production.
  const server = await composeServer(testConfig(dataDir, { LEDGER_SINKS_FILE: sinksPath }), QUIET);
  ({ app, url } = server);
  key = app.get(ApiKeyStore).create({ tenantId: 'acme', scopes: SCOPES }).key;
}, 60_000);

afterAll(async () => {
  await app?.close();
  await hec?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function command(type: string, payload: object): Promise<string> {
  const res = await fetch(`${url}/v1/tenants/acme/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ type, actor: { kind: 'system' }, payload }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { events: { id: string }[] }).events[0]!.id;
}

describe('live sinks', () => {
  test('a configured Splunk sink delivers every event appended while the server runs, acknowledged, in order of position', async () => {
    const ids = [await command('CreateOrganization', { orgId: 'acme', name: 'Acme', dualSeat: false, provisioningMode: 'scim', usageBased: false })];
    for (let i = 0; i < 10; i++) ids.push(await command('CreateGroup', { groupId: `g${i}`, name: `G${i}`, source: 'manual' }));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !ids.every((id) => hec.arrivals().has(id))) await new Promise((r) => setTimeout(r, 100));
    expect(ids.filter((id) => !hec.arrivals().has(id))).toEqual([]);
    const res = await fetch(`${url}/v1/tenants/acme/exports/sinks`, { headers: { authorization: `Bearer ${key}` } });
    const { sinks } = (await res.json()) as { sinks: { name: string; running: boolean; checkpoint: number | null; lastError: string | null }[] };
    expect(sinks).toEqual([expect.objectContaining({ name: 'splunk-live', running: true, lastError: null })]);
    // the checkpoint moves only after acknowledgement, and has reached the last event delivered
    const deadline2 = Date.now() + 10_000;
    let checkpoint = sinks[0]!.checkpoint ?? 0;
    while (checkpoint < ids.length && Date.now() < deadline2) {
      await new Promise((r) => setTimeout(r, 100));
      const again = (await (
        await fetch(`${url}/v1/tenants/acme/exports/sinks`, { headers: { authorization: `Bearer ${key}` } })
      ).json()) as typeof res extends never ? never : { sinks: { checkpoint: number }[] };
      checkpoint = again.sinks[0]!.checkpoint;
    }
    expect(checkpoint).toBeGreaterThanOrEqual(ids.length);
  }, 60_000);

  test('a bad sinks file is refused with every problem listed', async () => {
    const bad = join(dataDir, 'bad-sinks.json');
    writeFileSync(bad, JSON.stringify({ live: [{ name: 'x', tenantId: 'acme', sink: { kind: 'splunk' } }], extra: 1 }));
    expect(() => loadSinksFile(bad)).toThrow(/LEDGER_SINKS_FILE .*invalid[\s\S]*live\.0\.sink/);
  });
});
