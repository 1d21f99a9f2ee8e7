import { describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { consistencyPath, EMPTY_TREE_HASH, inclusionPath, MerkleFrontier, merkleLeafHash, verifyConsistency, verifyInclusion } from '../src/merkle.js';

/** The naive reference: RFC 9162 § 2.1.1, § 2.1.3.1 and § 2.1.4.1 transcribed literally over the whole leaf list. */
const sha = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
const k = (n: number) => 2 ** Math.ceil(Math.log2(n) - 1);
function mth(d: Buffer[]): Buffer {
  if (d.length === 0) return sha();
  if (d.length === 1) return sha(Buffer.from([0]), d[0]!);
  const s = k(d.length);
  return sha(Buffer.from([1]), mth(d.slice(0, s)), mth(d.slice(s)));
}
function path(m: number, d: Buffer[]): Buffer[] {
  if (d.length === 1) return [];
  const s = k(d.length);
  return m < s ? [...path(m, d.slice(0, s)), mth(d.slice(s))] : [...path(m - s, d.slice(s)), mth(d.slice(0, s))];
}
function subproof(m: number, d: Buffer[], b: boolean): Buffer[] {
  if (m === d.length) return b ? [] : [mth(d)];
  const s = k(d.length);
  return m <= s ? [...subproof(m, d.slice(0, s), b), mth(d.slice(s))] : [...subproof(m - s, d.slice(s), false), mth(d.slice(0, s))];
}
const leavesOf = (n: number) => Array.from({ length: n }, (_, i) => createHash('sha256').update(`leaf ${i}`).digest());
const naiveSource = (d: Buffer[]) => (a: number, b: number) => mth(d.slice(a, b));

describe('RFC 9162 Merkle tree (issue 14)', () => {
  test('the empty tree hashes to SHA-256 of nothing, a leaf to SHA-256(0x00 || bytes)', () => {
    expect(EMPTY_TREE_HASH).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(merkleLeafHash(Buffer.from('x')).equals(sha(Buffer.from([0]), Buffer.from('x')))).toBe(true);
  });

  test('the frontier gives the naive MTH at every size (1 … 300)', () => {
    const d = leavesOf(300);
    const f = new MerkleFrontier();
    for (let n = 1; n <= 300; n++) {
      f.push(merkleLeafHash(d[n - 1]!));
      expect(f.root().toString('hex')).toBe(mth(d.slice(0, n)).toString('hex'));
    }
  });

  test('property: inclusion paths equal the naive PATH and verify; any other leaf, index or root is refused', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.nat(), fc.nat(), (n, mi, other) => {
        const d = leavesOf(n);
        const m = mi % n;
        const p = inclusionPath(m, n, naiveSource(d));
        expect(p.map((x) => x.toString('hex'))).toEqual(path(m, d).map((x) => x.toString('hex')));
        const root = mth(d);
        const leaf = merkleLeafHash(d[m]!);
        expect(verifyInclusion(m, n, leaf, p, root)).toBe(true);
        const o = other % n;
        if (o !== m) {
          expect(verifyInclusion(o, n, leaf, p, root)).toBe(false);
          expect(verifyInclusion(m, n, merkleLeafHash(d[o]!), p, root)).toBe(false);
        }
        expect(verifyInclusion(m, n, leaf, p, sha(Buffer.from('another root')))).toBe(false);
        if (p.length > 0) expect(verifyInclusion(m, n, leaf, p.slice(0, -1), root)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  test('property: consistency proofs equal the naive PROOF and verify; a changed old leaf is refused', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.nat(), fc.nat(), (n, mi, ci) => {
        const d = leavesOf(n);
        const m = 1 + (mi % n);
        const p = consistencyPath(m, n, naiveSource(d));
        expect(p.map((x) => x.toString('hex'))).toEqual(subproof(m, d, true).map((x) => x.toString('hex')));
        expect(verifyConsistency(m, n, mth(d.slice(0, m)), mth(d), p)).toBe(true);
        // A rewritten history: leaf c of the old tree differs.
        const c = ci % m;
        const forged = [...d];
        forged[c] = createHash('sha256').update('forged').digest();
        expect(verifyConsistency(m, n, mth(forged.slice(0, m)), mth(d), p)).toBe(false);
        if (m < n) expect(verifyConsistency(m, n, mth(d.slice(0, m)), mth(d.slice(0, n - 1)), p)).toBe(n - 1 === m && p.length === 0);
      }),
      { numRuns: 300 },
    );
  });
});
