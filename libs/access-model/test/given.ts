import { expect } from '@jest/globals';
import {
  COMMAND_TYPES,
  COMMANDS,
  EVENT_DATA,
  EVENT_TYPES,
  FactReader,
  FactStore,
  NOW,
  decide,
  evolve,
  type Actor,
  type Command,
  type CommandActor,
  type CommandPayload,
  type CommandType,
  type Decision,
  type EventData,
  type EventType,
  type LedgerEvent,
  type NewEvent,
} from '../src/index.js';

/**
 * Given (events) / When (command) / Then (events, refusal or violation): the deciders' specification harness
 * (Emmett style). Given-events are folded with `evolve` into a fresh FactStore at positions 1, 2, 3…, one test-clock
 * minute apart from START unless placed with `at`; the command takes effect one minute after the last of them.
 */

export const START = Date.parse('2026-03-01T00:00:00.000Z');
const MINUTE = 60_000;

export interface GivenEvent {
  readonly type: EventType;
  readonly data: Record<string, unknown>;
  readonly actor?: Actor;
  /** occurredAt in ms (default: one minute after the previous event) */
  readonly at?: number;
}

/** An expected event: its type and data, and whether it is caused by the command's own (first) event. */
export interface ExpectedEvent {
  readonly type: EventType;
  readonly data: Record<string, unknown>;
}

/** Typed event factories: `e.MemberAdded({ ... })`. */
export const e = Object.fromEntries(EVENT_TYPES.map((type) => [type, (data: Record<string, unknown>) => ({ type, data })])) as unknown as {
  [E in EventType]: (data: EventData<E>) => GivenEvent & ExpectedEvent;
};

/** Places an event at an instant (ISO string or ms). */
export function at(when: string | number, event: GivenEvent): GivenEvent {
  return { ...event, at: typeof when === 'number' ? when : Date.parse(when) };
}
export function byActor(actor: Actor, event: GivenEvent): GivenEvent {
  return { ...event, actor };
}

export type CommandsOf = { [T in CommandType]: (payload: CommandPayload<T>) => Command };

/** Typed command factories for one actor: `by(member('acme', 'u-admin')).AddMember({ ... })`. */
export function by(actor: CommandActor): CommandsOf {
  return Object.fromEntries(COMMAND_TYPES.map((type) => [type, (payload: unknown) => ({ type, actor, payload })])) as unknown as CommandsOf;
}
export const member = (orgId: string, userId: string): CommandActor => ({ kind: 'member', orgId, userId });
export const system = by({ kind: 'system' });
export const scim = by({ kind: 'scim' });
export const platform = by({ kind: 'platform' });

let ids = 0;
function newId(): string {
  return `evt-${++ids}`;
}

/** Folds events into a fresh store, the way the Ledger does; returns the store and the last instant used. */
export function fold(
  events: readonly GivenEvent[],
  facts = new FactStore(),
  from = { position: 0, at: START - MINUTE },
): { facts: FactStore; position: number; at: number } {
  let { position, at: t } = from;
  for (const g of events) {
    t = g.at ?? t + MINUTE;
    position++;
    const iso = new Date(t).toISOString();
    const event: LedgerEvent = {
      id: `given-${position}`,
      type: g.type,
      data: g.data as never,
      meta: { tenantId: 't', occurredAt: iso, recordedAt: iso, actor: g.actor ?? { kind: 'system' }, source: 'seed', schemaVersion: 1 },
      position,
    };
    evolve(facts, event);
  }
  return { facts, position, at: t };
}

export class Scenario {
  constructor(private readonly history: readonly GivenEvent[]) {}

  /** The command, taking effect one minute after the last given event (or at `atMs`). */
  when(command: Command, atMs?: number): Outcome {
    const folded = fold(this.history);
    const t = atMs ?? folded.at + MINUTE;
    const decision = decide(folded.facts, command, { at: t, newId });
    return new Outcome(folded.facts, folded.position, t, command, decision);
  }
}

export class Outcome {
  private folded = false;

  constructor(
    readonly facts: FactStore,
    private readonly position: number,
    readonly at: number,
    readonly command: Command,
    readonly decision: Decision,
  ) {}

  /** Accepted with exactly these events, in order; every event after the first is caused by the first. */
  // biome-ignore lint/suspicious/noThenProperty: given(…).when(…).then(…) is the specification's wording; a Given is never awaited.
  then(...expected: ExpectedEvent[]): this {
    expect(this.decision).toMatchObject({ kind: 'accepted' });
    const events = (this.decision as { events: NewEvent[] }).events;
    expect(events.map(({ type, data }) => ({ type, data }))).toEqual(expected.map(({ type, data }) => ({ type, data })));
    expect(events[0]!.type).toBe(COMMANDS[this.command.type].event);
    expect(events[0]!.causationId).toBeUndefined();
    for (const event of events.slice(1)) expect(event.causationId).toBe(events[0]!.id);
    for (const event of events) expect(EVENT_DATA[event.type]!.safeParse(event.data).error).toBeUndefined();
    return this;
  }

  /** R22/R24: refused, recorded as one AccessChangeDenied carrying the command and the organization it targeted
   *  (the payload's, else a member actor's), and no state change (R62). */
  thenRefused(rule: string, reason?: RegExp): this {
    expect(this.decision).toMatchObject({ kind: 'refused', rule });
    const refused = this.decision as Extract<Decision, { kind: 'refused' }>;
    if (reason) expect(refused.reason).toMatch(reason);
    expect(refused.events).toHaveLength(1);
    const [denied] = refused.events;
    expect(denied.type).toBe('AccessChangeDenied');
    const payloadOrg = (this.command.payload as { orgId?: string }).orgId;
    const orgId = payloadOrg ?? (this.command.actor.kind === 'member' ? this.command.actor.orgId : undefined);
    expect(denied.data).toEqual({
      ...(orgId ? { orgId } : {}),
      command: { type: this.command.type, payload: this.command.payload },
      reason: refused.reason,
      rule,
    });
    expect(EVENT_DATA['AccessChangeDenied']!.safeParse(denied.data).success).toBe(true);
    const before = this.facts.size;
    this.fold();
    expect(this.facts.size).toEqual(before);
    return this;
  }

  /** R23/R62: an invariant would break; nothing to append. */
  thenViolates(rule: string, reason?: RegExp): this {
    expect(this.decision).toMatchObject({ kind: 'violation', rule });
    expect(this.decision).not.toHaveProperty('events');
    if (reason) expect((this.decision as { reason: string }).reason).toMatch(reason);
    return this;
  }

  /** The decided events, folded after the history at the command's instant: for asking the evaluator afterwards. */
  fold(): FactStore {
    if (this.decision.kind === 'violation' || this.folded) return this.facts;
    this.folded = true;
    let position = this.position;
    for (const n of this.decision.events) {
      position++;
      const iso = new Date(this.at).toISOString();
      evolve(this.facts, {
        id: n.id,
        type: n.type,
        data: n.data as never,
        meta: {
          tenantId: 't',
          occurredAt: iso,
          recordedAt: iso,
          actor: this.command.actor,
          source: 'api',
          schemaVersion: 1,
          ...(n.causationId ? { causationId: n.causationId } : {}),
        },
        position,
      });
    }
    return this.facts;
  }

  /** A reader of the facts after the decided events (now). */
  reader(): FactReader {
    return new FactReader(this.fold(), NOW);
  }
}

export function given(...history: Array<GivenEvent | readonly GivenEvent[]>): Scenario {
  return new Scenario(history.flat() as GivenEvent[]);
}
