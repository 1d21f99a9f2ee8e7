import type { JsonValue, RecordedEvent } from '@access-ledger/event-store';

/**
 * Test data builder for RecordedEvent-shaped histories (what the event store hands to projections):
 * `new RecordedHistory('acme').at('2026-01-01T09:00:00.000Z').by(owner).add('MemberAdded', {...})`.
 */
export type ActorJson = { kind: 'member'; orgId: string; userId: string } | { kind: 'scim' | 'platform' | 'system' | 'import' };

export class RecordedHistory {
  private readonly list: RecordedEvent[] = [];
  private clock: number;
  private actor: ActorJson = { kind: 'system' };
  private revision = 0;

  constructor(
    readonly tenantId = 'acme',
    start = '2026-01-01T00:00:00.000Z',
    private position = 0,
  ) {
    this.clock = Date.parse(start);
  }

  at(instant: string): this {
    this.clock = Date.parse(instant);
    return this;
  }

  by(actor: ActorJson): this {
    this.actor = actor;
    return this;
  }

  add(type: string, data: { [key: string]: JsonValue }, options: { id?: string; source?: string } = {}): this {
    const occurredAt = new Date(this.clock).toISOString();
    const position = this.position++;
    this.list.push({
      id: options.id ?? `${this.tenantId}-e${position}`,
      type,
      data,
      metadata: {
        tenantId: this.tenantId,
        occurredAt,
        recordedAt: occurredAt,
        actor: this.actor,
        source: options.source ?? 'api',
        correlationId: `corr-${position}`,
        schemaVersion: 1,
      },
      streamId: `tenant-${this.tenantId}`,
      revision: this.revision++,
      position,
      prevHash: '0'.repeat(64),
      hash: position.toString(16).padStart(64, '0'),
    });
    this.clock += 60_000;
    return this;
  }

  get events(): readonly RecordedEvent[] {
    return this.list;
  }
}

export async function* fromArray(events: readonly RecordedEvent[], after = -1): AsyncIterable<RecordedEvent> {
  for (const event of events) if (event.position > after) yield event;
}
