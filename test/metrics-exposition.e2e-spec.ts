/**
 * /metrics as Prometheus reads it: the whole exposition of a server with the read side, after some writes, checked by
 * `promtool check metrics` (the text format and the naming rules: `_total` only on counters), and the counts that only
 * go up exposed as counters.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeServer, type ComposedServer } from '../apps/api/src/compose.js';
import { ApiKeyStore } from '../apps/api/src/keys/api-key-store.js';
import { SCOPES } from '../apps/api/src/keys/scopes.js';
import { QUIET, testConfig } from '../apps/api/test/support/test-server.js';
import { PROMTOOL_MISSING, promtoolCheckMetrics } from './support/promtool.js';

let server: ComposedServer;
let dataDir: string;
let exposition: string;

const scrape = async () => (await fetch(`${server.url}/metrics`)).text();
const sampleOf = (text: string, series: string) => Number(new RegExp(`^${series} (\\S+)$`, 'm').exec(text)?.[1]);

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'metrics-exposition-'));
  server = await composeServer(testConfig(dataDir), QUIET);
  const key = server.app.get(ApiKeyStore).create({ tenantId: 'acme', scopes: SCOPES }).key;
  const created = await fetch(`${server.url}/v1/tenants/acme/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({
      type: 'CreateOrganization',
      actor: { kind: 'system' },
      payload: { orgId: 'org-1', name: 'Acme', dualSeat: false, provisioningMode: 'invite_only', usageBased: false },
      occurredAt: '2026-03-01T09:00:00.000Z',
    }),
  });
  expect(created.status).toBe(201);
  // The audit projection follows the store: wait until it has taken the event, so the counters are above 0.
  for (let tries = 0; tries < 100; tries++) {
    exposition = await scrape();
    if (sampleOf(exposition, 'ledger_read_model_events_projected_total') >= 1) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});
afterAll(async () => {
  await server?.app.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('/metrics', () => {
  const check = promtoolCheckMetrics('');
  if (check === undefined && !process.env.CI) {
    test.skip(PROMTOOL_MISSING, () => undefined);
  } else {
    test('promtool check metrics accepts the whole exposition (format and naming rules)', () => {
      const result = promtoolCheckMetrics(exposition);
      if (result === undefined) throw new Error(PROMTOOL_MISSING);
      expect(result.output).toBe('');
      expect(result.status).toBe(0);
    });
  }

  test('no gauge is named _total; the by-type Node gauges stay', () => {
    const types = [...exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => ({ name, type }));
    expect(types.filter(({ name, type }) => name!.endsWith('_total') && type !== 'counter')).toEqual([]);
    expect(types).toContainEqual({ name: 'nodejs_active_handles', type: 'gauge' });
  });

  test('the audit projection counts are counters named _total, and they follow the projection', async () => {
    for (const name of ['ledger_read_model_events_projected', 'ledger_read_model_batches_inserted', 'ledger_read_model_insert_errors']) {
      expect(exposition).toContain(`# TYPE ${name}_total counter`);
      expect(exposition).not.toMatch(new RegExp(`^${name} `, 'm'));
    }
    const projected = server.readSide!.readModel.audit.metrics.eventsProjected;
    expect(projected).toBeGreaterThanOrEqual(1);
    // A second scrape adds nothing that was not projected: the counter shows the projection's count, not a sum of scrapes.
    const again = await scrape();
    expect(sampleOf(again, 'ledger_read_model_events_projected_total')).toBe(server.readSide!.readModel.audit.metrics.eventsProjected);
    expect(sampleOf(again, 'ledger_read_model_insert_errors_total')).toBe(0);
  });
});
