import { hash } from 'node:crypto';

/**
 * The Merkle tree of a stream, hashed as RFC 9162 § 2.1.1 says:
 *
 *   MTH({})        = SHA-256()
 *   MTH({d(0)})    = SHA-256(0x00 || d(0))                       (a leaf)
 *   MTH(D[n])      = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])) (k: the largest power of two smaller than n)
 *
 * The leaves are the stream's events in chain order (leaf i = revision i), and the leaf bytes d(i) are the 32 raw
 * bytes of the event's chain hash (`hash`, hex-decoded). The chain hash covers the event's stream, revision, id, type,
 * data, metadata and the previous event's hash (chain.ts), so a leaf commits to all of that, and an auditor recomputes
 * it from the event alone. Inclusion proofs (§ 2.1.3) and consistency proofs (§ 2.1.4) are computed here from any
 * source of subtree hashes (`SubtreeHashes`), and verified by the algorithms of §§ 2.1.3.2 and 2.1.4.2.
 * docs/proofs.md says all of it in prose; test/proofs-independent-verifier.spec.ts reimplements it from there.
 */

const LEAF_PREFIX = Buffer.from([0x00]);

/** SHA-256(0x00 || leaf bytes). */
export function merkleLeafHash(leafBytes: Uint8Array): Buffer {
  return hash('sha256', Buffer.concat([LEAF_PREFIX, leafBytes], 1 + leafBytes.length), 'buffer') as unknown as Buffer;
}

/** Scratch buffers for the hash inputs: hashing is synchronous, so one of each per thread is enough (no allocation per hash). */
const LEAF_INPUT = Buffer.alloc(33);
const NODE_INPUT = Buffer.alloc(65, 0x01);

/** The leaf hash of an event: SHA-256(0x00 || the 32 bytes of its chain hash). */
export function leafHashOfChainHash(chainHashHex: string): Buffer {
  if (chainHashHex.length !== 64 || LEAF_INPUT.write(chainHashHex, 1, 'hex') !== 32)
    throw new RangeError(`not a chain hash (64 hex digits): ${chainHashHex.slice(0, 70)}`);
  return hash('sha256', LEAF_INPUT, 'buffer') as unknown as Buffer;
}

/** SHA-256(0x01 || left || right). */
export function merkleNodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== 32 || right.length !== 32) throw new RangeError('a Merkle node joins two 32-byte hashes');
  NODE_INPUT.set(left, 1);
  NODE_INPUT.set(right, 33);
  return hash('sha256', NODE_INPUT, 'buffer') as unknown as Buffer;
}

/** MTH of the empty tree: SHA-256 of nothing. */
export const EMPTY_TREE_HASH = (hash('sha256', Buffer.alloc(0), 'buffer') as unknown as Buffer).toString('hex');

/** The largest power of two smaller than n (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[start:end]) for 0 ≤ start < end ≤ the tree size; `start` is always a multiple of the split it comes from. */
export type SubtreeHashes = (start: number, end: number) => Buffer;

/** The root of the perfect tree over these leaf hashes (any count ≥ 1), by the same recursion as MTH. */
export function rootOfLeafHashes(leaves: readonly Buffer[], start = 0, end = leaves.length): Buffer {
  const n = end - start;
  if (n === 1) return leaves[start]!;
  const k = splitPoint(n);
  return merkleNodeHash(rootOfLeafHashes(leaves, start, start + k), rootOfLeafHashes(leaves, start + k, end));
}

/** RFC 9162 § 2.1.3.1, PATH(m, D[n]): the audit path of leaf `index` in the tree of the first `size` leaves. */
export function inclusionPath(index: number, size: number, mth: SubtreeHashes): Buffer[] {
  if (!Number.isInteger(index) || !Number.isInteger(size) || index < 0 || index >= size) throw new RangeError(`leaf ${index} is not in a tree of ${size}`);
  const out: Buffer[] = [];
  const path = (m: number, start: number, end: number): void => {
    const n = end - start;
    if (n === 1) return;
    const k = splitPoint(n);
    if (m < k) {
      path(m, start, start + k);
      out.push(mth(start + k, end));
    } else {
      path(m - k, start + k, end);
      out.push(mth(start, start + k));
    }
  };
  path(index, 0, size);
  return out;
}

