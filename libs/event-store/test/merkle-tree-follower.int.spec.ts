import { afterAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { CheckpointKeyring, makeCheckpoint } from '../src/checkpoints.js';
import type { EventToAppend } from '../src/port.js';
import { MerkleTreeError, MerkleTreeFollower } from '../src/sqlite/merkle-tree.js';
import { expectTreeOfEvents, leavesOf, rootOf } from './support/tree-of-events.js';
import { SqliteEventStore, type SqliteEventStoreOptions } from '../src/sqlite/sqlite-event-store.js';

/**
 * The tree writer that follows the log (docs/proofs.md § 7): the events commit first, a worker thread hashes their
 * chain hashes, the store writes the rows it hands back. These check the guarantees: the tree is always the RFC 9162
 * tree of a prefix of the events and, once caught up (caughtUp, close), of all of them; the lag is bounded; proofs and
 * checkpoints cover only leaves the tree has; a crash in between costs the next open a catch-up, never a leaf.
 */
const here = dirname(fileURLToPath(import.meta.url));
const treeWorker = join(here, '../../../dist/libs/event-store/src/sqlite/merkle-tree-worker.js');
const appendWorker = join(here, '../../../dist/libs/event-store/src/sqlite/append-worker.js');
const child = join(here, 'tree-lag-child.mjs');
const dir = mkdtempSync(join(tmpdir(), 'merkle-follower-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const file = () => join(dir, `events-${files++}.sqlite`);
const events = (from: number, n: number, prefix = 'e'): EventToAppend[] =>
  Array.from({ length: n }, (_, i) => ({ id: `${prefix}${from + i}`, type: 'T', data: { i: from + i }, metadata: {} }));
const _hex = (s: string) => Buffer.from(s, 'hex');
/** A store whose tree follows the log; `lazy`: its tree writer hands nothing back unless asked (caughtUp, close, the lag bound). */
function open(path: string, options: SqliteEventStoreOptions & { lazy?: boolean } = {}): SqliteEventStore {
  if (!existsSync(treeWorker)) throw new Error(`${treeWorker} is missing: run \`npm run build\` (npm test does) before this suite`);
  const { lazy, ...rest } = options;
  return SqliteEventStore.open(path, {
    merkleWorkerFile: treeWorker,
    ...(lazy ? { merkleFlushMs: 3_600_000, merkleFlushLeaves: 1e9 } : {}),
    ...rest,
  });
}

const storedSize = (path: string, stream: string): number => {
  const raw = new DatabaseSync(path, { readOnly: true });
  try {
    return (raw.prepare('SELECT size FROM merkle_trees WHERE stream_id = ?').get(stream) as { size: number } | undefined)?.size ?? 0;
  } finally {
    raw.close();
  }
};

describe('the Merkle tree follows the log (a tree writer of its own, off the append path)', () => {
  test('SIGKILL after appends committed and before the tree took them: the next open catches the tree up, the root is the one built from scratch', async () => {
    const path = file();
    const proc = spawn(process.execPath, [child, path, 'tenant-crash', '300', '7'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.on('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve) => proc.stdout.once('data', () => resolve()));
    proc.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(out.trim()).toBe('acked 2100 2100');
    // Committed, and not in the stored tree.
    expect(storedSize(path, 'tenant-crash')).toBe(0);

    const store = open(path);
    try {
      const leaves = await leavesOf(store, 'tenant-crash');
      expect(leaves).toHaveLength(2100);
      expect(await store.merkle.treeSize('tenant-crash')).toBe(2100);
      expect(await store.merkle.rootHash('tenant-crash', 2100)).toBe(rootOf(leaves, 2100));
      // And it goes on from there.
      await store.append('tenant-crash', events(0, 400, 'after'));
      await store.merkle.caughtUp();
      await expectTreeOfEvents(store, 'tenant-crash', 2222, 2345);
    } finally {
      await store.close();
    }
  });

  test('the lag stays within merkleMaxLag under a burst of appends, sequential and concurrent', async () => {
    const store = open(file(), { lazy: true, merkleMaxLag: 1000 });
    try {
      let n = 0;
      let maxLag = 0;
      for (let i = 0; i < 40; i++) {
        await store.append('s', events(n, 130));
        n += 130;
        maxLag = Math.max(maxLag, store.merkleLag);
        expect(store.merkleLag).toBeLessThanOrEqual(1000);
      }
      expect(maxLag).toBeGreaterThan(500); // it did lag: the bound, not an eager writer, kept it there
      // Concurrent appends to several streams: each waits for the tree when it finds it too far behind.
      const lags: number[] = [];
      await Promise.all(
        Array.from({ length: 30 }, async (_, i) => {
          await store.append(`s${i % 3}`, events(i * 100, 100, `c${i}-`));
          lags.push(store.merkleLag);
        }),
      );
      expect(Math.max(...lags)).toBeLessThanOrEqual(1000 + 30 * 100);
      await store.merkle.caughtUp();
      expect(store.merkleLag).toBe(0);
      await expectTreeOfEvents(store, 's', 77, 4321);
      for (const s of ['s0', 's1', 's2']) await expectTreeOfEvents(store, s, 5, 600);
    } finally {
      await store.close();
    }
  });

  test('checkpoints and proofs cover only the leaves the tree has taken', async () => {
    const store = open(file(), { lazy: true });
    const ring = CheckpointKeyring.open(join(dir, `keys-${files}`));
    try {
      await store.append('s', events(0, 300));
      await store.merkle.caughtUp();
      await store.append('s', events(300, 200));
      expect(store.merkleLag).toBe(200);
      const leaves = await leavesOf(store, 's');
      const cp = (await makeCheckpoint(store, ring, 't', 's'))!;
      expect(cp.treeSize).toBe(300);
      expect(cp.rootHash).toBe(rootOf(leaves, 300));
      let head = '';
      for await (const e of store.readStream('s', { fromRevision: 299, maxCount: 1 })) head = e.hash;
      expect(cp.chainHead).toBe(head);
      await expect(store.merkle.inclusionProof('s', 350, 351)).rejects.toThrow(RangeError);
      await expect(store.merkle.rootHash('s', 500)).rejects.toThrow(RangeError);
      await store.merkle.caughtUp();
      expect((await makeCheckpoint(store, ring, 't', 's'))!.treeSize).toBe(500);
    } finally {
      await store.close();
    }
  });

  test('close() drains: the stored tree has every acknowledged event when it returns, large appends (append worker) included', async () => {
    const path = file();
    const store = open(path, { lazy: true, workerAppendFrom: 500, appendWorkerFile: appendWorker });
    await store.append('s', events(0, 234));
    await store.append('s', events(234, 1000));
    await store.append('s', events(1234, 3));
    expect(store.merkleLag).toBe(1237);
    await store.close();
    expect(storedSize(path, 's')).toBe(1237);
    // What close() left is the tree itself: opening finds nothing to catch up, and the root is the built one.
    const again = open(path);
    try {
      await expectTreeOfEvents(again, 's', 999, 1100);
    } finally {
      await again.close();
    }
  });

  test('events deleted under the tree are refused, by appends in this thread and in the append worker', async () => {
    const path = file();
    const store = open(path, { workerAppendFrom: 100, appendWorkerFile: appendWorker });
    try {
      await store.append('s', events(0, 300));
      await store.merkle.caughtUp();
      const raw = new DatabaseSync(path);
      raw.prepare('DELETE FROM events WHERE stream_id = ? AND revision >= 290').run('s');
      raw.close();
      await expect(store.append('s', events(0, 5, 'x'))).rejects.toThrow(MerkleTreeError);
      await expect(store.append('s', events(0, 150, 'y'))).rejects.toThrow(/events were deleted/);
      // The tree remembers: it still covers 300 events, and its proofs over the deleted ones fail.
      expect(storedSize(path, 's')).toBe(300);
    } finally {
      await store.close();
    }
  });

  test('a tree writer that never answers: the wait ends with its error instead of lasting for ever, close() returns, the next open catches the tree up', async () => {
    const path = file();
    // Loads and takes messages, answers none (what a worker file cut short, or stuck, would do).
    const silent = join(dir, 'silent-tree-worker.mjs');
    writeFileSync(silent, "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => {});\n");
    const store = SqliteEventStore.open(path, { merkleWorkerFile: silent, merkleAnswerTimeoutMs: 200 });
    try {
      await store.append('s', events(0, 50));
      const started = performance.now();
      await expect(store.merkle.caughtUp()).rejects.toThrow(/did not answer within 200 ms/);
      expect(performance.now() - started).toBeLessThan(5_000);
      // A writer started again for the next append: silent too, given up the same way.
      await store.append('s', events(50, 30));
      await expect(store.merkle.caughtUp()).rejects.toThrow(/did not answer/);
    } finally {
      await store.close();
    }
    expect(storedSize(path, 's')).toBe(0);
    const again = open(path);
    try {
      await expectTreeOfEvents(again, 's', 17, 61);
      expect(await again.merkle.treeSize('s')).toBe(80);
    } finally {
      await again.close();
    }
  });

  test('an extension the store refused (the stored tree had moved) does not take with it the leaves hashed onto it since', async () => {
    // What the property below once found: a writer hands over 0→104, hashes 227…299 on top of it, then hears that
    // 0→104 was not written (another store's tree had reached 227); those 72 leaves must still reach the tree.
    const path = file();
    const lazy = open(path, { lazy: true });
    const inline = SqliteEventStore.open(path, { merkleWorkerFile: join(dir, 'no-such-worker.js') });
    const raw = new DatabaseSync(path, { readOnly: true });
    const chain = async (from: number, to: number) => {
      const hashes: string[] = [];
      for await (const e of lazy.readStream('s')) hashes.push(e.hash);
      return hashes.slice(from, to);
    };
    try {
      const follower = new MerkleTreeFollower(raw);
      await lazy.append('s', events(0, 104));
      follower.take('s', 0, await chain(0, 104));
      expect(follower.extensions().map(({ base, size }) => [base, size])).toEqual([[0, 104]]);
      await inline.append('s', events(104, 123));
      expect(storedSize(path, 's')).toBe(227);
      await lazy.append('s', events(227, 72));
      follower.take('s', 227, await chain(227, 299));
      follower.forget('s');
      const [extension, ...more] = follower.extensions();
      expect(more).toEqual([]);
      expect([extension?.base, extension?.size]).toEqual([227, 299]);
    } finally {
      raw.close();
      await inline.close();
      await lazy.close();
    }
  });

  test('property: two stores on one file, their tree writers following the same log, end with the tree of the events', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 300 }), fc.boolean()), { minLength: 1, maxLength: 10 }),
        fc.nat(),
        fc.nat(),
        async (steps, a, b) => {
          const path = file();
          // Small flushes, so that each writer's extensions often find the stored tree moved by the other.
          const one = open(path, { merkleFlushLeaves: 64, merkleFlushMs: 1 });
          const two = open(path, { merkleFlushLeaves: 100, merkleFlushMs: 2 });
          try {
            let n = 0;
            for (const [first, size, wait] of steps) {
              const store = first ? one : two;
              await store.append('s', events(n, size));
              n += size;
              if (wait) await new Promise((resolve) => setTimeout(resolve, 3));
            }
            await one.merkle.caughtUp();
            await two.merkle.caughtUp();
            await expectTreeOfEvents(one, 's', a, b);
            await expectTreeOfEvents(two, 's', b, a);
          } finally {
            await one.close();
            await two.close();
          }
        },
      ),
      { numRuns: 20 },
    );
  });
});
