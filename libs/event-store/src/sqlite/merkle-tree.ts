import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { leafHashOfChainHash, merkleNodeHash, rootOfLeafHashes, splitPoint, type SubtreeHashes } from '../merkle.js';

/**
 * The stored half of each stream's Merkle tree (issue 14; hashing in merkle.ts). What is kept, so that a proof never
 * recomputes more than one block:
 *
 * - `merkle_nodes (stream_id, level, idx, hash)`: the hash of every *complete* subtree of 2^level leaves, level ≥ 4,
 *   node idx covering leaves [idx·2^level, (idx+1)·2^level). A complete subtree never changes again, so a row is
 *   written once, when its last leaf is appended — in the append's own transaction. Below level 4 nothing is stored:
 *   those hashes are recomputed from at most 16 chain hashes read from `events` (one index range read), which costs
 *   less than storing ≈ 2 rows per event would at every append.
 * - `merkle_trees (stream_id, size)`: how many leaves the stored nodes cover. An append extends from there; a store
 *   whose tree lags its events (a file made before issue 14, or written with the tree off) is caught up on open and by
 *   the next append, from the events' own chain hashes.
 *
 * Per append: two point statements (size read and written), and per completed block of 16 one range read of ≤ 15
 * hashes, 31 SHA-256 and on average two node rows — O(log n) at most, inside the same BEGIN IMMEDIATE … COMMIT.
 */

export const BLOCK_LEVEL = 4;
export const BLOCK = 1 << BLOCK_LEVEL;

export const MERKLE_SCHEMA = `
CREATE TABLE IF NOT EXISTS merkle_nodes (
  stream_id TEXT    NOT NULL,
  level     INTEGER NOT NULL,
  idx       INTEGER NOT NULL,
  hash      BLOB    NOT NULL,
  PRIMARY KEY (stream_id, level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS merkle_trees (
  stream_id TEXT    NOT NULL PRIMARY KEY,
  size      INTEGER NOT NULL
) WITHOUT ROWID;`;

/** The tree and the events disagree in a way no append can mend (events deleted under the tree, a hole in a stream). */
export class MerkleTreeError extends Error {
  override readonly name = 'MerkleTreeError';
}

export interface MerkleStatements {
  readonly size: StatementSync;
  readonly setSize: StatementSync;
  readonly insertNode: StatementSync;
  readonly node: StatementSync;
  readonly chainHashes: StatementSync;
}

export function merkleStatements(db: DatabaseSync): MerkleStatements {
  const chainHashes = db.prepare('SELECT revision, hash FROM events WHERE stream_id = ? AND revision >= ? AND revision < ? ORDER BY revision');
  chainHashes.setReturnArrays(true);
  return {
    size: db.prepare('SELECT size FROM merkle_trees WHERE stream_id = ?'),
    setSize: db.prepare('INSERT INTO merkle_trees (stream_id, size) VALUES (?, ?) ON CONFLICT (stream_id) DO UPDATE SET size = excluded.size'),
    insertNode: db.prepare('INSERT INTO merkle_nodes (stream_id, level, idx, hash) VALUES (?, ?, ?, ?)'),
    node: db.prepare('SELECT hash FROM merkle_nodes WHERE stream_id = ? AND level = ? AND idx = ?'),
    chainHashes,
  };
}

export function storedTreeSize(s: MerkleStatements, streamId: string): number {
  return (s.size.get(streamId) as { size: number } | undefined)?.size ?? 0;
}

/** The chain hashes of revisions [from, to), every one of them, or a MerkleTreeError naming the first missing. */
export function chainHashesOf(s: MerkleStatements, streamId: string, from: number, to: number): string[] {
  if (to <= from) return [];
  const rows = s.chainHashes.all(streamId, from, to) as unknown as [number, string][];
  for (let i = 0; i < to - from; i++) {
    if (rows[i]?.[0] !== from + i) throw new MerkleTreeError(`stream ${streamId}: revision ${from + i} is missing from the events`);
  }
  return rows.map((r) => r[1]);
}

/**
 * Extends the stored tree of `streamId` to cover `hashes`, the chain hashes of revisions firstRevision, …: the new
 * complete subtrees of 16 leaves and up are written. Must run inside the transaction that stores those events.
 */
