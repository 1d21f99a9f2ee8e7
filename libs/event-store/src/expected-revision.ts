import type { ExpectedRevision } from './port.js';

/**
 * Whether a stream whose last revision is `actual` (null: no stream) satisfies the caller's
 * expectation. Shared by both adapters so that `no_stream`, `stream_exists`, `any` and an exact
 * revision mean the same everywhere. A negative exact revision means "no stream yet", as in KurrentDB.
 */
export function satisfiesExpectedRevision(expected: ExpectedRevision, actual: number | null): boolean {
  switch (expected) {
    case 'any':
      return true;
    case 'no_stream':
      return actual === null;
    case 'stream_exists':
      return actual !== null;
    default:
      return expected < 0 ? actual === null : actual === expected;
  }
}

export function assertValidExpectedRevision(expected: ExpectedRevision): void {
  if (typeof expected === 'number' && !Number.isSafeInteger(expected)) {
    throw new RangeError(`expected revision must be an integer, got ${expected}`);
  }
}
