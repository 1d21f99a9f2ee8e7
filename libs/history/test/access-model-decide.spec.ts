import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  BatchWorld,
  checkReferences,
  decide,
  evolve,
  FactStore,
  worldEver,
  type Command,
  type EventMetadata,
  type EventType,
  type LedgerEvent,
} from '@access-ledger/access-model';
import { demoHistory, generateHistory, type HistoryOptions } from '../src/index.js';
import { smallOptions } from './small-options.js';

/**
 * The generated history folded through the real deciders of libs/access-model, in order, the way the ledger applies
 * commands: every command must be accepted except the ones the generator marks refused, which must be refused by
 * the authorization rules (R22, R24, AccessChangeDenied) — never an invariant violation (R62) — and no command may
 * cause a group-mapping role sync the generator did not foresee (R32).
 */
function fold(options: HistoryOptions) {
  const facts = new FactStore();
  let position = 0;
  let ids = 0;
  let latest = '';
  const problems: string[] = [];
  let refused = 0;
  let accepted = 0;
  let imported = 0;
  const append = (id: string, type: EventType, data: Record<string, unknown>, meta: EventMetadata) =>
    evolve(facts, { id, type, data, meta, position: ++position } as LedgerEvent);

  for (const item of generateHistory(options)) {
    if (item.kind === 'import') {
      // Imports: no R22 check, reference validation against everything that ever existed plus the batch (R61).
      const world = new BatchWorld(worldEver(facts));
      for (const line of item.lines) {
        const problem = checkReferences(world, line.type as EventType, line.data);
        if (problem) problems.push(`import ${line.id}: ${problem.reason}`);
        world.record(line.type as EventType, line.data);
      }
      for (const line of item.lines) {
        append(line.id, line.type as EventType, line.data, {
          tenantId: 'demo',
          occurredAt: line.occurredAt,
          recordedAt: latest,
          actor: line.actor,
          source: line.source,
          schemaVersion: 1,
        });
        imported++;
      }
      continue;
    }
    const c = item.command;
    latest = c.occurredAt;
    // `satisfies`: the generator's CommandBody type is assignable to the model's Command (checked by tsc).
    const decision = decide(facts, c satisfies Command, { at: Date.parse(c.occurredAt), newId: () => `e-${++ids}` });
    const where = `${c.idempotencyKey} ${c.type} by ${JSON.stringify(c.actor)} ${JSON.stringify(c.payload)}`;
    if (item.refused) {
      refused++;
      if (decision.kind !== 'refused') problems.push(`${where}: marked refused but ${decision.kind}`);
    } else if (decision.kind !== 'accepted') {
      problems.push(`${where}: ${decision.kind} — ${decision.reason}`);
    } else {
      accepted++;
      const syncs = decision.events.filter((e) => e.type === 'MemberRoleChanged' && e.causationId !== undefined);
      if (syncs.length > 0) problems.push(`${where}: caused mapping syncs ${JSON.stringify(syncs.map((s) => s.data))}`);
    }
    if (decision.kind === 'violation') continue;
    for (const e of decision.events) {
      append(e.id, e.type, e.data, {
        tenantId: 'demo',
        occurredAt: c.occurredAt,
        recordedAt: c.occurredAt,
        actor: c.actor,
        source: 'api',
        schemaVersion: 1,
        ...(e.causationId ? { causationId: e.causationId } : {}),
      });
    }
  }
  return { problems, refused, accepted, imported };
}

describe('the demo history through the real deciders (libs/access-model)', () => {
  it('R22, R24, R62: only the commands marked refused are refused, and nothing breaks an invariant', () => {
    const result = fold(demoHistory);
    expect(result.problems.slice(0, 10)).toEqual([]);
    expect(result.refused).toBeGreaterThanOrEqual(6);
    expect(result.accepted).toBeGreaterThan(8_000);
    expect(result.imported).toBeGreaterThan(0);
  });

  it('holds for other seeds and shapes too (one organization, six organizations)', () => {
    for (const options of [
      { ...demoHistory, seed: 5, users: 150, orgs: 1, years: 0.5 },
      { ...demoHistory, seed: 6, users: 200, orgs: 6, groups: 16, years: 0.5 },
    ]) {
      expect(fold(options).problems.slice(0, 10)).toEqual([]);
    }
  });

  it('holds for any small parameters (property)', () => {
    fc.assert(
      fc.property(smallOptions, (options) => {
        expect(fold(options).problems.slice(0, 5)).toEqual([]);
      }),
      { numRuns: Number(process.env.HISTORY_PROPERTY_RUNS ?? 12), seed: Number(process.env.HISTORY_PROPERTY_SEED ?? 20261126) },
    );
  });
});
