import { generateHistory, type HistoryOptions } from '@access-ledger/history';
import { FactStore, decide, evolve, type Command, type EventType, type LedgerEvent } from '../../src/index.js';

/**
 * Small generated histories folded through the real deciders, as the list of events with their positions: the
 * fixture of the property tests that compare fast answers against slow references (time travel here, the access
 * intervals in libs/projections). Commands are recorded a second after they take effect and late imports a second
 * after the last command, so `knownAt` cuts through the history too.
 */
export interface History {
  readonly tenantId: string;
  readonly facts: FactStore;
  readonly events: LedgerEvent[];
  readonly start: number;
  readonly end: number;
}

export function generatedHistory(tenantId: string, seed: number, lateImports: number): History {
  const options: HistoryOptions = {
    seed,
    users: 40,
    orgs: 2,
    groups: 8,
    customRoles: 6,
    connectors: 3,
    toolsPerConnector: 4,
    years: 1,
    start: '2025-01-01T00:00:00.000Z',
    lateImports,
  };
  const facts = new FactStore();
  const events: LedgerEvent[] = [];
  let position = 0;
  let clock = Date.parse(options.start);
  let ids = 0;
  const fold = (e: LedgerEvent) => {
    evolve(facts, e);
    events.push(e);
  };
  for (const item of generateHistory(options)) {
    if (item.kind === 'command') {
      const command = item.command as Command;
      const at = Date.parse(command.occurredAt!);
      clock = Math.max(clock, at);
      const decision = decide(facts, command, { at, newId: () => `${tenantId}-e${++ids}` });
      if (decision.kind === 'violation') throw new Error(`generated command violates ${decision.rule}: ${decision.reason}`);
      for (const e of decision.events) {
        fold({
          id: e.id,
          type: e.type,
          data: e.data as never,
          position: ++position,
          meta: {
            tenantId,
            occurredAt: new Date(at).toISOString(),
            recordedAt: new Date(at + 1000).toISOString(),
            actor: command.actor,
            source: 'seed',
            schemaVersion: 1,
          },
        });
      }
    } else {
      for (const line of item.lines) {
        // R61: a late import — took effect earlier than events already stored.
        fold({
          id: `${tenantId}-${line.id}`,
          type: line.type as EventType,
          data: line.data as never,
          position: ++position,
          meta: {
            tenantId,
            occurredAt: line.occurredAt,
            recordedAt: new Date(clock + 1000).toISOString(),
            actor: line.actor as never,
            source: 'scim',
            schemaVersion: 1,
          },
        });
      }
    }
  }
  return { tenantId, facts, events, start: Date.parse(options.start), end: clock + 2000 };
}
