import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createGroup, post, startTestServer } from '../apps/api/test/support/test-server.js';

/**
 * A second process appending to the same tenant (`ledger import` while the server runs) never
 * makes a command without If-Match see a conflict; a command with a stale If-Match still gets its 409.
 */
const root = resolve(import.meta.dirname, '..');
const child = join(root, 'test/support/import-child.mjs');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('a second writer on the same tenant', () => {
  it('commands without If-Match all land (zero 409) while another process imports in a loop; a stale If-Match answers 409', async () => {
    if (!existsSync(join(root, 'dist/libs/ledger/src/ledger.js'))) throw new Error('run `npm run build` (npm test does) before this suite');
    const dataDir = mkdtempSync(join(tmpdir(), 'ledger-second-writer-'));
    dirs.push(dataDir);
    const server = await startTestServer({ dataDir, rateLimit: { perSecond: 0, burst: 1 } });
    /** 400 commands without If-Match, 8 at a time; the answers' statuses counted; seconds taken. */
    const commands = async (label: string): Promise<{ statuses: Record<number, number>; seconds: number }> => {
      const statuses = new Map<number, number>();
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < 400) {
            const i = next++;
            const response = await post(`${server.url}/v1/tenants/acme/commands`, server.key, createGroup(`${label}-${i}`));
            statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
            await response.arrayBuffer();
          }
        }),
      );
      return { statuses: Object.fromEntries(statuses), seconds: (performance.now() - started) / 1000 };
    };
    const alone = await commands('alone');
    expect(alone.statuses).toEqual({ 201: 400 });
    const importer = spawn(join(root, 'node_modules/.bin/node'), [child, dataDir, 'acme', '20', 'forever'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let acks = 0;
    importer.stdout.setEncoding('utf8').on('data', (chunk: string) => (acks += chunk.split('\n').filter((l) => l.startsWith('ack ')).length));
    const exited = new Promise<void>((done) => importer.on('exit', () => done()));
    try {
      // Wait until the importer writes, so every command below races it.
      for (const deadline = Date.now() + 20_000; acks === 0 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
      expect(acks).toBeGreaterThan(0);
      const ackedBefore = acks;
      const { statuses, seconds } = await commands('raced');
      const ackedDuring = acks - ackedBefore;
      process.stdout.write(
        `second writer: 400 commands in ${seconds.toFixed(2)} s (${Math.round(400 / seconds)}/s; alone ${Math.round(400 / alone.seconds)}/s) while the importer acknowledged ${ackedDuring} batches of 20 events\n`,
      );
      expect(statuses).toEqual({ 201: 400 });
      expect(importer.exitCode).toBeNull(); // the importer kept going too: its conflicts are retried as well
      expect(ackedDuring).toBeGreaterThan(1);

      const stale = await post(`${server.url}/v1/tenants/acme/commands`, server.key, createGroup('stale'), { 'if-match': '"0"' });
      expect(stale.status).toBe(409);
      expect(((await stale.json()) as { type: string }).type).toBe('urn:access-ledger:problem:concurrency-conflict');
    } finally {
      importer.kill('SIGKILL');
      await exited;
      await server.close({ keepDataDir: true });
    }
  }, 120_000);
});
