import { afterEach, describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ledger } from '@access-ledger/ledger';
import { ComplianceApiClient, SourceAuthError, SourcesStore, startFakeComplianceApi, syncOnce, type FakeComplianceApi } from '../src/index.js';
import { ORG, activityHistory, commandHistory } from './fixtures.js';

const dirs: string[] = [];
const closers: (() => Promise<void> | void)[] = [];
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sources-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const KEY = 'sk-ant-api01-test-secret-key';
const ALL = ['read:compliance_activities', 'read:compliance_org_data', 'read:compliance_user_data'];

async function setup(fake: FakeComplianceApi, dir = dataDir()) {
  const ledger = await Ledger.open({ dataDir: dir });
  const store = new SourcesStore(join(dir, 'sources.sqlite'));
  closers.push(
    () => ledger.close(),
    () => store.close(),
  );
  store.add({ name: 'claude', kind: 'compliance-api', tenantId: 't1', baseUrl: fake.url, keyFile: '/dev/null' });
  const client = new ComplianceApiClient({ baseUrl: fake.url, apiKey: KEY, sleep: async () => {}, backoffMs: 1 });
  return { ledger, store, client, dir };
}

async function commandsLedger() {
  const ledger = await Ledger.open({ dataDir: dataDir() });
  closers.push(() => ledger.close());
  for (const body of commandHistory()) {
    const outcome = await ledger.executeCommand('t1', body);
    if (outcome.kind !== 'appended') throw new Error(`${JSON.stringify(body)} → ${JSON.stringify(outcome)}`);
  }
  return ledger;
}

/** Effective access (or the not-found message) of every member at an instant, without the explanation. */
async function accessOf(ledger: Ledger, at: number) {
  const out: Record<string, unknown> = {};
  for (const user of ['olivia', 'uma', 'max']) {
    try {
      out[user] = await ledger.queries.memberAccess('t1', ORG, user, { at });
    } catch (error) {
      out[user] = (error as Error).message;
    }
  }
  return out;
}

async function fake(): Promise<FakeComplianceApi> {
  const f = await startFakeComplianceApi({ keys: { [KEY]: ALL, 'sk-ant-api01-feed-less': ['read:compliance_org_data'] }, overlap: 1 });
  closers.push(() => f.close());
  return f;
}

