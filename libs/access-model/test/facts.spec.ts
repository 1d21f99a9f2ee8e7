import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { FactStore, lookupKey, KEYS, internKey, KeySpace, NO_FACT, StringTable, type Actor, type View } from '../src/index.js';

/**
 * The fact store's own contract (R60, R61), against a naive reference: a list of (occurredAt, position,
 * recordedAt, value) per fact, filtered and sorted at each read. The time-travel property test checks the same
 * through the evaluator; this one drives a single fact through many versions (the binary-search path of facts with
 * more than eight) and late arrivals, event ids of every shape, snapshots and rollbacks.
 */
const system: Actor = { kind: 'system' };

interface Written {
  readonly at: number;
  readonly pos: number;
  readonly rec: number;
  readonly value: number;
}

function naiveGet(writes: readonly Written[], view: View): Written | undefined {
  const visible = writes.filter((w) => w.at <= view.at && !(view.beforePos !== undefined && w.at === view.at && w.pos >= view.beforePos));
  // The version in force at view.at, then back past the versions recorded after knownAt.
  visible.sort((a, b) => a.at - b.at || a.pos - b.pos);
  for (let i = visible.length - 1; i >= 0; i--) if (visible[i]!.rec <= view.knownAt) return visible[i];
  return undefined;
}

const writesArb = fc.array(fc.record({ at: fc.integer({ min: 0, max: 40 }), lag: fc.integer({ min: 0, max: 30 }) }), { minLength: 1, maxLength: 40 });