/** RFC 9162 § 2.1.4.1, PROOF(m, D[n]) = SUBPROOF(m, D[n], true), for 0 < m ≤ n (m = n: the empty proof). */
export function consistencyPath(first: number, second: number, mth: SubtreeHashes): Buffer[] {
  if (!Number.isInteger(first) || !Number.isInteger(second) || first < 1 || first > second)
    throw new RangeError(`no consistency proof from a tree of ${first} to a tree of ${second}`);
  const out: Buffer[] = [];
  const subproof = (m: number, start: number, end: number, complete: boolean): void => {
    const n = end - start;
    if (m === n) {
      if (!complete) out.push(mth(start, end));
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      subproof(m, start, start + k, complete);
      out.push(mth(start + k, end));
    } else {
      subproof(m - k, start + k, end, false);
      out.push(mth(start, start + k));
    }
  };
  subproof(first, 0, second, true);
  return out;
}

/** RFC 9162 § 2.1.3.2: whether `path` proves the leaf with `leafHash` at `index` in the tree of `size` with `root`. */
export function verifyInclusion(index: number, size: number, leafHash: Uint8Array, path: readonly Uint8Array[], root: Uint8Array): boolean {
  if (!Number.isInteger(index) || !Number.isInteger(size) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = leafHash;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = merkleNodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = merkleNodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && Buffer.from(r).equals(root);
}

/**
 * RFC 9162 § 2.1.4.2: whether `path` proves the tree of `first` leaves with `firstRoot` a prefix of the tree of `second`
 * leaves with `secondRoot`. first = second: the path must be empty and the roots equal.
 */
export function verifyConsistency(first: number, second: number, firstRoot: Uint8Array, secondRoot: Uint8Array, path: readonly Uint8Array[]): boolean {
  if (!Number.isInteger(first) || !Number.isInteger(second) || first < 1 || first > second) return false;
  if (first === second) return path.length === 0 && Buffer.from(firstRoot).equals(secondRoot);
  if (path.length === 0) return false;
  const nodes: Uint8Array[] = (first & (first - 1)) === 0 ? [firstRoot, ...path] : [...path];
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Uint8Array = nodes[0]!;
  let sr: Uint8Array = nodes[0]!;
  for (const c of nodes.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = merkleNodeHash(c, fr);
      sr = merkleNodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = merkleNodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && Buffer.from(fr).equals(firstRoot) && Buffer.from(sr).equals(secondRoot);
}

/**
 * A tree built leaf by leaf in O(log n) memory: the roots of its perfect subtrees, largest first (the "frontier").
 * `root()` is MTH of every leaf pushed so far. `ledger verify --against` and the bench build trees from scratch with it,
 * from the events alone, trusting nothing stored.
 */
export class MerkleFrontier {
  /** Perfect-subtree roots, largest (leftmost) first, with their sizes. */
  readonly #hashes: Buffer[] = [];
  readonly #sizes: number[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(leafHash: Buffer): void {
    let h = leafHash;
    let s = 1;
    while (this.#sizes.length > 0 && this.#sizes[this.#sizes.length - 1] === s) {
      this.#sizes.pop();
      h = merkleNodeHash(this.#hashes.pop()!, h);
      s *= 2;
    }
    this.#hashes.push(h);
    this.#sizes.push(s);
    this.#size++;
  }

  /** MTH of the leaves so far: the perfect subtrees folded right to left. */
  root(): Buffer {
    if (this.#hashes.length === 0) return Buffer.from(EMPTY_TREE_HASH, 'hex');
    let r = this.#hashes[this.#hashes.length - 1]!;
    for (let i = this.#hashes.length - 2; i >= 0; i--) r = merkleNodeHash(this.#hashes[i]!, r);
    return r;
  }
}
