import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { canonicalJson, eventHash, GENESIS_HASH, sha256Hex, verifyEvents } from '../src/chain.js';
import type { RecordedEvent } from '../src/port.js';

describe('canonical JSON', () => {
  test('sorts keys at every depth and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}');
  });

  test('rejects what is not JSON instead of hashing something else', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(/finite/);
    expect(() => canonicalJson([Number.POSITIVE_INFINITY])).toThrow(/finite/);
    expect(() => canonicalJson([1, undefined])).toThrow(/undefined/);
    expect(() => canonicalJson({ at: new Date(0) })).toThrow(/plain object/);
    expect(() => canonicalJson(10n)).toThrow(/not JSON/);
  });

  test('leaves out undefined properties, as JSON.stringify does', () => {
    expect(canonicalJson({ a: 1, correlationId: undefined })).toBe('{"a":1}');
  });

  test('property: equal JSON values have equal canonical text, and the text parses back to the value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
        expect(canonicalJson(JSON.parse(JSON.stringify(value)))).toBe(text);
      }),
    );
  });
});

/** Canonical JSON written out key by key (what canonicalJson did before it took JSON.stringify for ordered values). */
function canonicalReference(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalReference).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalReference(record[k])}`).join(',')}}`;
}

describe('canonical JSON, ordered or not', () => {
  test('property: the same text as written out key by key, whether the keys come sorted, reversed or shuffled', () => {
    const reorder = (value: unknown, how: 'sorted' | 'reversed'): unknown => {
      if (value === null || typeof value !== 'object') return value;
      if (Array.isArray(value)) return value.map((v) => reorder(v, how));
      const keys = Object.keys(value).sort();
      if (how === 'reversed') keys.reverse();
      return Object.fromEntries(keys.map((k) => [k, reorder((value as Record<string, unknown>)[k], how)]));
    };
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalReference(value);
        expect(canonicalJson(value)).toBe(text);
        expect(canonicalJson(reorder(value, 'sorted'))).toBe(text);
        expect(canonicalJson(reorder(value, 'reversed'))).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });

  test('integer-like keys (which objects list first, in numeric order) and undefined values in sorted objects', () => {
    expect(canonicalJson({ 9: 'a', 10: 'b' })).toBe('{"10":"b","9":"a"}');
    expect(canonicalJson({ a: 1, b: undefined, c: { d: undefined } })).toBe('{"a":1,"c":{}}');
    expect(() => canonicalJson({ a: 1, b: [undefined] })).toThrow(/undefined/);
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/finite/);
    expect(() => canonicalJson({ a: { toJSON: () => 1 } })).toThrow(/not JSON/);
  });

  test('a thousand levels (an event stored before the edge limits) are written level by level, as before', () => {
    let deep: unknown = [];
    for (let i = 1; i < 1000; i++) deep = [deep];
    expect(canonicalJson({ a: deep })).toBe(`{"a":${'['.repeat(1000)}${']'.repeat(1000)}}`);
  });
});

describe('verifyEvents', () => {
  const chain = (count: number): RecordedEvent[] => {
    const out: RecordedEvent[] = [];
    let prevHash = GENESIS_HASH;
    for (let revision = 0; revision < count; revision++) {
      const content = { streamId: 's', revision, id: `e${revision}`, type: 'T', data: { revision }, metadata: {} };
      const hash = eventHash(prevHash, content);
      out.push({ ...content, position: 10 + revision, prevHash, hash });
      prevHash = hash;
    }
    return out;
  };

  test('the hash is sha256 of prevHash followed by the canonical event', () => {
    const [first] = chain(1);
    expect(first!.hash).toBe(sha256Hex(GENESIS_HASH + '{"data":{"revision":0},"id":"e0","metadata":{},"revision":0,"streamId":"s","type":"T"}'));
  });

  test('a valid chain reports its length and head', async () => {
    const events = chain(4);
    expect(await verifyEvents('s', events)).toEqual({ streamId: 's', events: 4, head: events[3]!.hash, valid: true });
  });

  test('an edited event is a hash mismatch at its revision; a missing one is a broken link at the next', async () => {
    const edited = chain(4).map((e) => (e.revision === 2 ? { ...e, data: { revision: 99 } } : e));
    expect(await verifyEvents('s', edited)).toMatchObject({
      valid: false,
      events: 2,
      firstBadRevision: 2,
      firstBadPosition: 12,
      reason: expect.stringMatching(/hash mismatch/),
    });
    const gap = chain(4).filter((e) => e.revision !== 1);
    expect(await verifyEvents('s', gap)).toMatchObject({ valid: false, events: 1, firstBadRevision: 2, reason: expect.stringMatching(/broken link/) });
    const moved = chain(3).map((e) => (e.revision === 1 ? { ...e, streamId: 'other' } : e));
    expect(await verifyEvents('s', moved)).toMatchObject({ valid: false, firstBadRevision: 1 });
  });
});