export function extendTree(s: MerkleStatements, streamId: string, firstRevision: number, hashes: readonly string[]): void {
  const size = storedTreeSize(s, streamId);
  if (size > firstRevision)
    throw new MerkleTreeError(
      `stream ${streamId}: the Merkle tree covers ${size} events but the stream continues at revision ${firstRevision} (events were deleted)`,
    );
  // A lagging tree (made before issue 14, or with the tree off) is caught up from the stored events first.
  const lag = size < firstRevision ? chainHashesOf(s, streamId, size, firstRevision) : [];
  const end = firstRevision + hashes.length;
  const blockStart = size - (size % BLOCK);
  if (end - blockStart >= BLOCK) {
    const before = chainHashesOf(s, streamId, blockStart, size);
    const all = before.length + lag.length === 0 ? hashes : [...before, ...lag, ...hashes];
    const leaves = new Array<Buffer>(end - blockStart);
    const lastBlockEnd = end - (end % BLOCK);
    for (let i = 0; i < lastBlockEnd - blockStart; i++) leaves[i] = leafHashOfChainHash(all[i]!);
    for (let b = blockStart; b + BLOCK <= end; b += BLOCK) {
      insertUp(s, streamId, BLOCK_LEVEL, b / BLOCK, rootOfLeafHashes(leaves, b - blockStart, b - blockStart + BLOCK));
    }
  }
  s.setSize.run(streamId, end);
}

/** Stores a complete node and every parent it completes (a right child completes its parent). */
function insertUp(s: MerkleStatements, streamId: string, level: number, idx: number, hash: Buffer): void {
  let l = level;
  let i = idx;
  let h = hash;
  for (;;) {
    s.insertNode.run(streamId, l, i, h);
    if (i % 2 === 0) return;
    const sibling = s.node.get(streamId, l, i - 1) as { hash: Uint8Array } | undefined;
    if (sibling === undefined) throw new MerkleTreeError(`stream ${streamId}: Merkle node (${l}, ${i - 1}) is missing`);
    h = merkleNodeHash(sibling.hash, h);
    l++;
    i = (i - 1) / 2;
  }
}

/**
 * MTH(D[start:end]) of a stream's tree, from the stored complete subtrees and, below 16 leaves, the chain hashes in
 * `events`. The callers (proofs, roots) ask only for ranges of a tree no larger than the stored one.
 */
export function subtreeHashes(s: MerkleStatements, streamId: string): SubtreeHashes {
  let cachedBlock = -1;
  let cachedLeaves: Buffer[] = [];
  const leavesOfBlock = (block: number, upTo: number): Buffer[] => {
    if (cachedBlock !== block || cachedLeaves.length < upTo - block * BLOCK) {
      cachedLeaves = chainHashesOf(s, streamId, block * BLOCK, upTo).map(leafHashOfChainHash);
      cachedBlock = block;
    }
    return cachedLeaves;
  };
  const mth = (start: number, end: number): Buffer => {
    const n = end - start;
    if (n >= BLOCK && (n & (n - 1)) === 0 && start % n === 0) {
      const level = Math.log2(n);
      const row = s.node.get(streamId, level, start / n) as { hash: Uint8Array } | undefined;
      if (row === undefined) throw new MerkleTreeError(`stream ${streamId}: Merkle node (${level}, ${start / n}) is missing`);
      return Buffer.from(row.hash);
    }
    if (n > BLOCK) {
      const k = splitPoint(n);
      return merkleNodeHash(mth(start, start + k), mth(start + k, end));
    }
    // Within one block of 16 (the recursion never crosses a block boundary below 16 leaves).
    const block = Math.floor(start / BLOCK);
    const leaves = leavesOfBlock(block, end);
    return rootOfLeafHashes(leaves, start - block * BLOCK, end - block * BLOCK);
  };
  return mth;
}

/**
 * Catches the stored tree of every stream up with its events, in transactions of `chunk` events (each one extends
 * from the size the last committed, so an interrupted catch-up resumes). Returns the events added to trees.
 */
export function catchUpTrees(db: DatabaseSync, s: MerkleStatements, chunk = 65_536): number {
  const streams = db.prepare('SELECT stream_id, MAX(revision) + 1 AS n FROM events GROUP BY stream_id').all() as { stream_id: string; n: number }[];
  let added = 0;
  for (const { stream_id: streamId, n } of streams) {
    for (;;) {
      db.exec('BEGIN IMMEDIATE');
      try {
        const size = storedTreeSize(s, streamId);
        // A tree ahead of its stream (events deleted under it) is left as it is: the store still opens (so that
        // `ledger verify` can report), and appends to that stream are refused by extendTree.
        if (size >= n) {
          db.exec('COMMIT');
          break;
        }
        const to = Math.min(n, size + chunk);
        extendTree(s, streamId, size, chainHashesOf(s, streamId, size, to));
        added += to - size;
        db.exec('COMMIT');
      } catch (error) {
        if (db.isTransaction) db.exec('ROLLBACK');
        throw error;
      }
    }
  }
  return added;
}
