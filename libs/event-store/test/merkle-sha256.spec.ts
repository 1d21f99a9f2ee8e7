import { describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { bytesOfWords, HASHES_FOUR_AT_ONCE, leafWords, leafWordsMany, nodeWords, nodeWordsMany, wordsOfBytes, wordsOfHex } from '../src/merkle-sha256.js';
import { WordFrontier } from '../src/sqlite/merkle-tree.js';
import { MerkleFrontier } from '../src/merkle.js';

/** The reference: node:crypto (OpenSSL) over the same bytes. */
const sha = (...parts: Uint8Array[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
const words = (bytes: Uint8Array) => {
  const w = new Int32Array(8);
  wordsOfBytes(bytes, w, 0);
  return w;
};
const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

describe('SHA-256 of the tree inputs on words (the append path), against node:crypto', () => {
  test('property: a leaf is SHA-256(0x00 || 32 bytes), from the bytes and from their hex', () => {
    fc.assert(
      fc.property(bytes32, (b) => {
        const expected = sha(Buffer.from([0]), b);
        const w = words(b);
        leafWords(w, 0, w, 0);
        expect(bytesOfWords(w, 0).equals(expected)).toBe(true);
        const fromHex = new Int32Array(16);
        wordsOfHex(Buffer.from(b).toString('hex'), fromHex, 8);
        leafWords(fromHex, 8, fromHex, 0);
        expect(bytesOfWords(fromHex, 0).equals(expected)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  test('property: a node is SHA-256(0x01 || left || right), also when the output overwrites an input', () => {
    fc.assert(
      fc.property(bytes32, bytes32, (l, r) => {
        const expected = sha(Buffer.from([1]), l, r);
        const both = new Int32Array(24);
        wordsOfBytes(l, both, 0);
        wordsOfBytes(r, both, 8);
        nodeWords(both, 0, both, 8, both, 16);
        expect(bytesOfWords(both, 16).equals(expected)).toBe(true);
        nodeWords(both, 0, both, 8, both, 8); // into the right input
        expect(bytesOfWords(both, 8).equals(expected)).toBe(true);
        wordsOfBytes(r, both, 8);
        nodeWords(both, 0, both, 8, both, 0); // into the left input
        expect(bytesOfWords(both, 0).equals(expected)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  test('a known value: the leaf of 32 zero bytes is SHA-256 of 33 zero bytes (as sha256sum prints it)', () => {
    const zero = new Int32Array(8);
    leafWords(zero, 0, zero, 0);
    expect(bytesOfWords(zero, 0).toString('hex')).toBe(sha(Buffer.alloc(33)).toString('hex'));
    expect(bytesOfWords(zero, 0).toString('hex')).toBe('7f9c9e31ac8256ca2f258583df262dbc7d6f68f2a03043d5c99a4ae5a7396ce9');
  });

  test('hex: upper and lower case read alike; anything but 64 hex digits is a RangeError', () => {
    const b = Buffer.from('00ff10aB'.repeat(8), 'hex');
    const w = new Int32Array(8);
    wordsOfHex('00FF10ab'.repeat(8), w, 0);
    expect(bytesOfWords(w, 0).equals(b)).toBe(true);
    for (const bad of ['0'.repeat(63), '0'.repeat(65), `${'0'.repeat(63)}g`, `${'0'.repeat(63)}\u0130`, `\u0100${'0'.repeat(63)}`, `${'0'.repeat(62)} 0`])
      expect(() => wordsOfHex(bad, w, 0)).toThrow(RangeError);
    expect(() => wordsOfBytes(new Uint8Array(31), w, 0)).toThrow(RangeError);
  });

  test('property: four at a time (WebAssembly SIMD) gives the same leaves and nodes, for any count', () => {
    expect(HASHES_FOUR_AT_ONCE).toBe(true);
    fc.assert(
      fc.property(fc.array(bytes32, { minLength: 1, maxLength: 11 }), (list) => {
        const src = new Int32Array(list.length * 8);
        for (const [i, b] of list.entries()) wordsOfBytes(b, src, i * 8);
        const leaves = new Int32Array(list.length * 8);
        leafWordsMany(src, 0, list.length, leaves, 0);
        for (const [i, b] of list.entries()) expect(bytesOfWords(leaves, i * 8).equals(sha(Buffer.from([0]), b))).toBe(true);
        const pairs = Math.floor(list.length / 2);
        const nodes = new Int32Array(pairs * 8);
        nodeWordsMany(src, 0, pairs, nodes, 0);
        for (let p = 0; p < pairs; p++) expect(bytesOfWords(nodes, p * 8).equals(sha(Buffer.from([1]), list[2 * p]!, list[2 * p + 1]!))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  test('property: a frontier grown by batches (level by level) has the root and completed subtrees of one grown leaf by leaf', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 6 }), (batches) => {
        const total = batches.reduce((a, b) => a + b, 0);
        const leaves = new Int32Array(total * 8);
        for (let i = 0; i < total; i++) wordsOfBytes(createHash('sha256').update(`leaf ${i}`).digest(), leaves, i * 8);
        const one = new WordFrontier();
        const many = new WordFrontier();
        const reference = new MerkleFrontier();
        const seen = { one: [] as string[], many: [] as string[] };
        let at = 0;
        for (const size of batches) {
          many.pushMany(leaves.slice(at * 8, (at + size) * 8), size, (level, idx, w, o) =>
            seen.many.push(`${level}/${idx}/${bytesOfWords(w, o).toString('hex')}`),
          );
          for (let i = at; i < at + size; i++) {
            one.push(leaves, i * 8, (level, idx, w, o) => seen.one.push(`${level}/${idx}/${bytesOfWords(w, o).toString('hex')}`));
            reference.push(bytesOfWords(leaves, i * 8));
          }
          at += size;
          const r1 = new Int32Array(8);
          const r2 = new Int32Array(8);
          one.rootInto(r1, 0);
          many.rootInto(r2, 0);
          expect(bytesOfWords(r2, 0).toString('hex')).toBe(reference.root().toString('hex'));
          expect(bytesOfWords(r1, 0).toString('hex')).toBe(reference.root().toString('hex'));
          expect(many.size).toBe(at);
          expect(many.depth).toBe(one.depth);
        }
        expect([...seen.many].sort()).toEqual([...seen.one].sort());
      }),
      { numRuns: 40 },
    );
  });
});
