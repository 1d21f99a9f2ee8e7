import { describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { bytesOfWords, leafWords, nodeWords, wordsOfBytes, wordsOfHex } from '../src/merkle-sha256.js';

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
});
