import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGroup, post, startTestServer, type TestServer } from '../apps/api/test/support/test-server.js';

/**
 * A full disk answers 507 problem+json storage-full with Retry-After, /ready says why, and when
 * space returns the next write succeeds at once with nothing acknowledged lost. On a real 30 MB tmpfs when this
 * process may mount one (root); otherwise (or with LEDGER_TEST_NO_TMPFS=1) on SQLite's own size limit (max_page_count),
 * a real SQLITE_FULL too.
 */
const root = mkdtempSync(join(tmpdir(), 'ledger-full-'));
let mounted = false;
try {
  if (process.env['LEDGER_TEST_NO_TMPFS']) throw new Error('no mount');
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=30m', 'tmpfs', root], { stdio: 'ignore' });
  mounted = true;
} catch {
  mounted = false;
}
afterAll(() => {
  if (mounted) execFileSync('umount', [root]);
  rmSync(root, { recursive: true, force: true });
});

/** Writes zeros into `path` until the file system refuses (ENOSPC); returns the bytes written. */
function fill(path: string): number {
  const fd = openSync(path, 'w');
  let written = 0;
  try {
    for (const size of [1 << 20, 1 << 12, 1 << 9]) {
      const chunk = Buffer.alloc(size);
      for (;;) {
        try {
          written += writeSync(fd, chunk);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

async function expectStorageFull(response: Response): Promise<void> {
  expect(response.status).toBe(507);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(response.headers.get('retry-after')).toBe('30');
  const body = (await response.json()) as { type: string; detail: string };
  expect(body.type).toBe('urn:access-ledger:problem:storage-full');
  expect(body.detail).toMatch(/full/);
}

describe(`storage full (${mounted ? '30 MB tmpfs' : 'SQLite max_page_count'})`, () => {
  it('writes answer 507 storage-full with Retry-After, /ready 503 says why; once space is back writes succeed and nothing acknowledged is lost', async () => {
    const dataDir = join(root, 'data');
    const acknowledged: string[] = [];
    let server: TestServer = await startTestServer({
      dataDir,
      rateLimit: { perSecond: 0, burst: 1 },
      ...(mounted ? {} : { ledgerOptions: { sqlite: { maxPageCount: 60 } } }),
    });
    const send = async (groupId: string, extra: Record<string, unknown> = {}): Promise<Response> => {
      const response = await post(`${server.url}/v1/tenants/acme/commands`, server.key, { ...createGroup(groupId), ...extra });
      if (response.status === 201) acknowledged.push(groupId);
      return response;
    };
    for (let i = 0; i < 20; i++) expect((await send(`before-${i}`)).status).toBe(201);
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);

    const filler = join(root, 'filler');
    if (mounted) fill(filler);
    let full: Response | undefined;
    for (let i = 0; i < 2000 && full === undefined; i++) {
      const response = await send(`while-full-${i}`);
      if (response.status !== 201) full = response;
    }
    expect(full).toBeDefined();
    await expectStorageFull(full!);
    // Still full: every write answers the same, an idempotency key too.
    await expectStorageFull(await send('still-full'));
    await expectStorageFull(await send('still-full-keyed', { idempotencyKey: 'full-1' }));
    const ready = await fetch(`${server.url}/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { detail: string }).detail).toMatch(/Storage full \(.*events\.sqlite\)/);
    expect(await (await fetch(`${server.url}/metrics`)).text()).toMatch(/^ledger_storage_full 1$/m);

    if (mounted) rmSync(filler);
    else {
      // SQLite's limit is the connection's: "freeing space" is a restart without it.
      await server.close({ keepDataDir: true });
      server = await startTestServer({ dataDir, rateLimit: { perSecond: 0, burst: 1 } });
    }
    expect((await send('after-1')).status).toBe(201);
    expect((await send('after-keyed', { idempotencyKey: 'full-1' })).status).toBe(201);
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    // Every acknowledged command is stored, once; nothing else is.
    expect(await server.events()).toBe(acknowledged.length);
    await server.close({ keepDataDir: true });
  });
});
