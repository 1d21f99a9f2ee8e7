import { z } from 'zod';
import { Id, InstantParam } from '@access-ledger/access-model';
import { OPEN_END } from '../schema/migrations.js';

/**
 * Inputs every compliance report shares. Routes and `ledger report …` parse with these and pass the output on;
 * inside, values are trusted but still reach ClickHouse only as {name:Type} parameters.
 */
export { Id, InstantParam };

/** A permission as the intervals name it: 'capability:claude_code', 'tool:jira/search', 'admin:billing', 'role:owner', 'console:admin'. */
export const Permission = z.string().min(1).max(300);

/** A report's query over a period [from, to): the given fields plus from/to, strict, with from < to. */
export function overPeriod<Shape extends z.ZodRawShape>(shape: Shape) {
  return z
    .object({ from: InstantParam, to: InstantParam, ...shape })
    .strict()
    .refine((p) => Date.parse((p as { from: string }).from) < Date.parse((p as { to: string }).to), { message: 'from must be before to', path: ['to'] });
}

/** Maps the open-interval sentinel back to null for callers. */
export function openEndToNull(instant: string): string | null {
  return instant === OPEN_END ? null : instant;
}

export function durationMs(from: string, to: string): number {
  return Date.parse(to) - Date.parse(from);
}
