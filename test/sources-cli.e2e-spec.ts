import { afterEach, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { startFakeComplianceApi, type FakeComplianceApi } from '@access-ledger/sources';
import { Registry } from 'prom-client';
import { SourceMetrics } from '../apps/api/src/metrics/source-metrics.js';
import { LEDGER_CLI, runLedger } from './support/ledger-cli.js';

const root = resolve(import.meta.dirname, '..');
const dirs: string[] = [];
const fakes: FakeComplianceApi[] = [];
afterEach(async () => {
  for (const f of fakes.splice(0)) await f.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const KEY = 'sk-ant-api01-e2e-secret';
const ORG = 'abcdef01-2345-6789-abcd-ef0123456789';
const SCOPES = ['read:compliance_activities', 'read:compliance_org_data', 'read:compliance_user_data'];

function members(n: number) {
  const actor = { type: 'user_actor', user_id: 'owner', email_address: 'owner@acme.test', ip_address: '192.0.2.1', user_agent: 'x' };
  const base = Date.parse('2026-01-01T00:00:00Z');
  const at = (i: number) => new Date(base + i * 1000).toISOString().replace('.000Z', 'Z');
  const out: Record<string, unknown>[] = [
    { id: 'activity_org', created_at: at(0), organization_uuid: ORG, organization_id: 'org_1', actor, type: 'org_created', organization_name: 'Acme' },
  ];
  for (let i = 1; i <= n; i++) {
    out.push({
      id: `activity_m${i}`,
      created_at: at(i),
      organization_uuid: ORG,
      organization_id: 'org_1',
      actor,
      type: 'org_user_added',
      user_id: `u${i}`,
      email_address: `u${i}@acme.test`,
      role: 'user',
    });
  }
  out.push({ id: 'activity_x', created_at: at(n + 1), organization_uuid: ORG, organization_id: 'org_1', actor, type: 'org_sso_thing_changed' });
  return out;
}

async function setup(n: number, delayMs = 0) {
  const dir = mkdtempSync(join(tmpdir(), 'sources-cli-'));
  dirs.push(dir);
  const api = await startFakeComplianceApi({ keys: { [KEY]: SCOPES, 'sk-ant-api01-dir-only': ['read:compliance_org_data'] }, overlap: 2, delayMs });
  fakes.push(api);
  api.add(members(n));
  const keyFile = join(dir, 'compliance.key');
  writeFileSync(keyFile, `${KEY}\n`, { mode: 0o600 });
  const added = await runLedger(dir, ['sources', 'add', 'compliance-api', '--tenant', 't1', '--key-file', keyFile, '--url', api.url]);
  expect(added.status).toBe(0);
  return { dir, api, keyFile };
}

function eventIds(dir: string): string[] {
  const db = new DatabaseSync(join(dir, 'events.sqlite'), { readOnly: true });
  try {
    return (db.prepare('SELECT id FROM events').all() as { id: string }[]).map((r) => r.id);
  } finally {
    db.close();
  }
}

describe('ledger sources (CLI, fake Compliance API on loopback)', () => {
  test('add, sync --once, status: unmapped types listed, the key never printed nor stored', async () => {
    const { dir } = await setup(50);
    const sync = await runLedger(dir, ['sources', 'sync', '--once', '--page-size', '7']);
    expect(sync.stderr + sync.stdout).not.toContain(KEY);
    expect(sync.status).toBe(0);
    expect(sync.stdout).toMatch(/52 applied \(51 mapped → 51 events, 0 audit only, 1 unmapped, 0 rejected\)/);
    const status = await runLedger(dir, ['sources', 'status']);
    expect(status.stdout).toContain('unmapped org_sso_thing_changed: 1');
    expect(status.stdout).toContain('follow');
    // /metrics: the unmapped type counted, per source and type.
    const registry = new Registry();
    new SourceMetrics(registry, dir);
    const exposition = await registry.metrics();
    expect(exposition).toContain('ledger_source_unmapped_activities{source="compliance-api",type="org_sso_thing_changed"} 1');
    expect(exposition).toContain('ledger_source_activities{source="compliance-api",disposition="mapped"} 51');
    const access = await runLedger(dir, ['access', '-t', 't1', '-o', ORG, '-u', 'u50']);
    expect(access.status).toBe(0);
    // The auditor's check of an event's evidence: the staged activity, verbatim, hashes to the digest on the event.
    const shown = await runLedger(dir, ['sources', 'show-activity', 'activity_m50', '--json']);
    expect(shown.status).toBe(0);
    const activity = JSON.parse(shown.stdout) as { disposition: string; sha256: string; activity: Record<string, unknown> };
    expect(activity).toMatchObject({ disposition: 'mapped', activity: members(50).find((a) => a.id === 'activity_m50') });
    const db = new DatabaseSync(join(dir, 'events.sqlite'), { readOnly: true });
    const evidence = JSON.parse((db.prepare("SELECT metadata FROM events WHERE id = 'ca.activity_m50'").get() as { metadata: string }).metadata).evidence;
    db.close();
    expect(evidence).toEqual({ complianceActivityId: 'activity_m50', complianceActivitySha256: activity.sha256 });
    const text = await runLedger(dir, ['sources', 'show-activity', 'activity_m50']);
    expect(text.stdout.split('\n')[0]).toBe(`activity_m50 (source compliance-api): mapped; sha256 ${activity.sha256}`);
    expect(createHash('sha256').update(text.stdout.split('\n')[1]!, 'utf8').digest('hex')).toBe(activity.sha256);
    const unknown = await runLedger(dir, ['sources', 'show-activity', 'activity_nope']);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('no activity activity_nope staged for source compliance-api');
    // The key is nowhere in the data directory.
    const { execFileSync } = await import('node:child_process');
    const grep = execFileSync('sh', ['-c', `grep -rl '${KEY}' '${dir}' | grep -v compliance.key || true`]).toString();
    expect(grep.trim()).toBe('');
  });

  test('a sync SIGKILLed mid-backfill resumes: nothing lost, nothing doubled', async () => {
    const { dir } = await setup(600, 15);
    const child = spawn(join(root, 'node_modules/.bin/node'), [LEDGER_CLI, '--data-dir', dir, 'sources', 'sync', '--once', '--page-size', '10'], {
      env: { ...process.env, KURRENTDB_URL: '', CLICKHOUSE_URL: '' },
      stdio: 'ignore',
    });
    // Kill it once a few pages are checkpointed.
    for (;;) {
      await new Promise((r) => setTimeout(r, 50));
      try {
        const db = new DatabaseSync(join(dir, 'sources.sqlite'), { readOnly: true });
        const n = (db.prepare('SELECT count(*) AS n FROM activities').get() as { n: number }).n;
        db.close();
        if (n >= 100) break;
      } catch {
        // not created yet
      }
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const resumed = await runLedger(dir, ['sources', 'sync', '--once', '--page-size', '10']);
    expect(resumed.status).toBe(0);
    const ids = eventIds(dir);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => id.startsWith('ca.'))).toHaveLength(601);
  });

  test('sources drift: an out-of-band member is a DriftDetected event and the report lists it (exit 1)', async () => {
    const { dir, api } = await setup(3);
    api.setDirectory({
      organizations: [{ uuid: ORG, name: 'Acme' }],
      users: { [ORG]: [1, 2, 3].map((i) => ({ id: `u${i}`, email_address: `u${i}@acme.test`, role: 'user' })) },
      groups: [],
    });
    expect((await runLedger(dir, ['sources', 'sync', '--once'])).status).toBe(0);
    const clean = await runLedger(dir, ['sources', 'drift']);
    expect(clean.stdout).toMatch(/0 new, 0 resolved, 0 open/);
    expect(clean.status).toBe(0);
    api.setDirectory({
      organizations: [{ uuid: ORG, name: 'Acme' }],
      users: { [ORG]: [1, 2, 3, 9].map((i) => ({ id: `u${i}`, email_address: `u${i}@acme.test`, role: 'user' })) },
      groups: [],
    });
    const drift = await runLedger(dir, ['sources', 'drift']);
    expect(drift.status).toBe(1);
    expect(drift.stdout).toMatch(/1 new, 0 resolved, 1 open/);
    expect(drift.stdout).toMatch(/u9: ledger null, api \{"role":"user","email":"u9@acme.test"\}/);
    expect(eventIds(dir).filter((id) => id.startsWith('drift.'))).toHaveLength(1);
    const status = await runLedger(dir, ['sources', 'status']);
    expect(status.stdout).toMatch(/baseline 20\d\d-/);
  });

  test('a key without the feed scope stops the sync with exit 1 naming read:compliance_activities', async () => {
    const { dir, keyFile } = await setup(3);
    writeFileSync(keyFile, 'sk-ant-api01-dir-only\n');
    const sync = await runLedger(dir, ['sources', 'sync', '--once']);
    expect(sync.status).toBe(1);
    expect(sync.stderr).toMatch(/lacks the scope read:compliance_activities/);
    expect(sync.stderr).not.toContain('dir-only');
    const status = await runLedger(dir, ['sources', 'status']);
    expect(status.stdout).toMatch(/last error: .*read:compliance_activities/);
  });
});