describe('Compliance API source (fake server on loopback)', () => {
  test('backfill through duplicates across pages, 429 bursts and 5xx: nothing lost, nothing doubled, same access as the commands (R61)', async () => {
    const api = await fake();
    const { activities, malformed } = activityHistory();
    api.add([...activities, ...malformed]);
    api.fail({ status: 429, retryAfter: '0' }, { status: 429 }, { status: 503 }, { status: 500 });
    const { ledger, store, client } = await setup(api);
    const report = await syncOnce(store, 'claude', client, ledger, { pageSize: 3 });
    expect(client.retries.count).toBe(4);
    expect(report.duplicates).toBeGreaterThan(0); // overlap 1: each page repeats one activity
    // A second pass (follow) re-reads the top and stores nothing twice.
    const again = await syncOnce(store, 'claude', client, ledger, { pageSize: 3, lookbackMs: 365 * 86_400_000 });
    expect(again.staged).toBe(0);

    const events = ledger.store.readAll();
    const ids: string[] = [];
    for await (const e of events) ids.push(e.id);
    expect(new Set(ids).size).toBe(ids.length);
    const expected = commandHistory().length;
    expect(ids.filter((id) => id.startsWith('ca.'))).toHaveLength(expected);

    const status = store.status('claude')!;
    expect(status.phase).toBe('follow');
    expect(status.unmappedTypes).toEqual({ org_brand_new_thing_happened: 1 });
    expect(status.byDisposition.audit).toBe(1);
    // Malformed: no id, no created_at, a mapped type lacking a field it needs — each rejected with its reason.
    const reasons = store.rejections('claude').map((r) => r.reason);
    expect(reasons).toHaveLength(5);
    expect(reasons.find((r) => r.startsWith('refused by the ledger') && r.includes('role'))).toBeDefined();
    expect(reasons.find((r) => r.startsWith('refused by the ledger') && r.includes('ghost'))).toBeDefined();
    expect(reasons).toEqual(
      expect.arrayContaining(['activity has no id', 'activity created_at is missing or not an ISO-8601 instant', 'org_user_added: missing email_address']),
    );
    // The non-access activity is kept verbatim.
    expect(JSON.parse(store.activity('claude', 'activity_chat_1')!.json)).toEqual(activities.find((a) => a.id === 'activity_chat_1'));

    // Same effective access at every instant of the history (and between them) as the same history through commands.
    const viaCommands = await commandsLedger();
    const end = await accessOf(ledger, Date.parse('2026-02-05T09:00:00Z'));
    expect((end.uma as { builtInRole: string }).builtInRole).toBe('admin');
    expect((end.max as { capabilities: Record<string, unknown> }).capabilities.web_search).toEqual(expect.objectContaining({ granted: false }));
    const instants = activities.map((a) => Date.parse(a.created_at as string));
    for (const at of [...instants, ...instants.map((t) => t + 1), Date.parse('2026-01-01T00:00:00Z')]) {
      expect(await accessOf(ledger, at)).toEqual(await accessOf(viaCommands, at));
    }
  });

  test('every event carries the digest of its activity, kept verbatim in sources.sqlite, with source compliance-api', async () => {
    const api = await fake();
    const { activities } = activityHistory();
    api.add(activities);
    const { ledger, store, client } = await setup(api);
    await syncOnce(store, 'claude', client, ledger, { pageSize: 50 });
    const found = [];
    for await (const e of ledger.store.readAll()) if (e.id === 'ca.activity_added_uma') found.push(e);
    expect(found).toHaveLength(1);
    expect(found[0]!.metadata.source).toBe('compliance-api');
    // The auditor's check: the staged text parses to the activity as the API sent it, and hashes to the digest.
    const staged = store.activity('claude', 'activity_added_uma')!;
    expect(JSON.parse(staged.json)).toEqual(activities.find((a) => a.id === 'activity_added_uma'));
    expect(found[0]!.metadata.evidence).toEqual({
      complianceActivityId: 'activity_added_uma',
      complianceActivitySha256: createHash('sha256').update(staged.json, 'utf8').digest('hex'),
    });
    expect(found[0]!.metadata.occurredAt).toBe('2026-02-01T10:02:00.000Z');
  });

  test('a sync stopped mid-backfill resumes at its checkpoint: nothing lost, nothing doubled', async () => {
    const api = await fake();
    const { activities } = activityHistory();
    api.add(activities);
    const { ledger, store, client } = await setup(api);
    await expect(syncOnce(store, 'claude', client, ledger, { pageSize: 2, stopAfterPages: 2 })).rejects.toThrow(/stopped after 2 pages/);
    expect(store.status('claude')!.phase).toBe('backfill');
    const before = api.requests.count;
    await syncOnce(store, 'claude', client, ledger, { pageSize: 2 });
    // Resumed at the stored cursor: the first request of the second run is not the top of the feed.
    const stopped = store.get('claude');
    expect(api.requests.urls[before]).toMatch(/after_id=activity_/);
    expect(stopped!.phase).toBe('follow');
    const ids: string[] = [];
    for await (const e of ledger.store.readAll()) ids.push(e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(commandHistory().length);
  });

  test('an activity visible late (after newer ones were taken) is ingested at its own created_at (R61)', async () => {
    const api = await fake();
    const { activities } = activityHistory();
    const late = activities.find((a) => a.id === 'activity_role_uma_admin')!;
    api.add(activities.filter((a) => a !== late));
    api.add([late], { hidden: true });
    const { ledger, store, client } = await setup(api);
    await syncOnce(store, 'claude', client, ledger, { pageSize: 4 });
    const t = Date.parse(late.created_at as string) + 1;
    expect(((await ledger.queries.memberAccess('t1', ORG, 'uma', { at: t })) as { builtInRole: string }).builtInRole).toBe('user');
    api.reveal();
    const follow = await syncOnce(store, 'claude', client, ledger, { pageSize: 4, lookbackMs: 365 * 86_400_000 });
    expect(follow.staged).toBe(1);
    expect(((await ledger.queries.memberAccess('t1', ORG, 'uma', { at: t })) as { builtInRole: string }).builtInRole).toBe('admin');
  });

  test('small batches applied while the next is checked: a refused activity does not take down a later one referring to its batch', async () => {
    const api = await fake();
    const { activities } = activityHistory();
    api.add(activities);
    const { ledger, store, client } = await setup(api);
    // Batches of two: the batch holding the group's creation also holds a refused activity (below), and the batches
    // after it (members added to the group) are checked before that batch's remainder is written.
    const bad = {
      ...activities.find((a) => a.id === 'activity_added_max')!,
      id: 'activity_bad_seat',
      created_at: '2026-02-02T08:59:00Z',
      user_id: 'eve',
      email_address: 'eve@acme.test',
      role: 'emperor',
    };
    api.add([bad]);
    const report = await syncOnce(store, 'claude', client, ledger, { pageSize: 5, batchSize: 2 });
    expect(store.rejections('claude').map((r) => r.activityId)).toEqual(['activity_bad_seat']);
    expect(store.rejections('claude')[0]!.reason).toMatch(/^refused by the ledger: data\.role /);
    expect(report.byDisposition.rejected).toBe(1);
    expect(report.byDisposition.mapped).toBe(
      activities.filter((a) => !['claude_chat_created', 'org_brand_new_thing_happened'].includes(a.type as string)).length,
    );
    // Same access as through commands, at the end of the history.
    const viaCommands = await commandsLedger();
    const at = Date.parse('2026-02-05T09:00:00Z');
    expect(await accessOf(ledger, at)).toEqual(await accessOf(viaCommands, at));
  });

  test('401 and 403 stop the source with a clear error naming the missing scope, never the key', async () => {
    const api = await fake();
    api.add(activityHistory().activities);
    const { ledger, store } = await setup(api);
    const noScope = new ComplianceApiClient({ baseUrl: api.url, apiKey: 'sk-ant-api01-feed-less' });
    const error = await syncOnce(store, 'claude', noScope, ledger).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceAuthError);
    expect((error as Error).message).toMatch(/lacks the scope read:compliance_activities/);
    expect((error as Error).message).not.toContain('feed-less');
    const wrong = new ComplianceApiClient({ baseUrl: api.url, apiKey: 'sk-ant-api01-nope' });
    const e401 = await syncOnce(store, 'claude', wrong, ledger).catch((e: unknown) => e);
    expect((e401 as SourceAuthError).status).toBe(401);
    expect((e401 as Error).message).not.toContain('nope');
  });
});

