import type { ClickHouseClient } from '@clickhouse/client';
import { z } from 'zod';
import type { FieldError } from '@access-ledger/ledger';
import { issuesOf } from '@access-ledger/ledger';
import { projectedThrough, untilProjected, type ProjectedTable } from '@access-ledger/read-model';
import { ProblemException, problem } from '../problem/problem.js';

/**
 * How current an answer of the read model is. ClickHouse is fed by projections that follow the event store a batch
 * behind (250 ms in steady state, much longer while a large import is projected), so every audit and report answer
 * says through which store position its table was complete (`Ledger-Projected-Through`), and a caller that has just
 * written can ask for its own writes: `minPosition` (a position a command answered with) waits until the table
 * holds it, or answers 503 `read-model-behind` with `Retry-After`.
 */
export const PROJECTED_THROUGH_HEADER = 'ledger-projected-through';

export const MinPosition = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a store position: a whole number, 0 or more (the `position` a command answered with)')
  .transform(Number)
  .optional()
  .describe("Answer only once the read model holds every event up to this store position (read your writes); 503 if it does not within the server's wait");

/** `minPosition` out of a query, validated; the rest is the route's own. */
export function takeMinPosition(raw: Record<string, unknown>): { minPosition: number | undefined; rest: Record<string, unknown>; errors: FieldError[] } {
  const { minPosition, ...rest } = raw;
  const parsed = MinPosition.safeParse(minPosition);
  if (!parsed.success) return { minPosition: undefined, rest, errors: issuesOf(parsed.error).map((e) => ({ ...e, path: 'minPosition' })) };
  return { minPosition: parsed.data, rest, errors: [] };
}

/**
 * Runs a read of `table` once it holds `minPosition` (if given), and says through which position the table was
 * complete when the read began: the checkpoint only grows, so the answer holds at least every event up to it.
 */
export async function readProjected<T>(
  client: ClickHouseClient,
  table: ProjectedTable,
  minPosition: number | undefined,
  maxWaitMs: number,
  read: () => Promise<T>,
): Promise<{ through: number; answer: T }> {
  let through: number;
  if (minPosition === undefined) through = await projectedThrough(client, table);
  else {
    const waited = await untilProjected(client, table, minPosition, { timeoutMs: maxWaitMs });
    if (!waited.reached) {
      const detail = `The read model (${table}) holds the events up to position ${waited.through}, not yet ${minPosition}; ask again shortly.`;
      throw new ProblemException(problem(503, 'read-model-behind', detail, { title: 'Read model behind' }), {
        'retry-after': '1',
        [PROJECTED_THROUGH_HEADER]: String(waited.through),
      });
    }
    through = waited.through;
  }
  return { through, answer: await read() };
}
