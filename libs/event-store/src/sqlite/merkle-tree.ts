import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { splitPoint, type SubtreeHashes } from '../merkle.js';
import { bytesOfWords, leafWords, leafWordsMany, nodeWords, nodeWordsMany, wordsOfBytes, wordsOfHex } from '../merkle-sha256.js';

/**
 * The stored half of each stream's Merkle tree (hashing: merkle.ts, and merkle-sha256.ts on the append path). What is
 * kept, so that a proof never recomputes more than one block of BLOCK leaves:
 *
 * - `merkle_nodes (stream_id, level, idx, hash)`: the hash of every *complete* subtree of 2^level leaves, level ≥
 *   BLOCK_LEVEL (256 leaves and up), node idx covering leaves [idx·2^level, (idx+1)·2^level). A complete subtree never
 *   changes again, so a row is written once, when its last leaf is appended, in the append's own transaction: on
 *   average one row per 128 events. Below BLOCK_LEVEL nothing is stored: a proof recomputes those hashes from at most
 *   256 chain hashes read from `events` (one index range read).
 * - `merkle_trees (stream_id, size)`: how many leaves the tree covers. An append extends from there; a store whose
 *   tree lags its events (written with the tree off, or made before the tree existed) is caught up on open and by the
 *   next append, from the events' own chain hashes. A tree larger than its stream means events were deleted under it:
 *   appends to that stream are refused.
 *
 * The append path keeps each stream's **frontier** in memory (the roots of the perfect subtrees along the right edge,
 * one per set bit of the size, O(log n)): an append hashes its leaves into it and writes only the rows of the subtrees
 * it completes, plus the size. The frontier is a cache of what is stored, never a source of truth: it is used only when
 * it was left by the append that stored the stream's current last event (same size, same last chain hash, and the
 * stored size agrees), and otherwise rebuilt from the stored rows and the chain hashes of the last, incomplete block.
 * So another connection's appends (an append worker, a second process), a rolled-back transaction or a crash cost one
 * rebuild, and can never leave a stale frontier in use.
 *
 * Stores written with 16-leaf blocks (levels 4–7 stored too) are read as they are: their rows of level ≥ 8 are the
 * same hashes; the finer rows are deleted on open (`catchUpTrees`).
 */

export const BLOCK_LEVEL = 8;
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
  readonly dropFinerNodes: StatementSync;
}