/**
 * The same sync with staging and the pending activities in worker threads (the compiled `staging-worker.js` and
 * `pending-worker.js`, which the CLI and the server use; from the sources, as here, both run in the caller's thread
 * unless told where the workers are).
 */
describe('Compliance API source, staging and pending activities in worker threads', () => {
  const compiled = join(import.meta.dirname, '../../../dist/libs/sources/src');
  const workers = { stagingWorkerFile: join(compiled, 'staging-worker.js'), pendingWorkerFile: join(compiled, 'pending-worker.js') };

  test('stopped mid-backfill, resumed at the checkpoint, a refused activity among small batches: nothing lost, nothing doubled, same access', async () => {
    const api = await fake();
    const { activities } = activityHistory();
    const bad = {
      ...activities.find((a) => a.id === 'activity_added_max')!,
      id: 'activity_bad_seat',
      created_at: '2026-02-02T08:59:00Z',
      user_id: 'eve',
      email_address: 'eve@acme.test',
      role: 'emperor',
    };
    api.add([...activities, bad]);
    const { ledger, store, client } = await setup(api);
    await expect(syncOnce(store, 'claude', client, ledger, { ...workers, pageSize: 2, stopAfterPages: 2 })).rejects.toThrow(/stopped after 2 pages/);
    expect(store.status('claude')!.phase).toBe('backfill');
    const before = api.requests.count;
    const progress: string[] = [];
    const report = await syncOnce(store, 'claude', client, ledger, { ...workers, pageSize: 2, batchSize: 2, onProgress: (p) => progress.push(p.phase) });
    expect(api.requests.urls[before]).toMatch(/after_id=activity_/);
    expect(progress).toContain('backfill');
    expect(progress).toContain('apply');
    expect(store.status('claude')!).toMatchObject({ phase: 'follow', pending: 0 });
    expect(store.rejections('claude').map((r) => r.activityId)).toEqual(['activity_bad_seat']);
    expect(store.rejections('claude')[0]!.reason).toMatch(/^refused by the ledger: data\.role /);
    expect(report.byDisposition.rejected).toBe(1);
    const ids: string[] = [];
    for await (const e of ledger.store.readAll()) ids.push(e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(commandHistory().length);
    const viaCommands = await commandsLedger();
    const at = Date.parse('2026-02-05T09:00:00Z');
    expect(await accessOf(ledger, at)).toEqual(await accessOf(viaCommands, at));
  });

  test('a progress callback that throws stops the staging worker at a page boundary, with its error', async () => {
    const api = await fake();
    api.add(activityHistory().activities);
    const { ledger, store, client } = await setup(api);
    const stop = new Error('stopping (test)');
    let pages = 0;
    const error = await syncOnce(store, 'claude', client, ledger, {
      ...workers,
      pageSize: 2,
      onProgress: () => {
        if (++pages === 2) throw stop;
      },
    }).catch((e: unknown) => e);
    expect(error).toBe(stop);
    expect(store.status('claude')!.phase).toBe('backfill');
    await syncOnce(store, 'claude', client, ledger, { ...workers, pageSize: 2 });
    const ids: string[] = [];
    for await (const e of ledger.store.readAll()) ids.push(e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(commandHistory().length);
  });

  test('401 and 403 from the worker are the same SourceAuthError, naming the scope, never the key', async () => {
    const api = await fake();
    api.add(activityHistory().activities);
    const { ledger, store } = await setup(api);
    const noScope = new ComplianceApiClient({ baseUrl: api.url, apiKey: 'sk-ant-api01-feed-less' });
    const error = await syncOnce(store, 'claude', noScope, ledger, workers).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceAuthError);
    expect((error as SourceAuthError).scope).toBe('read:compliance_activities');
    expect((error as Error).message).not.toContain('feed-less');
    const wrong = new ComplianceApiClient({ baseUrl: api.url, apiKey: 'sk-ant-api01-nope' });
    const e401 = await syncOnce(store, 'claude', wrong, ledger, workers).catch((e: unknown) => e);
    expect((e401 as SourceAuthError).status).toBe(401);
  });
});
