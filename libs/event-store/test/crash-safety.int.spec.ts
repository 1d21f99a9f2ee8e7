import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteEventStore } from '../src/sqlite/sqlite-event-store.js';

/**
 * Kill -9 a writer at a random moment and check the promise the store makes: every batch whose
 * append resolved is there in full, no batch is there in part, and the chain still verifies.
 * (Power loss is the fsync half of the promise, synchronous = FULL; it cannot be simulated here.)
 */
const here = fileURLToPath(new URL('.', import.meta.url));
const child = join(here, 'append-child.mjs');
const compiled = join(here, '../../../dist/libs/event-store/src/sqlite/sqlite-event-store.js');
const BATCH = 50;
const ROUNDS = 4;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'event-store-crash-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('SQLite event store survives SIGKILL of a writer', () => {
  test.each(Array.from({ length: ROUNDS }, (_, i) => i + 1))(
    'round %i: acknowledged batches are complete, none is partial, the chain verifies',
    async (round) => {
      if (!existsSync(compiled)) throw new Error(`${compiled} is missing: run \`npm run build\` (npm test does) before this suite`);
      const path = join(dir, `crash-${round}.sqlite`);
      const proc = spawn(process.execPath, [child, path, 'tenant-crash', String(BATCH), 'forever'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      proc.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.on('exit', (_code, signal) => resolve(signal)));
      // Wait until it writes, then kill at a random moment 200–800 ms later.
      await new Promise<void>((resolve) => proc.stdout.once('data', () => resolve()));
      await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 600));
      proc.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');

      const acked = out
        .split('\n')
        .filter((line) => line.startsWith('ack '))
        .map((line) => Number(line.slice(4)));
      expect(acked.length).toBeGreaterThan(0);
      const lastAcked = Math.max(...acked);

      const store = SqliteEventStore.open(path);
      try {
        const perBatch = new Map<number, number>();
        for await (const e of store.readStream('tenant-crash')) {
          const batch = (e.data as { batch: number }).batch;
          perBatch.set(batch, (perBatch.get(batch) ?? 0) + 1);
        }
        for (let b = 0; b <= lastAcked; b++) expect([b, perBatch.get(b)]).toEqual([b, BATCH]);
        for (const [b, count] of perBatch) {
          expect([b, count]).toEqual([b, BATCH]); // never a partial batch
          expect(b).toBeLessThanOrEqual(lastAcked + 1); // at most the batch that committed before its ack was printed
        }
        const verification = await store.verifyChain('tenant-crash');
        expect(verification).toMatchObject({ valid: true, events: perBatch.size * BATCH });
        // And the store takes appends again after the crash.
        const next = await store.append('tenant-crash', [{ id: `after-crash-${round}`, type: 'Recovered', data: {}, metadata: {} }], {
          expectedRevision: perBatch.size * BATCH - 1,
        });
        expect(next.events[0]!.prevHash).toBe(verification.head);
      } finally {
        await store.close();
      }
    },
  );
});
