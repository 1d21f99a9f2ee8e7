import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { lookupKey, accessAt, holdersOf, permissionsOf, viewAt } from '../../src/index.js';
import { generatedHistory, type History } from './generated-history.js';
import { naivePermissionsAt } from './naive-reference.js';

const histories = new Map<number, History>();
const history = (seed: number) => {
  let h = histories.get(seed);
  if (!h) histories.set(seed, (h = generatedHistory('t', seed, 4)));
  return h;
};

describe('time travel (R60, R61)', () => {
  test('for random (member, instant, knownAt) the answer equals a from-scratch naive fold of exactly the events in force', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.nat(),
        fc.option(fc.nat(), { nil: undefined }),
        (seed, when, who, known) => {
          const h = history(seed);
          let at = Math.floor(h.start + when * (h.end - h.start));
          let knownAt = Number.POSITIVE_INFINITY;
          if (known !== undefined) {
            // As known just before a late import was recorded, at an instant after it took effect: the two differ.
            const late = h.events.filter((e) => Date.parse(e.meta.recordedAt) - Date.parse(e.meta.occurredAt) > 1000);
            const e = late[known % late.length]!;
            knownAt = Date.parse(e.meta.recordedAt) - 1;
            at = Math.max(at, Date.parse(e.meta.occurredAt));
          }
          const members: [string, string][] = [];
          for (const orgId of h.facts.items(lookupKey.orgs, viewAt(Number.POSITIVE_INFINITY))) {
            for (const userId of h.facts.items(lookupKey.members(orgId), viewAt(Number.POSITIVE_INFINITY))) members.push([orgId, userId]);
          }
          const [orgId, userId] = members[who % members.length]!;
          const fast = accessAt(h.facts, viewAt(at, knownAt), orgId, userId);
          const naive = naivePermissionsAt(h.events, orgId, userId, at, knownAt);
          expect(fast === undefined ? undefined : Object.fromEntries(permissionsOf(fast))).toEqual(naive === undefined ? undefined : Object.fromEntries(naive));
        },
      ),
      { numRuns: 400, seed: 20261126 },
    );
  });

  test('holders of a capability or an admin area equal the members whose own answer grants it', () => {
    const areas = ['identity_access', 'billing', 'analytics', 'privacy', 'user_management', 'libraries'] as const;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.nat(), fc.nat(), (seed, when, pick, orgPick) => {
        const h = history(seed);
        const at = Math.floor(h.start + when * (h.end - h.start));
        const orgs = [...h.facts.items(lookupKey.orgs, viewAt(Number.POSITIVE_INFINITY))];
        const orgId = orgs[orgPick % orgs.length]!;
        const members = [...h.facts.items(lookupKey.members(orgId), viewAt(at))];
        const answers = members.map((u) => [u, accessAt(h.facts, viewAt(at), orgId, u)] as const);
        if (pick % 2 === 0) {
          const capability = ['chat', 'web_search', 'claude_code', 'research', 'cowork'][pick % 5]!;
          const expected = answers
            .filter(([, a]) => a?.capabilities[capability]?.granted)
            .map(([u]) => u)
            .sort();
          expect(holdersOf(h.facts, viewAt(at), orgId, { capability }).map((x) => x.userId)).toEqual(expected);
        } else {
          const area = areas[pick % areas.length]!;
          const expected = answers
            .filter(([, a]) => a !== undefined && a.status === 'active' && a.adminAreas[area]!.level !== 'none')
            .map(([u]) => u)
            .sort();
          expect(holdersOf(h.facts, viewAt(at), orgId, { adminArea: area, minLevel: 'view' }).map((x) => x.userId)).toEqual(expected);
        }
      }),
      { numRuns: 150, seed: 7 },
    );
  });

  test('the generated histories exercise what the property is about: late imports, refusals, many members', () => {
    const h = history(1);
    expect(h.events.some((e) => e.type === 'AccessChangeDenied')).toBe(true);
    expect(h.events.some((e, i) => i > 0 && Date.parse(e.meta.occurredAt) < Date.parse(h.events[i - 1]!.meta.occurredAt))).toBe(true);
    expect(h.events.length).toBeGreaterThan(500);
  });
});
