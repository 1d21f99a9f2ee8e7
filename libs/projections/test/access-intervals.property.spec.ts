import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { ClickHouseClient } from '@clickhouse/client';
import fc from 'fast-check';
import { K, NOW, accessAt, viewAt } from '../../access-model/src/index.js';
import { AccessIntervalWriter } from '../../read-model/src/index.js';
import { AccessIntervalProjection, intervalChangesOfHistory, intervalPermissionsOf } from '../src/access-intervals.js';
import { generatedHistory, heldAt, openDb, sourceOf, type History } from './access-intervals-fixture.js';

/**
 * Issue 4: for random (member, permission, instant), the access intervals in ClickHouse agree with the evaluator of
 * the effective-access projection, on histories generated and folded through the real deciders.
 */

let db: { client: ClickHouseClient; close(): Promise<void> };
const SEEDS = [1, 2];
/** In-order histories (no late import), projected live by AccessIntervalProjection. */
const live = new Map<number, History>();
/** Histories with late imports (R61), written from intervalChangesOfHistory (the exact rebuild path). */
const late = new Map<number, History>();
/** The same late histories projected live: exact from the instant the last late event was folded. */
const liveLate = new Map<number, { history: History; exactFrom: number }>();

function members(h: History): [string, string][] {
  const out: [string, string][] = [];
  for (const orgId of h.facts.items(K.orgs, NOW)) for (const userId of h.facts.items(K.members(orgId), NOW)) out.push([orgId, userId]);
  return out;
}

/** Compares the table with the evaluator for one member at one instant, over every permission either names. */
async function agree(client: ClickHouseClient, h: History, member: [string, string], at: number): Promise<void> {
  const [orgId, userId] = member;
  const evaluator = intervalPermissionsOf(accessAt(h.facts, viewAt(at), orgId, userId));
  const table = await heldAt(client, h.tenantId, orgId, userId, at);
  expect({ at: new Date(at).toISOString(), member, held: Object.fromEntries([...table].sort()) }).toEqual({
    at: new Date(at).toISOString(), member, held: Object.fromEntries([...evaluator].sort()),
  });
}

/** Instants worth testing: uniformly over the history, or exactly at an event's instant (where changes happen). */
const instant = (h: History, when: number, pick: number | undefined) =>
  pick === undefined ? Math.floor(h.start + when * (h.end - h.start)) : Date.parse(h.events[pick % h.events.length]!.meta.occurredAt);

beforeAll(async () => {
  db = await openDb();
  for (const seed of SEEDS) {
    const h = generatedHistory(`live-${seed}`, seed, 0);
    live.set(seed, h);
    const projection = new AccessIntervalProjection({ client: db.client, source: sourceOf(h.events), name: `ai-live-${seed}`, maxBatchEvents: 300 });
    await projection.run();

    const l = generatedHistory(`late-${seed}`, seed, 4);
    late.set(seed, l);
    await new AccessIntervalWriter(db.client).write(intervalChangesOfHistory(l.tenantId, l.facts, l.events));

    if (seed !== 1) continue;
    const ll = generatedHistory(`livelate-${seed}`, seed, 4);
    await new AccessIntervalProjection({ client: db.client, source: sourceOf(ll.events), name: `ai-livelate-${seed}` }).run();
    let frontier = Number.NEGATIVE_INFINITY;
    let exactFrom = Number.NEGATIVE_INFINITY;
    for (const e of ll.events) {
      const at = Date.parse(e.meta.occurredAt);
      if (at < frontier) exactFrom = frontier;
      frontier = Math.max(frontier, at);
    }
    liveLate.set(seed, { history: ll, exactFrom });
  }
}, 120_000);

afterAll(async () => db?.close());

describe('access intervals agree with the evaluator (issue 4)', () => {
  test('the generated histories are rich enough: many members, changes of every family, late imports in the late ones', () => {
    const h = live.get(1)!;
    expect(h.events.length).toBeGreaterThan(500);
    expect(members(h).length).toBeGreaterThan(20);
    const types = new Set(h.events.map((e) => e.type));
    for (const t of ['MemberAdded', 'UserAddedToGroup', 'RoleAssignedToGroup', 'OrganizationCapabilitySet', 'ConnectorAdded']) expect(types).toContain(t);
    const l = late.get(1)!;
    expect(l.events.some((e, i) => i > 0 && Date.parse(e.meta.occurredAt) < Date.parse(l.events[i - 1]!.meta.occurredAt))).toBe(true);
    expect(liveLate.get(1)!.exactFrom).toBeGreaterThan(l.start);
  });

  test('live projection, in-order history: for random (member, instant) the rows containing T are the evaluator’s permissions at T', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...SEEDS), fc.double({ min: 0, max: 1, noNaN: true }), fc.option(fc.nat(), { nil: undefined }), fc.nat(), async (seed, when, pick, who) => {
        const h = live.get(seed)!;
        const all = members(h);
        await agree(db.client, h, all[who % all.length]!, instant(h, when, pick));
      }),
      { numRuns: 200, seed: 20261126 },
    );
  });

  test('R61: with late imports, the intervals of the whole history (rebuild path) agree with the evaluator at every instant', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...SEEDS), fc.double({ min: 0, max: 1, noNaN: true }), fc.option(fc.nat(), { nil: undefined }), fc.nat(), async (seed, when, pick, who) => {
        const h = late.get(seed)!;
        const all = members(h);
        await agree(db.client, h, all[who % all.length]!, instant(h, when, pick));
      }),
      { numRuns: 150, seed: 20261127 },
    );
  });

  test('R61: projected live with late imports, the intervals agree with the evaluator from the last late event’s frontier on', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constant(1), fc.double({ min: 0, max: 1, noNaN: true }), fc.nat(), async (seed, when, who) => {
        const { history: h, exactFrom } = liveLate.get(seed)!;
        const all = members(h);
        await agree(db.client, h, all[who % all.length]!, Math.floor(exactFrom + when * (h.end - exactFrom)));
      }),
      { numRuns: 100, seed: 20261128 },
    );
  });
});
