import { describe, expect, test } from '@jest/globals';
import { FactStore, accessAt, baselineOf, checkReferences, viewAt, worldEver } from '../src/index.js';
import { History } from './evaluate/history.js';

/**
 * An organization recorded by a source from a directory snapshot (docs/sources.md § Baseline): `BaselineRecorded`
 * keeps the instant from which its record is complete; the queries refuse to answer before it.
 */
describe('BaselineRecorded: where an organization’s record starts', () => {
  const snapshot = () => {
    const h = new History();
    // The feed mentions zoe in March; the directory snapshot (the baseline) is taken in December.
    h.at('2026-03-01T10:00:00.000Z');
    h.event('OrganizationCreated', { orgId: 'acme', name: 'Acme', dualSeat: false, provisioningMode: 'invite_only', usageBased: false });
    h.member('acme', 'zoe', 'user');
    h.at('2026-12-01T00:00:00.000Z');
    h.member('acme', 'pat', 'admin');
    const id = h.event('BaselineRecorded', { orgId: 'acme', source: 'claude', sourceKind: 'compliance-api' }, { recordedAt: '2026-12-01T00:00:05.000Z' });
    return { h, id, at: Date.parse(h.now()) };
  };

  test('the baseline instant is the event’s occurredAt, with the source that took it', () => {
    const { h, id, at } = snapshot();
    expect(baselineOf(h.facts, Number.POSITIVE_INFINITY, 'acme')).toEqual({ at, source: 'claude', sourceKind: 'compliance-api', eventId: id });
  });

  test('as known before it was recorded (R60) there is no baseline; an organization without one has none', () => {
    const { h } = snapshot();
    expect(baselineOf(h.facts, Date.parse('2026-12-01T00:00:02.000Z'), 'acme')).toBeUndefined();
    h.org('other');
    expect(baselineOf(h.facts, Number.POSITIVE_INFINITY, 'other')).toBeUndefined();
  });

  test('it changes no access: the evaluator answers the same with or without it', () => {
    const { h, at } = snapshot();
    const before = accessAt(h.facts, viewAt(at - 1), 'acme', 'pat');
    expect(accessAt(h.facts, viewAt(at), 'acme', 'pat')).toEqual(before);
  });

  test('R62: it refers to an organization that exists', () => {
    const data = { orgId: 'acme', source: 'claude', sourceKind: 'compliance-api' };
    expect(checkReferences(worldEver(new FactStore()), 'BaselineRecorded', data)).toEqual(expect.objectContaining({ rule: 'R62' }));
    expect(checkReferences(worldEver(snapshot().h.facts), 'BaselineRecorded', data)).toBeUndefined();
  });
});
