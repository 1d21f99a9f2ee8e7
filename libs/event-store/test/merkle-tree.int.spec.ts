import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import fc from 'fast-check';
import { leafHashOfChainHash, MerkleFrontier, verifyConsistency, verifyInclusion } from '../src/merkle.js';
import type { EventToAppend } from '../src/port.js';
import { SqliteEventStore } from '../src/sqlite/sqlite-event-store.js';

const dir = mkdtempSync(join(tmpdir(), 'merkle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const file = () => join(dir, `events-${files++}.sqlite`);
const events = (from: number, n: number): EventToAppend[] =>
  Array.from({ length: n }, (_, i) => ({ id: `e${from + i}`, type: 'T', data: { i: from + i }, metadata: {} }));

/** Roots of every prefix, from the stream's chain hashes alone (the frontier trusts nothing stored). */
async function rootsFromEvents(store: SqliteEventStore, stream: string): Promise<string[]> {
  const f = new MerkleFrontier();
  const roots: string[] = [];
  for await (const e of store.readStream(stream)) {
    f.push(leafHashOfChainHash(e.hash));
    roots.push(f.root().toString('hex'));
  }
  return roots;
}
const hex = (s: string) => Buffer.from(s, 'hex');

describe('the stored Merkle tree of a SQLite stream (issue 14)', () => {
  test('property: after appends in random batches, roots and proofs from the store equal the trees built from the events', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 12 }), fc.nat(), fc.nat(), async (batches, a, b) => {
        const store = SqliteEventStore.open(file());
        try {
          let n = 0;
          for (const size of batches) {
            await store.append('s', events(n, size));
            n += size;
            await store.append('other', events(n, 1)); // another stream's tree stays apart
          }
          const roots = await rootsFromEvents(store, 's');
          expect(await store.merkle.treeSize('s')).toBe(n);
          const size = 1 + (a % n);
          const leaf = b % size;
          expect(await store.merkle.rootHash('s', size)).toBe(roots[size - 1]);
          const stored = await store.eventById('s', `e${leaf}`);
          const proof = await store.merkle.inclusionProof('s', leaf, size);
          expect(verifyInclusion(leaf, size, leafHashOfChainHash(stored!.hash), proof.map(hex), hex(roots[size - 1]!))).toBe(true);
          const consistency = await store.merkle.consistencyProof('s', 1 + (b % size), n);
          expect(verifyConsistency(1 + (b % size), n, hex(roots[b % size]!), hex(roots[n - 1]!), consistency.map(hex))).toBe(true);
        } finally {
          await store.close();
        }
      }),
      { numRuns: 25 },
    );
  });

  test('a store written without the tree (merkle: false, as before issue 14) gets it built on open', async () => {
    const path = file();
    const old = SqliteEventStore.open(path, { merkle: false });
    await old.append('s', events(0, 1000));
    await old.close();
    expect((new DatabaseSync(path).prepare('SELECT COUNT(*) AS n FROM merkle_nodes').get() as { n: number }).n).toBe(0);
    const store = SqliteEventStore.open(path);
    try {
      const roots = await rootsFromEvents(store, 's');
      expect(await store.merkle.treeSize('s')).toBe(1000);
      expect(await store.merkle.rootHash('s', 1000)).toBe(roots[999]);
      await store.append('s', events(1000, 7));
      expect(await store.merkle.rootHash('s', 1007)).toBe((await rootsFromEvents(store, 's'))[1006]);
    } finally {
      await store.close();
    }
  });

  test('events deleted under the tree: the next append and proofs over the hole fail instead of extending a rewritten history', async () => {
    const path = file();
    const store = SqliteEventStore.open(path);
    try {
      await store.append('s', events(0, 40));
      const raw = new DatabaseSync(path);
      raw.exec("DELETE FROM events WHERE stream_id = 's' AND revision >= 35");
      raw.exec("DELETE FROM events WHERE stream_id = 's' AND revision = 33");
      raw.close();
      await expect(store.append('s', events(100, 1))).rejects.toThrow(/covers 40 events but the stream continues at revision 35/);
      await expect(store.merkle.inclusionProof('s', 32, 40)).rejects.toThrow(/revision 33 is missing/);
    } finally {
      await store.close();
    }
  });
});