export function merkleStatements(db: DatabaseSync): MerkleStatements {
  const chainHashes = db.prepare('SELECT revision, hash FROM events WHERE stream_id = ? AND revision >= ? AND revision < ? ORDER BY revision');
  chainHashes.setReturnArrays(true);
  const node = db.prepare('SELECT hash FROM merkle_nodes WHERE stream_id = ? AND level = ? AND idx = ?');
  node.setReturnArrays(true);
  return {
    size: db.prepare('SELECT size FROM merkle_trees WHERE stream_id = ?'),
    setSize: db.prepare('INSERT INTO merkle_trees (stream_id, size) VALUES (?, ?) ON CONFLICT (stream_id) DO UPDATE SET size = excluded.size'),
    insertNode: db.prepare('INSERT INTO merkle_nodes (stream_id, level, idx, hash) VALUES (?, ?, ?, ?)'),
    node,
    chainHashes,
    dropFinerNodes: db.prepare(`DELETE FROM merkle_nodes WHERE stream_id = ? AND level < ${BLOCK_LEVEL}`),
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

/** The stored hash of the complete subtree (level, idx), as words into `out[at..at+8)`. */
function storedNodeInto(s: MerkleStatements, streamId: string, level: number, idx: number, out: Int32Array, at: number): void {
  const row = s.node.get(streamId, level, idx) as unknown as [Uint8Array] | undefined;
  if (row === undefined) throw new MerkleTreeError(`stream ${streamId}: Merkle node (${level}, ${idx}) is missing`);
  wordsOfBytes(row[0], out, at);
}

/** Called for each subtree of ≥ BLOCK leaves a push completes: its level, index, and where its hash is in `words`. */
export type Completed = (level: number, idx: number, words: Int32Array, at: number) => void;

/**
 * A tree's right edge: the roots of its perfect subtrees, largest (leftmost) first — one per set bit of `size` — as
 * words (8 per hash). `push` hashes a leaf in and merges equal-sized subtrees, as MerkleFrontier does over Buffers.
 */
export class WordFrontier {
  /** 8 words per subtree root; a tree of < 2^53 leaves has at most 53. */
  readonly words = new Int32Array(54 * 8);
  depth = 0;
  size = 0;

  /** Appends the leaf whose hash (already the leaf hash) is at `leaf[at..at+8)`. */
  push(leaf: Int32Array, at: number, completed?: Completed): void {
    const w = this.words;
    let top = this.depth;
    for (let i = 0; i < 8; i++) w[top * 8 + i] = leaf[at + i]!;
    let n = this.size;
    let level = 0;
    while (n % 2 === 1) {
      nodeWords(w, (top - 1) * 8, w, top * 8, w, (top - 1) * 8);
      top--;
      level++;
      n = (n - 1) / 2;
      if (level >= BLOCK_LEVEL && completed !== undefined) completed(level, n, w, top * 8);
    }
    this.depth = top + 1;
    this.size++;
  }

  /**
   * Appends `count` leaves (leaf hashes, 8 words each, at `leaves[0…]`) level by level: the new nodes of each level
   * are hashed together (nodeWordsMany: 4 at a time), the first paired with this frontier's subtree of that level when
   * it has one. Same tree, same completed subtrees as `count` pushes.
   */
  pushMany(leaves: Int32Array, count: number, completed?: Completed): void {
    const n = this.size;
    // Subtree roots left unpaired at each level below `level`, the new frontier's smaller entries.
    const kept: Int32Array[] = [];
    let nodes = leaves;
    let len = count;
    let first = n; // index, at this level, of nodes[0]
    let level = 0;
    while (len > 0) {
      let src = nodes;
      let srcLen = len;
      if (first % 2 === 1) {
        // The frontier's subtree of this level is the left sibling of the first new node: it is the entry after
        // those of the levels above (one per set bit of n above this level).
        const at = popcount(Math.floor(n / 2 ** (level + 1))) * 8;
        src = new Int32Array((len + 1) * 8);
        src.set(this.words.subarray(at, at + 8), 0);
        src.set(nodes.subarray(0, len * 8), 8);
        srcLen = len + 1;
        first--;
      }
      const pairs = Math.floor(srcLen / 2);
      if (srcLen % 2 === 1) kept.push(src.slice((srcLen - 1) * 8, srcLen * 8));
      const next = new Int32Array(pairs * 8);
      nodeWordsMany(src, 0, pairs, next, 0);
      level++;
      first /= 2;
      if (level >= BLOCK_LEVEL && completed !== undefined) for (let i = 0; i < pairs; i++) completed(level, first + i, next, i * 8);
      nodes = next;
      len = pairs;
    }
    // Entries of `level` and above are unchanged; below, the kept roots, largest first.
    const above = popcount(Math.floor(n / 2 ** level));
    let depth = above;
    for (let i = kept.length - 1; i >= 0; i--) this.words.set(kept[i]!, depth++ * 8);
    this.depth = depth;
    this.size = n + count;
  }

  /** MTH of the leaves pushed (≥ 1): the subtree roots folded right to left, into `out[at..at+8)`. */
  rootInto(out: Int32Array, at: number): void {
    if (this.depth === 0) throw new RangeError('the empty tree has no leaves to fold');
    out.set(this.words.subarray((this.depth - 1) * 8, this.depth * 8), at);
    for (let i = this.depth - 2; i >= 0; i--) nodeWords(this.words, i * 8, out, at, out, at);
  }
}

function popcount(n: number): number {
  let bits = 0;
  for (let x = n; x > 0; x = Math.floor(x / 2)) bits += x % 2;
  return bits;
}

/** Scratch for one leaf: its chain hash's words, hashed in place into the leaf hash. */
const LEAF = new Int32Array(8);
/** From this many leaves on, an append hashes them level by level, 4 at a time (WordFrontier.pushMany). */
const MANY = 8;

/** The leaf hashes of these chain hashes, 8 words each. */
function leavesOfChainHashes(hashes: readonly string[]): Int32Array {
  const leaves = new Int32Array(hashes.length * 8);
  for (let i = 0; i < hashes.length; i++) wordsOfHex(hashes[i]!, leaves, i * 8);
  leafWordsMany(leaves, 0, hashes.length, leaves, 0);
  return leaves;
}

/** Pushes the chain hashes, as leaves, into the frontier. */
export function pushChainHashes(f: WordFrontier, hashes: readonly string[], completed?: Completed): void {
  if (hashes.length >= MANY) {
    f.pushMany(leavesOfChainHashes(hashes), hashes.length, completed);
    return;
  }
  for (const h of hashes) {
    wordsOfHex(h, LEAF, 0);
    leafWords(LEAF, 0, LEAF, 0);
    f.push(LEAF, 0, completed);
  }
}

/**
 * The frontier of the stored tree of `size` leaves: the stored rows for its subtrees of ≥ BLOCK leaves, and the last,
 * incomplete block hashed from its chain hashes (≤ 255).
 */
export function frontierFromStore(s: MerkleStatements, streamId: string, size: number): WordFrontier {
  const f = new WordFrontier();
  let start = 0;
  for (let level = 52; level >= BLOCK_LEVEL; level--) {
    const span = 2 ** level;
    if (size - start >= span) {
      storedNodeInto(s, streamId, level, start / span, f.words, f.depth * 8);
      f.depth++;
      start += span;
    }
  }
  f.size = start;
  pushChainHashes(f, chainHashesOf(s, streamId, start, size));
  return f;
}

/** How many streams' frontiers an append path keeps (≈ 1.7 KB each); the least recently appended are dropped first. */
const FRONTIERS_KEPT = 1024;

/** The append side of the trees: extends them inside the transactions that store the events. */
export class MerkleTreeWriter {
  readonly #s: MerkleStatements;
  /** Per stream: the frontier its last append through this writer left, and that append's last chain hash. */
  readonly #frontiers = new Map<string, { readonly frontier: WordFrontier; readonly lastHash: string }>();

  constructor(db: DatabaseSync) {
    this.#s = merkleStatements(db);
  }

  get statements(): MerkleStatements {
    return this.#s;
  }

  /**
   * Extends the stored tree of `streamId` to cover `hashes`, the chain hashes of revisions firstRevision, …, whose
   * predecessor's chain hash is `prevHash` (undefined: not known to the caller). Writes the subtrees of ≥ BLOCK leaves
   * it completes and the new size. Must run inside the transaction that stores those events; when that transaction
   * rolls back, the frontier left here no longer matches the stored stream and is not used again.
   */
  extend(streamId: string, firstRevision: number, prevHash: string | undefined, hashes: readonly string[]): void {
    const s = this.#s;
    const size = storedTreeSize(s, streamId);
    if (size > firstRevision)
      throw new MerkleTreeError(
        `stream ${streamId}: the Merkle tree covers ${size} events but the stream continues at revision ${firstRevision} (events were deleted)`,
      );
    const cached = this.#frontiers.get(streamId);
    // Taken out before anything can throw: a frontier half-way through an extension must not stay cached.
    this.#frontiers.delete(streamId);
    const frontier =
      cached !== undefined && prevHash !== undefined && cached.frontier.size === size && size === firstRevision && cached.lastHash === prevHash
        ? cached.frontier
        : frontierFromStore(s, streamId, size);
    const completed: Completed = (level, idx, words, at) => {
      s.insertNode.run(streamId, level, idx, bytesOfWords(words, at));
    };
    // A lagging tree (written with the tree off, or made before it existed) is caught up from the stored events first.
    if (size < firstRevision) pushChainHashes(frontier, chainHashesOf(s, streamId, size, firstRevision), completed);
    pushChainHashes(frontier, hashes, completed);
    s.setSize.run(streamId, frontier.size);
    if (hashes.length > 0) {
      this.#frontiers.set(streamId, { frontier, lastHash: hashes[hashes.length - 1]! });
      if (this.#frontiers.size > FRONTIERS_KEPT) this.#frontiers.delete(this.#frontiers.keys().next().value!);
    }
  }
}

/**
 * MTH(D[start:end]) of a stream's tree, from the stored complete subtrees and, below BLOCK leaves, the chain hashes in
 * `events`. The callers (proofs, roots) ask only for ranges of the tree of `treeSize` leaves, no larger than the
 * stored one; the leaves of the block a proof reaches into are read and hashed once.
 */
export function subtreeHashes(s: MerkleStatements, streamId: string, treeSize: number): SubtreeHashes {
  let cachedBlock = -1;
  let leaves: Int32Array = new Int32Array(0);
  const out = new Int32Array(8);
  const leavesOfBlock = (block: number): Int32Array => {
    if (cachedBlock !== block) {
      leaves = leavesOfChainHashes(chainHashesOf(s, streamId, block * BLOCK, Math.min((block + 1) * BLOCK, treeSize)));
      cachedBlock = block;
    }
    return leaves;
  };
  const mth = (start: number, end: number): Buffer => {
    if (start < 0 || end > treeSize || end <= start) throw new RangeError(`no subtree [${start}, ${end}) in a tree of ${treeSize}`);
    const n = end - start;
    if (n >= BLOCK && (n & (n - 1)) === 0 && start % n === 0) {
      storedNodeInto(s, streamId, Math.log2(n), start / n, out, 0);
      return bytesOfWords(out, 0);
    }
    if (n > BLOCK) {
      const k = splitPoint(n);
      const left = mth(start, start + k);
      const right = mth(start + k, end);
      const words = new Int32Array(16);
      wordsOfBytes(left, words, 0);
      wordsOfBytes(right, words, 8);
      nodeWords(words, 0, words, 8, out, 0);
      return bytesOfWords(out, 0);
    }
    // Within one block (the recursion never crosses a block boundary below BLOCK leaves).
    const block = Math.floor(start / BLOCK);
    const l = leavesOfBlock(block);
    const f = new WordFrontier();
    for (let i = start - block * BLOCK; i < end - block * BLOCK; i++) f.push(l, i * 8);
    f.rootInto(out, 0);
    return bytesOfWords(out, 0);
  };
  return mth;
}

/**
 * Catches the stored tree of every stream up with its events, in transactions of `chunk` events (each one extends
 * from the size the last committed, so an interrupted catch-up resumes), and deletes the rows below BLOCK_LEVEL that
 * stores written with smaller blocks kept. Returns the events added to trees.
 */
export function catchUpTrees(db: DatabaseSync, writer: MerkleTreeWriter, chunk = 65_536): number {
  const s = writer.statements;
  const streams = db.prepare('SELECT stream_id, MAX(revision) + 1 AS n FROM events GROUP BY stream_id').all() as { stream_id: string; n: number }[];
  let added = 0;
  for (const { stream_id: streamId, n } of streams) {
    let prevHash: string | undefined;
    for (let first = true; ; first = false) {
      db.exec('BEGIN IMMEDIATE');
      try {
        if (first) s.dropFinerNodes.run(streamId);
        const size = storedTreeSize(s, streamId);
        // A tree ahead of its stream (events deleted under it) is left as it is: the store still opens (so that
        // `ledger verify` can report), and appends to that stream are refused by the writer.
        if (size >= n) {
          db.exec('COMMIT');
          break;
        }
        const to = Math.min(n, size + chunk);
        const hashes = chainHashesOf(s, streamId, size, to);
        writer.extend(streamId, size, prevHash, hashes);
        prevHash = hashes[hashes.length - 1];
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

/** A stretch of a stream's tree hashed off the append path, to be stored when the stored tree still has `base` leaves. */
export interface TreeExtension {
  readonly streamId: string;
  /** The stored size this extension continues from; stored anywhere else, it is not written (see the store's apply). */
  readonly base: number;
  readonly size: number;
  /** The complete subtrees of ≥ BLOCK leaves it completes: level, index, hash. */
  readonly nodes: readonly (readonly [level: number, idx: number, hash: Uint8Array])[];
}

/**
 * The tree writer that follows the log (merkle-tree-worker.ts runs it in its own thread): it is given the chain
 * hashes of each committed append, hashes them into the stream's frontier at once, and hands out what the stored tree
 * lacks as `TreeExtension`s, which the store writes (docs/proofs.md § 7). It only reads the file: its frontier
 * starts from the stored tree (rows and the last block's chain hashes), and leaves it was never given (another
 * process's appends, or ones the store could not hand over) are read from the events, which are committed before
 * their hashes arrive here.
 */
export class MerkleTreeFollower {
  readonly #db: DatabaseSync;
  readonly #s: MerkleStatements;
  readonly #streams = new Map<string, { frontier: WordFrontier; base: number; nodes: [number, number, Uint8Array][] }>();

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#s = merkleStatements(db);
  }

  /** Takes the leaves of revisions firstRevision … (hashes: their chain hashes, in order). */
  take(streamId: string, firstRevision: number, hashes: readonly string[]): void {
    let stream = this.#streams.get(streamId);
    if (stream === undefined) {
      // One read transaction: the stored size, its rows and the last block's chain hashes agree with one another.
      this.#db.exec('BEGIN');
      try {
        const size = storedTreeSize(this.#s, streamId);
        stream = { frontier: frontierFromStore(this.#s, streamId, size), base: size, nodes: [] };
      } finally {
        this.#db.exec('COMMIT');
      }
      this.#streams.set(streamId, stream);
    }
    const { frontier, nodes } = stream;
    const completed: Completed = (level, idx, words, at) => {
      nodes.push([level, idx, bytesOfWords(words, at)]);
    };
    try {
      if (frontier.size < firstRevision) pushChainHashes(frontier, chainHashesOf(this.#s, streamId, frontier.size, firstRevision), completed);
      // Leaves the stored tree already had when this stream's frontier was read (another process took them) are not
      // taken twice.
      const skip = frontier.size - firstRevision;
      if (skip < hashes.length) pushChainHashes(frontier, skip > 0 ? hashes.slice(skip) : hashes, completed);
    } catch (error) {
      // A frontier half-way through an extension is never used again: the next leaves start from the stored tree.
      this.#streams.delete(streamId);
      throw error;
    }
  }

  /** What the stored tree lacks of every stream taken since the last call; from then on, assumed stored. */
  extensions(): TreeExtension[] {
    const out: TreeExtension[] = [];
    for (const [streamId, stream] of this.#streams) {
      if (stream.frontier.size === stream.base) continue;
      out.push({ streamId, base: stream.base, size: stream.frontier.size, nodes: stream.nodes });
      stream.base = stream.frontier.size;
      stream.nodes = [];
    }
    return out;
  }

  /**
   * The store did not write this stream's extension (the stored tree had moved): start again from the stored tree.
   * Leaves taken since that extension was handed over and not handed over yet were hashed onto a base the store does
   * not have: they are taken again, from the stored tree and the events, or they would never reach it.
   */
  forget(streamId: string): void {
    const stream = this.#streams.get(streamId);
    this.#streams.delete(streamId);
    if (stream !== undefined && stream.frontier.size > stream.base) this.take(streamId, stream.frontier.size, []);
  }
}
