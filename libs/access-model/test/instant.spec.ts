import { describe, expect, it } from '@jest/globals';
import { INSTANT_MESSAGE, INSTANT_RANGE_MESSAGE, Instant, InstantParam, parseInstant } from '../src/index.js';

describe('one instant grammar (InstantParam)', () => {
  it.each([
    ['2026-10-15', '2026-10-15T00:00:00.000Z'],
    ['2026-10-15T09:30Z', '2026-10-15T09:30:00.000Z'],
    ['2026-10-15T09:30:00Z', '2026-10-15T09:30:00.000Z'],
    ['2026-10-15T09:30:00.5Z', '2026-10-15T09:30:00.500Z'],
    ['2026-10-15T09:30:00.123Z', '2026-10-15T09:30:00.123Z'],
    ['2026-10-15T11:30:00+02:00', '2026-10-15T09:30:00.000Z'],
    ['2026-10-15T04:00:00.000-05:30', '2026-10-15T09:30:00.000Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
    ['2000-02-29T23:59:59.999Z', '2000-02-29T23:59:59.999Z'],
  ])('%s is %s', (text, iso) => {
    expect(InstantParam.parse(text)).toBe(iso);
  });

  it.each([
    ['2026-02-30', '2026-02-30 is not a calendar date'],
    ['2026-02-29T00:00:00Z', '2026-02-29 is not a calendar date'],
    ['1900-02-29', '1900-02-29 is not a calendar date'],
    ['2026-13-01', '2026-13-01 is not a calendar date'],
    ['2026-04-31T00:00:00.000Z', '2026-04-31 is not a calendar date'],
    ['2026-03-01T24:00:01Z', '24:00:01 is not a time of day'],
    ['2026-03-01T23:60:00Z', '23:60:00 is not a time of day'],
  ])('%s is refused: %s', (text, why) => {
    const parsed = parseInstant(text);
    expect(parsed).toEqual({ ok: false, message: `${INSTANT_MESSAGE}; ${why}` });
  });

  it.each(['2026-10-15T09:30:00', '2026-10-15 09:30:00Z', '15/10/2026', 'now', '1760520600000', '2026-10-15T09:30:00.1234Z', '2026-1-5', ''])(
    '%s is not in the grammar',
    (text) => {
      expect(parseInstant(text)).toEqual({ ok: false, message: INSTANT_MESSAGE });
    },
  );

  it('keeps the range of every store: 1900-01-01 … 2299-12-31 (years 0–99 are not read as 19xx)', () => {
    for (const text of ['0050-01-01', '1899-12-31T23:59:59.999Z', '2300-01-01', '1900-01-01T00:30:00+01:00'])
      expect(parseInstant(text)).toEqual({ ok: false, message: INSTANT_RANGE_MESSAGE });
    expect(InstantParam.parse('1900-01-01')).toBe('1900-01-01T00:00:00.000Z');
    expect(InstantParam.parse('2299-12-31T23:59:59.999Z')).toBe('2299-12-31T23:59:59.999Z');
  });

  it('the stored form (Instant) takes only ISO-8601 UTC with milliseconds, and says which form to write', () => {
    expect(Instant.safeParse('2026-03-01T00:00:00.000Z').success).toBe(true);
    const loose = Instant.safeParse('2026-03-01');
    expect(loose.error?.issues.map((i) => i.message)).toEqual(['must be written as ISO-8601 UTC with milliseconds here: 2026-03-01T00:00:00.000Z']);
    const impossible = Instant.safeParse('2026-02-30T00:00:00.000Z');
    expect(impossible.error?.issues.map((i) => i.message)).toEqual([`${INSTANT_MESSAGE}; 2026-02-30 is not a calendar date`]);
  });
});
