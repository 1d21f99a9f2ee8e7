import { afterAll, describe, expect, test } from '@jest/globals';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { MerkleFrontier, rootOfLeafHashes } from '../src/merkle.js';
import type { EventToAppend } from '../src/port.js';
import { expectTreeOfEvents, leavesOf } from './support/tree-of-events.js';
import { SqliteEventStore } from '../src/sqlite/sqlite-event-store.js';

/**
 * The append path keeps each stream's frontier in memory and stores only subtrees of ≥ 256 leaves: these check that
 * the stored tree stays the RFC 9162 tree of the events whoever appends (another store on the same file, an append
 * worker, a rolled-back transaction), and that a tree stored with 16-leaf blocks is read as it is.
 */
const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'merkle-frontier-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const file = () => join(dir, `events-${files++}.sqlite`);
const events = (from: number, n: number, prefix = 'e'): EventToAppend[] =>
  Array.from({ length: n }, (_, i) => ({ id: `${prefix}${from + i}`, type: 'T', data: { i: from + i }, metadata: {} }));
const _hex = (s: string) => Buffer.from(s, 'hex');
const appendWorker = join(here, '../../../dist/libs/event-store/src/sqlite/append-worker.js');

describe('the stored tree whoever appends (frontier kept in memory, 256-leaf blocks)', () => {
  test('property: two stores on one file appending in turn across block boundaries keep the tree of the events', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 300 })), { minLength: 1, maxLength: 10 }),
        fc.nat(),
        fc.nat(),
        async (steps, a, b) => {
          const path = file();
          const one = SqliteEventStore.open(path);
          const two = SqliteEventStore.open(path);
          try {
            let n = 0;
            for (const [first, size] of steps) {
              await (first ? one : two).append('s', events(n, size));
              n += size;
            }
            await expectTreeOfEvents(one, 's', a, b);
            await expectTreeOfEvents(two, 's', b, a);
          } finally {
            await one.close();
            await two.close();
          }
        },
      ),
      { numRuns: 15 },
    );
  });

  test('appends in a worker thread between appends on the caller’s thread', async () => {
    if (!existsSync(appendWorker)) throw new Error(`${appendWorker} is missing: run \`npm run build\` (npm test does) before this suite`);
    const store = SqliteEventStore.open(file(), { workerAppendFrom: 300, appendWorkerFile: appendWorker });
    try {
      let n = 0;
      for (const size of [100, 400, 7, 300, 250, 1, 600]) {
        await store.append('s', events(n, size));
        n += size;
      }
      await expectTreeOfEvents(store, 's', 1234, 999);
    } finally {
      await store.close();
    }
  });

  test('a transaction rolled back after the tree grew (a command outside its append) leaves no trace in the next appends', async () => {
    const store = SqliteEventStore.open(file());
    try {
      await store.append('s', events(0, 250));
      // The tree is extended before the command keys are checked; the RangeError rolls everything back.
      await expect(store.append('s', events(250, 20), { commands: [{ key: 'k', first: 0, count: 99, answer: null }] })).rejects.toThrow(RangeError);
      await store.append('s', events(250, 20, 'other'));
      await store.append('s', events(270, 300));
      await expectTreeOfEvents(store, 's', 17, 300);
    } finally {
      await store.close();
    }
  });

  test('a tree stored with 16-leaf blocks (the previous layout) is read as it is; its finer rows are dropped on open', async () => {
    const path = file();
    const old = SqliteEventStore.open(path, { merkle: false });
    await old.append('s', events(0, 1000));
    await old.close();
    // The previous layout, written here with node:crypto: every complete subtree of 16 leaves and up, and the size.
    const leaves = await (async () => {
      const s = SqliteEventStore.open(path, { merkle: false });
      try {
        return await leavesOf(s, 's');
      } finally {
        await s.close();
      }
    })();
    const raw = new DatabaseSync(path);
    const insert = raw.prepare('INSERT INTO merkle_nodes (stream_id, level, idx, hash) VALUES (?, ?, ?, ?)');
    for (let level = 4; 2 ** level <= 1000; level++)
      for (let idx = 0; (idx + 1) * 2 ** level <= 1000; idx++)
        insert.run('s', level, idx, rootOfLeafHashes(leaves.slice(idx * 2 ** level, (idx + 1) * 2 ** level)));
    raw.prepare('INSERT INTO merkle_trees (stream_id, size) VALUES (?, ?)').run('s', 1000);
    const count = (where: string) => (raw.prepare(`SELECT COUNT(*) AS n FROM merkle_nodes WHERE ${where}`).get() as { n: number }).n;
    expect(count('level < 8')).toBe(62 + 31 + 15 + 7);

    const store = SqliteEventStore.open(path);
    try {
      expect(count('level < 8')).toBe(0);
      expect(count('level >= 8')).toBe(3 + 1);
      await expectTreeOfEvents(store, 's', 5, 777);
      await store.append('s', events(1000, 100));
      await expectTreeOfEvents(store, 's', 1050, 1040);
      const f = new MerkleFrontier();
      for (const l of await leavesOf(store, 's')) f.push(l);
      expect(await store.merkle.rootHash('s', 1100)).toBe(f.root().toString('hex'));
    } finally {
      raw.close();
      await store.close();
    }
  });
});
