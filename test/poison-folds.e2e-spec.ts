/**
 * The projections that fold events into facts: an event stored in a shape the code cannot fold
 * (data that passes the store but not `evolve`, a data shape of an older schema with no upcaster) is quarantined by
 * the in-memory access projection (recorded in the data directory) and by the interval projection (in
 * quarantined_events), and both go on for every tenant — against the real server with SQLite and chDB.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiKeyStore } from '../apps/api/src/keys/api-key-store.js';
import { SCOPES } from '../apps/api/src/keys/scopes.js';
import { composeServer, type ReadSide } from '../apps/api/src/compose.js';
import { QUIET, testConfig } from '../apps/api/test/support/test-server.js';
import { internKey, UPCASTERS } from '@access-ledger/access-model';
import { tenantStream, type EventToAppend } from '@access-ledger/event-store';
import { accessQuarantinePath } from '@access-ledger/projections';
import { createLedger, type Ledger } from '@access-ledger/ledger';
import { listQuarantined } from '@access-ledger/read-model';
import { runLedger } from './support/ledger-cli.js';

const meta = (tenantId: string, schemaVersion = 1) => ({
  tenantId,
  occurredAt: '2026-03-01T09:00:00.000Z',
  recordedAt: '2026-03-01T09:00:00.000Z',
  actor: { kind: 'system' },
  source: 'api',
  schemaVersion,
});
const org = (tenantId: string): EventToAppend => ({
  id: `${tenantId}-org`,
  type: 'OrganizationCreated',
  metadata: meta(tenantId),
  data: { orgId: 'org', name: 'Org', dualSeat: false, usageBased: false, provisioningMode: 'invite_only' },
});
/** Passes the store; `evolve` adds the connector, then throws at its missing `tools`. */
const toolless = (tenantId: string, id: string): EventToAppend => ({
  id,
  type: 'ConnectorAdded',
  metadata: meta(tenantId),
  data: { orgId: 'org', connectorId: 'c-bad', name: 'Bad' },
});
/** A shape of schema version 0, which this build cannot upcast. */
const oldShape = (tenantId: string, id: string): EventToAppend => ({
  id,
  type: 'ConnectorAdded',
  metadata: meta(tenantId, 0),
  data: { orgId: 'org', connectorId: 'c-old', name: 'Old', tools: ['search'] },
});

