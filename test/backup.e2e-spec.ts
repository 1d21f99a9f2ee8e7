/**
 * `ledger backup` and `ledger restore` end to end: the compiled CLI as a child process on real data directories
 * (SQLite files), one backup taken while this process keeps appending to the same store.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeSync, closeSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore, tenantStream } from '@access-ledger/event-store';
import { createLedger } from '@access-ledger/ledger';
import { openApiDatabase } from '../apps/api/src/storage/api-database.js';
import { ApiKeyStore } from '../apps/api/src/keys/api-key-store.js';
import { LEDGER_CLI, runLedger } from './support/ledger-cli.js';

let root: string;
const system = { kind: 'system' } as const;
const at = (minute: number) => new Date(Date.UTC(2026, 0, 5, 10, minute)).toISOString();

/** Every event of the store as (position, id), in position order. */
async function idsOf(path: string): Promise<[number, string][]> {
  const store = SqliteEventStore.open(path);
  try {
    const out: [number, string][] = [];
    for await (const e of store.readAll()) out.push([e.position, e.id]);
    return out;
  } finally {
    await store.close();
  }
}

beforeAll(() => {
  if (!existsSync(LEDGER_CLI)) throw new Error(`${LEDGER_CLI} is missing: run npm run build first`);
  root = mkdtempSync(join(tmpdir(), 'backup-e2e-'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('ledger backup / restore', () => {
  let dataDir: string;
  let backupDir: string;
  let key: string;
  let original: [number, string][];

  beforeAll(async () => {
    dataDir = join(root, 'data');
    backupDir = join(root, 'backup');
    const ledger = await createLedger({ dataDir });
    try {
      for (const tenant of ['acme', 'globex']) {
        const created = await ledger.executeCommand(tenant, {
          type: 'CreateOrganization',
          actor: system,
          occurredAt: at(0),
          payload: { orgId: 'org-1', name: tenant, dualSeat: false, provisioningMode: 'invite_only', usageBased: false },
        });
        expect(created.kind).toBe('appended');
      }
      for (let i = 0; i < 50; i++) {
        const role = i === 0 ? 'primary_owner' : 'user';
        const added = await ledger.executeCommand('acme', {
          type: 'AddMember',
          actor: system,
          occurredAt: at(1 + i),
          payload: { orgId: 'org-1', userId: `u${i}`, email: `u${i}@acme.test`, role },
        });
        expect(added).toMatchObject({ kind: 'appended' });
      }
    } finally {
      await ledger.close();
    }
    const db = openApiDatabase(dataDir);
    try {
      key = new ApiKeyStore(db).create({ tenantId: 'acme', scopes: ['audit:read'] }).key;
    } finally {
      db.close();
    }
  });

  test('a backup taken while the store keeps growing is one consistent prefix, its chains verified, with a manifest of digests', async () => {
    const ledger = await createLedger({ dataDir });
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing) {
        const role = written === 0 ? 'primary_owner' : 'user';
        const added = await ledger.executeCommand('globex', {
          type: 'AddMember',
          actor: system,
          occurredAt: at(100 + written),
          payload: { orgId: 'org-1', userId: `g${written}`, email: `g${written}@globex.test`, role },
        });
        if (added.kind !== 'appended') throw new Error(`AddMember → ${JSON.stringify(added)}`);
        written++;
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    const run = await runLedger(dataDir, ['backup', '--to', backupDir, '--json']);
    writing = false;
    await writer;
    await ledger.close();
    expect(run.stderr).not.toContain('Error');
    expect(run.status).toBe(0);
    expect(written).toBeGreaterThan(0);

    const manifest = JSON.parse(run.stdout);
    expect(JSON.parse(readFileSync(join(backupDir, 'manifest.json'), 'utf8'))).toEqual(manifest);
    expect(manifest.files.map((f: any) => f.name)).toEqual(['events.sqlite', 'api.sqlite']);
    for (const f of manifest.files) expect(f.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.eventStore.tenants.map((t: any) => t.tenantId)).toEqual(['acme', 'globex']);
    expect(manifest.eventStore.tenants[0].events).toBe(51);

    // The copy is exactly the first N events of the store as it is now: nothing torn, nothing reordered.
    original = await idsOf(join(dataDir, 'events.sqlite'));
    const copied = await idsOf(join(backupDir, 'events.sqlite'));
    expect(copied.length).toBe(manifest.eventStore.events);
    expect(copied).toEqual(original.slice(0, copied.length));
    // …and the store did move on while the backup ran.
    expect(original.length).toBeGreaterThan(copied.length);
    expect(copied.at(-1)![0]).toBe(manifest.eventStore.headPosition);
    expect(readdirSync(backupDir).sort()).toEqual(['api.sqlite', 'events.sqlite', 'manifest.json']);
  }, 60_000);

  test('restore into a new data directory: the same events and chains, the same API keys', async () => {
    const restored = join(root, 'restored');
    const run = await runLedger(restored, ['restore', '--from', backupDir]);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/restored \d+ events of 2 tenant\(s\)/);
    const manifest = JSON.parse(readFileSync(join(backupDir, 'manifest.json'), 'utf8'));
    expect(await idsOf(join(restored, 'events.sqlite'))).toEqual(original.slice(0, manifest.eventStore.events));
    const verify = await runLedger(restored, ['verify']);
    expect(verify.status).toBe(0);
    expect(verify.stdout).toContain('tenant acme: 51 events');
    const store = SqliteEventStore.open(join(restored, 'events.sqlite'));
    try {
      expect((await store.verifyChain(tenantStream('globex'))).head).toBe(manifest.eventStore.tenants[1].head);
    } finally {
      await store.close();
    }
    const db = openApiDatabase(restored);
    try {
      expect(new ApiKeyStore(db).authenticate(key)?.tenantId).toBe('acme');
    } finally {
      db.close();
    }
    // A second restore onto it is refused: a data directory with an event store is never overwritten…
    const again = await runLedger(restored, ['restore', '--from', backupDir]);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/already holds .*events\.sqlite/);
    // …nor one with state derived from another history (a snapshot would be taken for this history's).
    const leftover = join(root, 'leftover');
    mkdirSync(join(leftover, 'projections'), { recursive: true });
    const onLeftover = await runLedger(leftover, ['restore', '--from', backupDir]);
    expect(onLeftover.status).toBe(2);
    expect(onLeftover.stderr).toContain('already holds projections');
    expect(existsSync(join(leftover, 'events.sqlite'))).toBe(false);
  }, 60_000);

  test('the checkpoint signing keys and signed checkpoints are backed up and restored: the same files, and the restored directory verifies --against the checkpoint signed before the backup', async () => {
    const source = join(root, 'with-checkpoints');
    const ledger = await createLedger({ dataDir: source });
    try {
      await ledger.executeCommand('acme', {
        type: 'CreateOrganization',
        actor: system,
        occurredAt: at(0),
        payload: { orgId: 'org-1', name: 'acme', dualSeat: false, provisioningMode: 'invite_only', usageBased: false },
      });
    } finally {
      await ledger.close();
    }
    expect((await runLedger(source, ['checkpoint'])).status).toBe(0);
    const keyFiles = readdirSync(join(source, 'checkpoint-keys')).sort();
    const [checkpoint] = readdirSync(join(source, 'checkpoints', 'acme'));
    expect(keyFiles).toContain('keys.json');
    expect(checkpoint).toMatch(/\.json$/);

    const backup = join(root, 'with-checkpoints-backup');
    const run = await runLedger(source, ['backup', '--to', backup, '--json']);
    expect(run.status).toBe(0);
    const names = JSON.parse(run.stdout).files.map((f: { name: string }) => f.name);
    expect(names).toEqual(['events.sqlite', ...keyFiles.map((k) => `checkpoint-keys/${k}`), `checkpoints/acme/${checkpoint}`]);

    const restored = join(root, 'with-checkpoints-restored');
    expect((await runLedger(restored, ['restore', '--from', backup])).status).toBe(0);
    for (const name of names.filter((n: string) => n.includes('/'))) expect(readFileSync(join(restored, name))).toEqual(readFileSync(join(source, name)));
    // The restored data directory proves its events against the checkpoint signed before the backup, with the old public keys.
    const against = await runLedger(restored, [
      'verify',
      '--against',
      join(source, 'checkpoints', 'acme', checkpoint!),
      '--keys',
      join(source, 'checkpoint-keys', 'keys.json'),
    ]);
    expect({ status: against.status, stdout: against.stdout }).toEqual({ status: 0, stdout: expect.stringContaining('tenant acme') });
    // A manifest naming a file outside those directories is refused before anything is written.
    const manifestPath = join(backup, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    manifest.files.push({ name: 'checkpoints/../../escape', bytes: 0, sha256: '0'.repeat(64) });
    writeFileSync(manifestPath, JSON.stringify(manifest));
    const escaped = await runLedger(join(root, 'escape-target'), ['restore', '--from', backup]);
    expect(escaped.status).toBe(2);
    expect(existsSync(join(root, 'escape-target', 'events.sqlite'))).toBe(false);
  }, 60_000);

  test('a damaged backup restores nothing (exit 1); an incomplete one (no manifest) is refused (exit 2)', async () => {
    const damaged = join(root, 'damaged');
    mkdirSync(damaged);
    for (const name of readdirSync(backupDir)) writeFileSync(join(damaged, name), readFileSync(join(backupDir, name)));
    const fd = openSync(join(damaged, 'events.sqlite'), 'r+');
    writeSync(fd, Buffer.from([0x5a]), 0, 1, 8192);
    closeSync(fd);
    const target = join(root, 'from-damaged');
    const run = await runLedger(target, ['restore', '--from', damaged]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('the backup is damaged: events.sqlite');
    expect(existsSync(join(target, 'events.sqlite'))).toBe(false);
    expect(existsSync(join(target, 'api.sqlite'))).toBe(false);

    rmSync(join(damaged, 'manifest.json'));
    const incomplete = await runLedger(target, ['restore', '--from', damaged]);
    expect(incomplete.status).toBe(2);
    expect(incomplete.stderr).toContain('no manifest.json');
  }, 60_000);

  test('bad targets: a backup into a non-empty directory, of a directory without an event store → exit 2, nothing written', async () => {
    const full = await runLedger(dataDir, ['backup', '--to', backupDir]);
    expect(full.status).toBe(2);
    expect(full.stderr).toContain('is not empty');
    const empty = join(root, 'empty');
    const nothing = await runLedger(empty, ['backup', '--to', join(root, 'never')]);
    expect(nothing.status).toBe(2);
    expect(nothing.stderr).toContain('no event store');
    expect(existsSync(join(root, 'never'))).toBe(false);
    const help = await runLedger(dataDir, ['backup', '--help']);
    expect(help.stdout).toContain('ledger restore --from');
  }, 60_000);
});
