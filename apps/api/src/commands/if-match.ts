import { ProblemException, problem } from '../problem/problem.js';

/**
 * `If-Match: "<revision>"` (quotes and a weak `W/` prefix tolerated) → the tenant stream revision the
 * command expects (optimistic concurrency). Absent → no check.
 */
export function expectedRevisionFrom(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const value = Array.isArray(header) ? header.join(',') : header;
  const match = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/.exec(value);
  if (!match) {
    throw new ProblemException(
      problem(400, 'invalid-if-match', 'If-Match must be the expected revision of the tenant stream, e.g. "41".', {
        errors: [{ path: 'headers.if-match', message: 'must be a non-negative integer, optionally quoted' }],
      }),
    );
  }
  return Number(match[1]);
}
