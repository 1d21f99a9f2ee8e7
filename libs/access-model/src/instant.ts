import { z } from 'zod';

/**
 * Instants: one grammar for every query parameter, request body and CLI flag, and one stored form.
 *
 * Accepted (`InstantParam`): a date (`2026-10-15`, the start of that day UTC), or a date and time with minutes,
 * seconds or milliseconds and `Z` or an offset (`2026-10-15T09:00Z`, `2026-10-15T09:00:00Z`,
 * `2026-10-15T09:00:00.000+02:00`). Normalised to UTC with milliseconds, the form every event stores
 * (`2026-10-15T07:00:00.000Z`). The calendar is checked here, digit by digit: `Date.parse` would roll
 * `2026-02-30` over to March 2 and read years 0–99 as 1900–1999.
 */

/**
 * The instants every store and read model can represent: ClickHouse documents DateTime64 (and
 * Date32) from 1900-01-01 to 2299-12-31, and some versions read year 0000 as "no year" (the current one). An
 * instant outside this range is refused at the edge instead of being stored and reported as another instant.
 */
export const EARLIEST_INSTANT = '1900-01-01T00:00:00.000Z';
export const LATEST_INSTANT = '2299-12-31T23:59:59.999Z';
const EARLIEST_MS = Date.parse(EARLIEST_INSTANT);
const LATEST_MS = Date.parse(LATEST_INSTANT);
export const INSTANT_RANGE_MESSAGE = `must be between ${EARLIEST_INSTANT} and ${LATEST_INSTANT}`;

export function instantInRange(ms: number): boolean {
  return ms >= EARLIEST_MS && ms <= LATEST_MS;
}

/** The one message for a value that is not an instant (followed by what is wrong with it, when that is known). */
export const INSTANT_MESSAGE = 'must be an instant: 2026-03-01, 2026-03-01T09:00:00Z or 2026-03-01T09:00:00.000+02:00';

const GRAMMAR = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|([+-])(\d{2}):(\d{2})))?$/;

export type ParsedInstant = { readonly ok: true; readonly ms: number; readonly iso: string } | { readonly ok: false; readonly message: string };

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** The stored form exactly (ISO-8601 UTC with milliseconds): most instants checked are already written so. */
const STORED_FORM = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** An instant in the accepted grammar, as UTC milliseconds and the stored ISO form; or the one message saying why not. */
export function parseInstant(text: string): ParsedInstant {
  if (text.length === 24 && STORED_FORM.test(text)) {
    // Date.parse rolls 2026-02-30 over to March 2 (and 24:00 to the next day): only a text that comes back unchanged
    // from its milliseconds is a calendar instant; anything else takes the digit-by-digit path below for its message.
    const ms = Date.parse(text);
    if (instantInRange(ms) && new Date(ms).toISOString() === text) return { ok: true, ms, iso: text };
  }
  const m = text.length <= 40 ? GRAMMAR.exec(text) : null;
  if (!m) return { ok: false, message: INSTANT_MESSAGE };
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', , sign, oh = '00', om = '00'] = m;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  const date = `${y}-${mo}-${d}`;
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return { ok: false, message: `${INSTANT_MESSAGE}; ${date} is not a calendar date` };
  if (hour > 23 || minute > 59 || second > 59) return { ok: false, message: `${INSTANT_MESSAGE}; ${h}:${mi}:${s} is not a time of day` };
  if (Number(oh) > 23 || Number(om) > 59) return { ok: false, message: `${INSTANT_MESSAGE}; ${sign}${oh}:${om} is not an offset` };
  // Years before 1899 or after 2300 are out of range whatever the offset (and Date.UTC would read 0–99 as 19xx).
  if (year < 1899 || year > 2300) return { ok: false, message: INSTANT_RANGE_MESSAGE };
  const offsetMs = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second, Number(frac.padEnd(3, '0'))) - offsetMs;
  if (!instantInRange(ms)) return { ok: false, message: INSTANT_RANGE_MESSAGE };
  return { ok: true, ms, iso: new Date(ms).toISOString() };
}

/**
 * A query parameter, body field or CLI flag that names an instant: any form of the grammar above, normalised to the
 * stored form (ISO-8601 UTC with milliseconds). Compare its outputs as strings or with `Date.parse`.
 */
export const InstantParam = z
  .string()
  .meta({
    description: `An instant: ${INSTANT_MESSAGE.replace('must be an instant: ', '')} (normalised to UTC milliseconds)`,
    examples: ['2026-03-01', '2026-03-01T09:00:00Z', '2026-03-01T09:00:00.000+02:00'],
  })
  .transform((text, ctx) => {
    const parsed = parseInstant(text);
    if (!parsed.ok) {
      ctx.addIssue({ code: 'custom', message: parsed.message });
      return z.NEVER;
    }
    return parsed.iso;
  });

/**
 * The stored form, ISO-8601 UTC with milliseconds (e.g. 2026-03-01T00:00:00.000Z): event metadata and import lines,
 * whose hash chain covers the text as written, so only the canonical form is accepted there. Another valid instant
 * is refused with its stored form in the message.
 */
export const Instant = z
  .string()
  .meta({ description: 'ISO-8601 UTC with milliseconds', examples: ['2026-03-01T09:00:00.000Z'] })
  .superRefine((text, ctx) => {
    const parsed = parseInstant(text);
    if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.message });
    else if (parsed.iso !== text) ctx.addIssue({ code: 'custom', message: `must be written as ISO-8601 UTC with milliseconds here: ${parsed.iso}` });
  });
