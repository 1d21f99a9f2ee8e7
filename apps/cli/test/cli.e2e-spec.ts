import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runLedger } from '../../../test/support/ledger-cli.js';
import { S3RVER_CREDENTIALS, type S3rverProcess, startS3rver } from '../../../test/support/s3rver-process.js';

/**
 * The compiled CLI (`npm run build` first; `npm test` does) run as a child process with Node 24, on a
 * temporary data directory.
 */
const root = resolve(import.meta.dirname, '../../..');
const node = join(root, 'node_modules/.bin/node');
const cli = join(root, 'dist/apps/cli/src/main.js');
let dataDir: string;

function ledger(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(node, [cli, '--data-dir', dataDir, ...args], {
    encoding: 'utf8',
    env: { ...process.env, KURRENTDB_URL: '', CLICKHOUSE_URL: '' },
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const event = (id: string, type: string, data: Record<string, unknown>) =>
  JSON.stringify({ id, type, occurredAt: '2026-01-05T10:00:00.000Z', actor: { kind: 'import' }, source: 'console_import', data });
const org = event('e-org', 'OrganizationCreated', { orgId: 'acme-eng', name: 'Acme Eng', dualSeat: false, provisioningMode: 'invite_only', usageBased: false });
const groups = Array.from({ length: 25 }, (_, i) => event(`e-g${i}`, 'GroupCreated', { groupId: `g-${i}`, name: `Group ${i}`, source: 'manual' }));

beforeAll(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
  dataDir = mkdtempSync(join(tmpdir(), 'ledger-cli-'));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('ledger keys', () => {
  it('create prints a key once, list shows it without the secret, revoke revokes it', () => {
    const created = ledger(
      'keys',
      'create',
      '--tenant',
      'acme',
      '--scopes',
      'commands:write,audit:read',
      '--principal',
      'member:acme-eng/u-ci',
      '--name',
      'ci',
    );
    expect(created.status).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^lk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    const id = key.slice(3, 19);

    const listed = ledger('keys', 'list', '--tenant', 'acme');
    expect(listed.status).toBe(0);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).toContain('audit:read,commands:write');
    expect(listed.stdout).toContain('member:acme-eng/u-ci');
    expect(listed.stdout).not.toContain(key.slice(20));

    expect(ledger('keys', 'revoke', id).status).toBe(0);
    expect(ledger('keys', 'list', '--tenant', 'acme').stdout).toContain('REVOKED');
    expect(ledger('keys', 'revoke', id).status).not.toBe(0);
  });

  it('a key that writes events must name its principal; a bad principal names the choices', () => {
    const missing = ledger('keys', 'create', '--tenant', 'acme', '--scopes', 'events:import');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('--principal is required with scope events:import: system, scim, platform or member:<orgId>/<userId>');
    const bad = ledger('keys', 'create', '--tenant', 'acme', '--scopes', 'commands:write', '--principal', 'member:acme');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('system, scim, platform or member:<orgId>/<userId>');
    const reader = ledger('keys', 'create', '--tenant', 'acme', '--scopes', 'audit:read', '--json');
    expect(reader.status).toBe(0);
    expect(JSON.parse(reader.stdout)).toMatchObject({ principal: { kind: 'system' } });
  });

  it('refuses unknown scopes with a non-zero exit code', () => {
    const r = ledger('keys', 'create', '--tenant', 'acme', '--scopes', 'commands:write,root');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('root');
  });

  it('--help describes each command with its options and an example', () => {
    for (const command of [['keys', 'create'], ['import'], ['verify'], ['serve']]) {
      const help = ledger(...command, '--help');
      expect(help.status).toBe(0);
      expect(help.stdout).toMatch(/Options:/);
      expect(help.stdout).toMatch(/Example/);
    }
  });
});

describe('ledger import and verify', () => {
  it('imports an NDJSON file in batches, reports appended/skipped, and a re-run skips everything', () => {
    const file = join(dataDir, 'history.ndjson');
    writeFileSync(file, `${[org, ...groups].join('\n')}\n`);
    const first = ledger('import', file, '--tenant', 'acme', '--batch', '10', '--json');
    expect(first.stderr).not.toMatch(/error/i);
    expect(first.status).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual(expect.objectContaining({ appended: 26, skipped: 0, lines: 26 }));
    expect(first.stderr).toMatch(/import: \d+\/\d+ bytes/); // stderr is not a TTY: plain progress lines

    const again = ledger('import', file, '--tenant', 'acme', '--batch', '10', '--json');
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual(expect.objectContaining({ appended: 0, skipped: 26 }));
  });

  it('exits non-zero with errors by line number of the file, and stores nothing of the failing batch', () => {
    const file = join(dataDir, 'broken.ndjson');
    const lines = Array.from({ length: 12 }, (_, i) => event(`e-b${i}`, 'GroupCreated', { groupId: `gb-${i}`, name: `B ${i}`, source: 'manual' }));
    lines[7] = '{"id": "e-b7", "type": "GroupCreated"';
    lines[9] = event('e-b9', 'GroupCreated', { groupId: 'gb-9', name: 'B 9', source: 'carrier-pigeon' });
    writeFileSync(file, `${lines.join('\n')}\n`);
    const r = ledger('import', file, '--tenant', 'acme', '--batch', '5', '--json');
    expect(r.status).toBe(2);
    const report = JSON.parse(r.stdout) as { appended: number; errors: { path: string }[] };
    expect(report.appended).toBe(5); // the first batch (lines 1–5) was stored
    expect(report.errors.map((e) => e.path).join(' ')).toMatch(/^line 8\b/);
    expect(r.stderr).toMatch(/line 8/);
  });

  it('verify reports a valid chain, then the first bad position after tampering (exit 1)', () => {
    const ok = ledger('verify', '--tenant', 'acme');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/tenant acme: 31 events, head [0-9a-f]{64}, chain valid/);
    expect(ledger('verify').stdout).toMatch(/tenant acme/);

    // Tamper with one stored event's data behind the ledger's back.
    const db = new DatabaseSync(join(dataDir, 'events.sqlite'));
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
    const table = tables.map((t) => t.name).find((n) => /event/i.test(n))!;
    const columns = (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
    const dataColumn = columns.find((c) => c === 'data' || c === 'data_json')!;
    const positionColumn = columns.find((c) => c === 'position' || c === 'global_position')!;
    const victim = db.prepare(`SELECT ${positionColumn} AS p FROM ${table} ORDER BY ${positionColumn} LIMIT 1 OFFSET 3`).get() as { p: number };
    db.prepare(`UPDATE ${table} SET ${dataColumn} = ? WHERE ${positionColumn} = ?`).run(
      JSON.stringify({ groupId: 'g-evil', name: 'x', source: 'manual' }),
      victim.p,
    );
    db.close();

    const bad = ledger('verify', '--tenant', 'acme');
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(new RegExp(`chain INVALID at position ${victim.p}\\b`));
  });
});

describe('ledger serve', () => {
  it('prints the bootstrap key on a fresh data directory, serves, and exits 0 on SIGTERM', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'ledger-serve-'));
    try {
      const child = spawn(node, [cli, '--data-dir', fresh, 'serve', '--port', '0'], { env: { ...process.env, KURRENTDB_URL: '', CLICKHOUSE_URL: '' } });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
      const deadline = Date.now() + 30_000;
      while (!/listening on (http:\/\/\S+)/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const url = /listening on (http:\/\/\S+)/.exec(out)![1]!;
      const key = /^\s+(lk_\S+)$/m.exec(out)![1]!;
      expect(readFileSync(join(fresh, 'bootstrap-key'), 'utf8').trim()).toBe(key);
      const response = await fetch(`${url}/v1/tenants/demo/integrity`, { headers: { authorization: `Bearer ${key}` } });
      expect(response.status).toBe(200);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it('LOG_FORMAT=json: every line on stdout is one JSON object, the access log’s and the server’s own', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'ledger-serve-json-'));
    try {
      const child = spawn(node, [cli, '--data-dir', fresh, 'serve', '--port', '0'], {
        env: { ...process.env, KURRENTDB_URL: '', CLICKHOUSE_URL: '', LOG_FORMAT: 'json' },
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
      const deadline = Date.now() + 30_000;
      while (!/listening on (http:\/\/[^\s"]+)/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const url = /listening on (http:\/\/[^\s"]+)/.exec(out)![1]!;
      const key = readFileSync(join(fresh, 'bootstrap-key'), 'utf8').trim();
      const response = await fetch(`${url}/v1/tenants/demo/integrity`, { headers: { authorization: `Bearer ${key}`, 'x-request-id': 'json-check' } });
      expect(response.status).toBe(200);
      while (!out.includes('json-check') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const lines = out
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines.some((l) => String(l['msg']).includes(key))).toBe(true); // the bootstrap key, printed once at start
      expect(lines.find((l) => l['requestId'] === 'json-check')).toMatchObject({
        msg: 'request',
        method: 'GET',
        status: 200,
        tenantId: 'demo',
        route: '/v1/tenants/:tenantId/integrity',
      });
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });
});

/** No line of a Node stack trace ("    at fn (file:…)") and no line chDB prints itself. */
function expectNoTrace(r: { stdout: string; stderr: string }): void {
  expect(`${r.stdout}\n${r.stderr}`).not.toMatch(/^\s{4}at /m);
  expect(r.stderr).not.toMatch(/DB::Exception|^Code: \d+/m);
}

describe('no silent empty answers, no stack traces', () => {
  it('verify --tenant with a tenant that has no events: exit 1 naming the tenants there are', () => {
    const r = ledger('verify', '--tenant', 'nope');
    expect(r.status).toBe(1);
    expect(r.stdout).not.toMatch(/chain valid/);
    expect(r.stderr).toBe('ledger: tenant nope has no events in this store; tenants: acme\n');
  });

  it('verify on a data directory without events (a mistyped --data-dir): exit 1 "nothing to verify", naming the directory', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'ledger-empty-'));
    try {
      const r = await runLedger(empty, ['verify']);
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`ledger: no events stored in ${empty} (is --data-dir right?): nothing to verify\n`);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('access: an impossible --at is refused (exit 2) naming the flag; an unknown member or organization exits 1 with one line', () => {
    const badAt = ledger('access', '-t', 'acme', '-o', 'acme-eng', '-u', 'u-1', '--at', '2026-13-01');
    expect(badAt.status).toBe(2);
    expect(badAt.stderr).toMatch(/^ledger: --at: .+\n$/);
    expectNoTrace(badAt);
    const member = ledger('access', '-t', 'acme', '-o', 'acme-eng', '-u', 'nobody');
    expect(member.status).toBe(1);
    expect(member.stderr).toMatch(/^ledger: .*nobody.*\n$/);
    expectNoTrace(member);
    const org = ledger('access', '-t', 'acme', '-o', 'nope', '-u', 'nobody');
    expect(org.status).toBe(1);
    expect(org.stderr).toMatch(/^ledger: .*nope.*\n$/);
    expectNoTrace(org);
  });

  it('serve and demo on a busy port: exit 2 "port … is in use", and demo seeds nothing first', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'ledger-busy-'));
    const blocker = createServer();
    await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', done));
    const port = String((blocker.address() as AddressInfo).port);
    try {
      for (const args of [['serve'], ['demo']]) {
        const r = await runLedger(fresh, [...args, '--port', port]);
        expect(r.status).toBe(2);
        expect(r.stderr).toBe(`ledger: port ${port} is in use on 127.0.0.1; set PORT or --port\n`);
        expectNoTrace(r);
      }
      expect((await runLedger(fresh, ['verify', '--tenant', 'demo'])).stderr).toContain('tenant demo has no events');
    } finally {
      blocker.close();
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it('serve and demo on a data directory another server holds: exit 2 naming the directory, before seeding, without chDB’s own lines', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'ledger-held-'));
    const child = spawn(node, [cli, '--data-dir', fresh, 'serve', '--port', '0'], { env: { ...process.env, KURRENTDB_URL: '', CLICKHOUSE_URL: '' } });
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    try {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const deadline = Date.now() + 30_000;
      while (!/listening on/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const [serve, demo] = await Promise.all([runLedger(fresh, ['serve', '--port', '0']), runLedger(fresh, ['demo', '--port', '0'])]);
      for (const r of [serve, demo]) {
        expect(r.status).toBe(2);
        expect(r.stderr).toMatch(new RegExp(`^ledger: the data directory ${fresh} is in use by another process \\(process ${child.pid} holds `));
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expectNoTrace(r);
      }
      expect(demo.stderr).not.toContain('seed');
      expect((await runLedger(fresh, ['verify', '--tenant', 'demo'])).stderr).toContain('tenant demo has no events');
    } finally {
      child.kill('SIGTERM');
      await exited;
      rmSync(fresh, { recursive: true, force: true });
    }
  });
});

describe('ledger verify-export: exit codes', () => {
  let s3: S3rverProcess;
  const withCredentials = { AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey };
  beforeAll(async () => {
    s3 = await startS3rver({ buckets: ['audit-archive'] });
  });
  afterAll(() => s3?.stop());

  it('a prefix holding no export: exit 1 "nothing to verify", never OK', async () => {
    const r = await runLedger(dataDir, ['verify-export', 's3://audit-archive/typo', '--endpoint', s3.endpoint], withCredentials);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('FAILED: nothing to verify under s3://audit-archive/typo');
    expect(r.stdout).not.toMatch(/^OK/m);
    expectNoTrace(r);
  });

  it('an unknown bucket, missing credentials or a malformed URI: exit 2 saying what to fix', async () => {
    const bucket = await runLedger(dataDir, ['verify-export', 's3://nope-bucket/ledger', '--endpoint', s3.endpoint], withCredentials);
    expect(bucket.status).toBe(2);
    expect(bucket.stderr).toContain(`S3 bucket "nope-bucket" does not exist at ${s3.endpoint}`);
    expectNoTrace(bucket);

    const noCredentials = await runLedger(dataDir, ['verify-export', 's3://audit-archive/ledger', '--endpoint', s3.endpoint], {
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_SESSION_TOKEN: '',
      AWS_PROFILE: '',
      AWS_SHARED_CREDENTIALS_FILE: join(dataDir, 'no-such-credentials'),
      AWS_CONFIG_FILE: join(dataDir, 'no-such-config'),
      AWS_WEB_IDENTITY_TOKEN_FILE: '',
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '',
      AWS_CONTAINER_CREDENTIALS_FULL_URI: '',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    expect(noCredentials.status).toBe(2);
    expect(noCredentials.stderr).toContain('no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE');
    expectNoTrace(noCredentials);

    const uri = await runLedger(dataDir, ['verify-export', 'https://audit-archive/ledger'], withCredentials);
    expect(uri.status).toBe(2);
    expect(uri.stderr).toContain('not an s3:// URI');
  });
});