describe('fact store (R60, R61)', () => {
  test('a fact read at any (at, knownAt, beforePos) is the naive answer, however many versions and however late they arrive', () => {
    fc.assert(
      fc.property(
        writesArb,
        fc.array(
          fc.record({
            at: fc.integer({ min: -1, max: 42 }),
            knownAt: fc.integer({ min: 0, max: 80 }),
            before: fc.option(fc.integer({ min: 0, max: 45 }), { nil: undefined }),
          }),
          { minLength: 1, maxLength: 30 },
        ),
        (ws, views) => {
          const facts = new FactStore();
          const key = internKey.memberSeat('facts-spec', `u-${ws.length}`);
          const writes: Written[] = [];
          ws.forEach((w, pos) => {
            const stamp = facts.note(`ev-${pos}`, 'MemberSeatChanged', system, w.at, w.at + w.lag, pos);
            facts.write(key, pos, stamp);
            writes.push({ at: w.at, pos, rec: w.at + w.lag, value: pos });
          });
          expect(facts.history<number>(key).map((v) => v.value)).toEqual([...writes].sort((a, b) => a.at - b.at || a.pos - b.pos).map((w) => w.value));
          for (const v of views) {
            const view: View = { at: v.at, knownAt: v.knownAt, ...(v.before !== undefined ? { beforePos: v.before } : {}) };
            expect(facts.get<number>(key, view)?.value).toBe(naiveGet(writes, view)?.value);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test('event ids come back exactly: UUIDs (packed) and any other id', () => {
    const facts = new FactStore();
    const ids = [
      '0190a5b2-7c3d-4e5f-8a9b-0c1d2e3f4a5b',
      'imported-42',
      '0190A5B2-7C3D-4E5F-8A9B-0C1D2E3F4A5B',
      '0190a5b2x7c3d-4e5f-8a9b-0c1d2e3f4a5b',
      'ffffffff-ffff-ffff-ffff-ffffffffffff',
      '',
    ];
    const key = internKey.groupName('facts-spec-ids');
    ids.forEach((id, i) => {
      facts.write(key, i, facts.note(id, 'GroupRenamed', system, i, i, i));
    });
    expect(facts.history(key).map((v) => v.ev.eventId)).toEqual(ids);
  });

  test('a snapshot restored gives the same answers, its keys by name', () => {
    const facts = new FactStore();
    const a = internKey.memberRole('snap-org', 'snap-u1');
    const members = internKey.members('snap-org');
    for (let i = 0; i < 12; i++) {
      const stamp = facts.note(`e${i}`, 'MemberRoleChanged', system, 100 - i * 3, 100 - i * 3, i);
      facts.write(a, `role-${i}`, stamp);
      facts.addToSet(members, `snap-u${i % 4}`, stamp);
    }
    const strings = new StringTable();
    const snapshot = structuredClone({ facts: facts.toSnapshot(strings), keys: KEYS.toSnapshot(strings), strings: strings.values });
    const restored = FactStore.fromSnapshot(snapshot.facts, { keys: KEYS.restore(snapshot.keys, snapshot.strings), strings: snapshot.strings });
    for (const at of [0, 60, 66, 67, 100, Infinity]) {
      const view = { at, knownAt: Infinity };
      expect(restored.get(a, view)?.value).toEqual(facts.get(a, view)?.value);
      expect([...restored.items(members, view)].sort()).toEqual([...facts.items(members, view)].sort());
    }
    expect(restored.size).toEqual(facts.size);
    expect(KEYS.parse(KEYS.name(a))).toBe(a);
  });

  test('names of a snapshot restored in another key space (another process) are the same names', () => {
    const samples = [
      lookupKey.orgs,
      internKey.memberRole('snap-org', 'snap-u1'),
      internKey.roleTool('names-org', 'r-1', 'jira', 'search'),
      internKey.inGroup('g-1', 'u-1'),
    ];
    const strings = new StringTable();
    const snapshot = structuredClone({ keys: KEYS.toSnapshot(strings), strings: strings.values });
    const elsewhere = new KeySpace();
    elsewhere.child(elsewhere.kind('made-first-elsewhere'), 'x'); // so that ids differ
    const here = elsewhere.restore(snapshot.keys, snapshot.strings);
    for (const key of samples) {
      expect(here[key]).not.toBe(key);
      expect(elsewhere.name(here[key] as never)).toBe(KEYS.name(key));
    }
  });

  test('a rolled-back speculation leaves no version, no set item and no event behind', () => {
    const facts = new FactStore();
    const key = internKey.memberStatus('spec-org', 'spec-u');
    const set = internKey.members('spec-org');
    facts.write(key, 'active', facts.note('a', 'MemberAdded', system, 10, 10, 1));
    facts.addToSet(set, 'spec-u', { seq: 0, at: 10, pos: 1 });
    const before = { size: facts.size, events: facts.events, history: facts.history(key).map((v) => v.value) };
    facts.beginSpeculation();
    for (let i = 0; i < 10; i++) {
      const stamp = facts.note(`s${i}`, 'MemberSuspended', system, 5 + i, 20, 2 + i);
      facts.write(key, `s${i}`, stamp);
      facts.write(internKey.memberStatus('spec-org', `new-${i}`), 'active', stamp);
      facts.addToSet(set, `new-${i}`, stamp);
    }
    facts.rollbackSpeculation();
    expect({ size: facts.size, events: facts.events, history: facts.history(key).map((v) => v.value) }).toEqual(before);
    expect([...facts.items(set, { at: Infinity, knownAt: Infinity })]).toEqual(['spec-u']);
    expect(facts.written(lookupKey.memberStatus('spec-org', 'new-3'))).toBe(false);
  });

  test('liveItems: never an item outside items(), and never leaves out one whose membership holds at some instant from `since` on (late, snapshot, rollback)', () => {
    // Users joining and leaving one group (inGroup true/false), some late; a user's groups and the group's users are
    // read with their membership facts as evolve.ts writes them.
    const opArb = fc.record({
      user: fc.integer({ min: 0, max: 5 }),
      join: fc.boolean(),
      at: fc.integer({ min: 0, max: 40 }),
      lag: fc.integer({ min: 0, max: 20 }),
    });
    let run = 0;
    let leftOut = 0;
    fc.assert(
      fc.property(
        fc.array(opArb, { minLength: 1, maxLength: 30 }),
        fc.array(fc.record({ at: fc.integer({ min: -1, max: 42 }), knownAt: fc.integer({ min: 0, max: 70 }), since: fc.integer({ min: -1, max: 42 }) }), {
          minLength: 1,
          maxLength: 20,
        }),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 0, max: 30 }),
        (ops, views, speculateFrom, snapshotAt, readAt) => {
          const group = `live-g${run++}`;
          const users = internKey.usersOfGroup(group);
          const facts = new FactStore();
          const fold = (store: FactStore, op: (typeof ops)[number], pos: number) => {
            const stamp = store.note(`e${pos}`, op.join ? 'UserAddedToGroup' : 'UserRemovedFromGroup', system, op.at, op.at + op.lag, pos);
            const inGroup = internKey.inGroup(group, `u${op.user}`);
            if (op.join) store.addToSet(users, `u${op.user}`, stamp, inGroup);
            store.write(inGroup, op.join, stamp);
          };
          /** `read`: the store's set read (and so indexed, if it was not yet) before the event, or inside its speculation. */
          const take = (store: FactStore, op: (typeof ops)[number], pos: number, read?: 'before' | 'inside') => {
            const readNow = () => store.liveItems(users, { at: op.at, knownAt: Number.POSITIVE_INFINITY });
            if (read === 'before') readNow();
            // Some events folded twice: once speculatively and taken back, then for good.
            if (pos >= speculateFrom) {
              store.beginSpeculation();
              fold(store, { ...op, join: !op.join }, pos);
              if (read === 'inside') readNow();
              store.rollbackSpeculation();
            }
            fold(store, op, pos);
          };
          // The first events before a snapshot; the rest folded into the store and into the one restored from it,
          // whose sets are indexed at their first read: before, between or after those events.
          const cut = Math.min(snapshotAt, ops.length);
          // Either store's set is indexed at its first read (built from what it holds then, kept current after).
          const readOf = (pos: number) => (pos === readAt ? (readAt % 2 === 0 ? 'before' : 'inside') : undefined);
          ops.slice(0, cut).forEach((op, pos) => {
            take(facts, op, pos, readOf(pos));
          });
          const strings = new StringTable();
          const snapshot = structuredClone({ facts: facts.toSnapshot(strings), keys: KEYS.toSnapshot(strings), strings: strings.values });
          const restored = FactStore.fromSnapshot(snapshot.facts, { keys: KEYS.restore(snapshot.keys, snapshot.strings), strings: snapshot.strings });
          ops.slice(cut).forEach((op, i) => {
            take(facts, op, cut + i, readOf(cut + i));
            take(restored, op, cut + i, readOf(cut + i));
          });
          const instants = [...new Set(ops.map((o) => o.at))];
          for (const v of views) {
            const view: View = { at: v.at, knownAt: v.knownAt };
            const all = new Set(facts.items(users, view));
            expect(new Set(restored.items(users, view))).toEqual(all);
            for (const store of [facts, restored]) {
              const live = new Set(store.liveItems(users, view, v.since));
              for (const u of live) expect(all.has(u)).toBe(true);
              for (const u of all) {
                if (live.has(u)) continue;
                leftOut++;
                // Left out: at every instant from `since` on, as known at knownAt, the user is not in the group.
                const inGroup = lookupKey.inGroup(group, u);
                for (const t of [v.since, ...instants.filter((t) => t >= v.since), Infinity]) {
                  expect(store.get<boolean>(inGroup, { at: t, knownAt: v.knownAt })?.value).not.toBe(true);
                }
              }
            }
          }
        },
      ),
      { numRuns: 300 },
    );
    // It does leave out users who left for good.
    expect(leftOut).toBeGreaterThan(100);
  });

  test('reading unknown ids adds nothing to the key space', () => {
    const size = KEYS.size;
    for (let i = 0; i < 100; i++) expect(lookupKey.memberRole(`no-such-org-${i}`, `no-such-user-${i}`)).toBe(NO_FACT);
    expect(lookupKey.roleTool('acme', 'nope', 'nope', 'nope')).toBe(NO_FACT);
    expect(KEYS.size).toBe(size);
    expect(new FactStore().get(NO_FACT, { at: Infinity, knownAt: Infinity })).toBeUndefined();
  });
});