describe('the access and interval projections quarantine an event they cannot fold', () => {
  let app: NestFastifyApplication;
  let side: ReadSide;
  let ledger: Ledger;
  let url: string;
  let dataDir: string;
  const keys = { acme: '', globex: '' };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'poison-folds-'));
    const server = await composeServer(testConfig(dataDir, { READ_MODEL_WAIT_MS: '5000' }), QUIET);
    ({ app, url, core: ledger } = server);
    side = server.readSide!;
    const store = app.get(ApiKeyStore);
    keys.acme = store.create({ tenantId: 'acme', scopes: SCOPES }).key;
    keys.globex = store.create({ tenantId: 'globex', scopes: SCOPES }).key;
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const command = async (tenant: keyof typeof keys, body: object) => {
    const res = await fetch(`${url}/v1/tenants/${tenant}/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${keys[tenant]}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, body: (await res.json()) as { events: { position: number }[] } };
  };
  const createGroup = (groupId: string) => ({ type: 'CreateGroup', actor: { kind: 'system' }, payload: { groupId, name: groupId, source: 'manual' } });

  test('stored straight into the store: skipped with nothing of it folded, recorded, on /ready and /metrics; both tenants go on', async () => {
    await ledger.store.append(tenantStream('acme'), [org('acme'), toolless('acme', 'acme-bad'), oldShape('acme', 'acme-old')]);
    // Before: "access projection stopped" on /ready, and every command waited for a projection that never came.
    const acme = await command('acme', createGroup('g-after'));
    const globex = await command('globex', createGroup('g-other'));
    expect([acme.status, globex.status]).toEqual([201, 201]);

    const facts = ledger.projection.factsOf('acme');
    expect(facts.written(internKey.connector('org', 'c-bad'))).toBe(false); // evolve had written it before throwing
    expect(facts.written(internKey.org('org'))).toBe(true);
    await side.readModel.caughtUp(20_000);

    const ready = await fetch(`${url}/ready`);
    const body = (await ready.json()) as Record<string, unknown>;
    expect(ready.status).toBe(200);
    expect(body.accessProjectionQuarantined).toEqual({ acme: 2 });
    expect(body.readModelQuarantined).toEqual({ access_intervals: { acme: 2 } });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^ledger_quarantined_events\{projection="access"\} 2$/m);
    expect(metrics).toMatch(/^ledger_quarantined_events\{projection="access_intervals"\} 2$/m);
    expect(metrics).toMatch(/^ledger_quarantined_events\{projection="audit_events"\} 0$/m);

    const recorded = readFileSync(accessQuarantinePath(dataDir), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { held: Record<string, unknown> });
    expect(recorded.map((r) => [r.held.tenantId, r.held.eventId, r.held.type])).toEqual([
      ['acme', 'acme-bad', 'ConnectorAdded'],
      ['acme', 'acme-old', 'ConnectorAdded'],
    ]);
    expect(recorded[0]!.held.error).toContain('not iterable');
    expect(recorded[1]!.held.error).toContain('no upcaster for ConnectorAdded from schema version 0');
    expect((await listQuarantined(side.readModel.client, 'access_intervals')).map((h) => h.eventId)).toEqual(['acme-bad', 'acme-old']);
  }, 60_000);
});

describe("the access projection's quarantine across restarts", () => {
  test('still held after a restart; after a fix, /ready says a rebuild takes what is behind the snapshot, and `rebuild` does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'poison-folds-restart-'));
    try {
      let ledger = await createLedger({ dataDir: dir });
      await ledger.store.append(tenantStream('acme'), [org('acme'), oldShape('acme', 'acme-old'), toolless('acme', 'acme-bad')]);
      await ledger.store.append(tenantStream('globex'), [org('globex')]);
      await ledger.runner.catchUp();
      expect(ledger.projection.quarantine.byTenant()).toEqual({ acme: 2 });
      await ledger.close(); // takes a snapshot past both
      expect(existsSync(join(dir, 'projections', 'access.snapshot'))).toBe(true);

      ledger = await createLedger({ dataDir: dir });
      expect((await ledger.health()).accessProjectionQuarantined).toEqual({ acme: 2 });
      expect((await ledger.health()).accessProjectionRebuild).toBeUndefined();
      await ledger.close();

      UPCASTERS.ConnectorAdded = { 0: (data) => data };
      try {
        ledger = await createLedger({ dataDir: dir });
        const health = await ledger.health();
        expect(health.accessProjectionRebuild).toContain('1 quarantined event(s) before the access snapshot fold with this build: run `ledger rebuild`');
        await ledger.rebuild();
        expect((await ledger.health()).accessProjectionQuarantined).toEqual({ acme: 1 });
        expect((await ledger.health()).accessProjectionRebuild).toBeUndefined();
        expect(ledger.projection.factsOf('acme').written(internKey.connector('org', 'c-old'))).toBe(true);
        expect(ledger.projection.factsOf('globex').written(internKey.org('org'))).toBe(true);
        await ledger.close();
      } finally {
        delete UPCASTERS.ConnectorAdded;
      }
      // The file was started again by the rebuild: only what still fails is in it.
      const lines = readFileSync(accessQuarantinePath(dir), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { held?: { eventId: string } });
      expect(lines.map((l) => l.held?.eventId)).toEqual(['acme-bad']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

test("`ledger quarantine list` (server stopped) prints the interval projection's and the access projection's held events", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'poison-folds-cli-'));
  try {
    const ledger = await createLedger({ dataDir: dir });
    await ledger.store.append(tenantStream('acme'), [org('acme'), toolless('acme', 'acme-bad')]);
    await ledger.runner.catchUp();
    await ledger.close();
    const listed = await runLedger(dir, ['quarantine', 'list']);
    expect(listed.status).toBe(0);
    expect(listed.stderr).toContain('2 event(s) in quarantine');
    const lines = listed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { projection: string; tenantId: string; eventId: string });
    expect(lines.map((l) => [l.projection, l.tenantId, l.eventId])).toEqual([
      ['access_intervals', 'acme', 'acme-bad'],
      ['access', 'acme', 'acme-bad'],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
