import type { ClickHouseClient } from '@clickhouse/client';
import type { RecordedEvent } from '@access-ledger/event-store';
import { insertRows } from '../clickhouse.js';

/**
 * Events a projection could not take, in `quarantined_events`: recorded with the error, skipped,
 * and tried again when the projection next starts (after a fix, a restart releases what it can now take). One
 * event that no row can hold must never stop a projection, for its tenant or any other (docs/read-model.md).
 */
export interface QuarantinedEvent {
  readonly projection: string;
  readonly generation: number;
  readonly position: number;
  readonly tenantId: string;
  readonly eventId: string;
  readonly type: string;
  readonly error: string;
  readonly firstSeen: string;
}

interface QuarantineRow {
  projection_name: string;
  generation: number | string;
  position: number | string;
  tenant_id: string;
  event_id: string;
  type: string;
  error: string;
  first_seen: string;
}

export class Quarantine {
  /** The current generation's unreleased events, by position (loaded at each start). */
  private held = new Map<number, QuarantinedEvent>();
  private version = 0;

  constructor(
    private readonly client: ClickHouseClient,
    readonly projection: string,
  ) {}

  get count(): number {
    return this.held.size;
  }

  /** Quarantined events per tenant (for /ready). */
  byTenant(): Record<string, number> {
    const counts: Record<string, number> = Object.create(null) as Record<string, number>;
    for (const q of this.held.values()) counts[q.tenantId] = (counts[q.tenantId] ?? 0) + 1;
    return counts;
  }

  has(position: number): boolean {
    return this.held.has(position);
  }

  async load(generation: number): Promise<QuarantinedEvent[]> {
    this.held = new Map((await listQuarantined(this.client, this.projection, generation)).map((q) => [q.position, q]));
    return [...this.held.values()];
  }

  async add(generation: number, event: RecordedEvent, error: unknown): Promise<void> {
    if (this.held.has(event.position)) return;
    const record: QuarantinedEvent = {
      projection: this.projection,
      generation,
      position: event.position,
      tenantId: typeof event.metadata.tenantId === 'string' ? event.metadata.tenantId : '',
      eventId: event.id,
      type: event.type,
      error: describeError(error),
      firstSeen: new Date().toISOString(),
    };
    await this.write(record, false);
    this.held.set(event.position, record);
  }

  async release(position: number): Promise<void> {
    const record = this.held.get(position);
    if (!record) return;
    await this.write(record, true);
    this.held.delete(position);
  }

  private async write(q: QuarantinedEvent, released: boolean): Promise<void> {
    this.version = Math.max(this.version + 1, Date.now() * 1000);
    await insertRows(this.client, {
      table: 'quarantined_events',
      rows: [
        {
          projection_name: q.projection,
          generation: q.generation,
          position: q.position,
          tenant_id: q.tenantId,
          event_id: q.eventId,
          type: q.type,
          error: q.error,
          first_seen: q.firstSeen,
          released: released ? 1 : 0,
          version: this.version,
        },
      ],
    });
  }
}

/** Unreleased quarantined events of a projection's generation, in position order (`ledger quarantine list`, /ready). */
export async function listQuarantined(client: ClickHouseClient, projection?: string, generation?: number): Promise<QuarantinedEvent[]> {
  const result = await client.query({
    query: `SELECT projection_name, generation, position, tenant_id, event_id, type, error, first_seen
            FROM quarantined_events FINAL
            WHERE NOT released AND ({projection:String} = '' OR projection_name = {projection:String})
              AND ({generation:Int64} < 0 OR generation = {generation:Int64})
            ORDER BY projection_name, position`,
    query_params: { projection: projection ?? '', generation: generation ?? -1 },
    format: 'JSONEachRow',
  });
  const rows = await result.json<QuarantineRow>();
  return rows.map((r) => ({
    projection: r.projection_name,
    generation: Number(r.generation),
    position: Number(r.position),
    tenantId: r.tenant_id,
    eventId: r.event_id,
    type: r.type,
    error: r.error,
    firstSeen: r.first_seen,
  }));
}

/** The error as one line, bounded: it is stored and shown on /ready (by every projection's quarantine). */
export function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.replace(/\s+/g, ' ').slice(0, 1000);
}

/**
 * Whether a failed write is about the rows (a value ClickHouse cannot parse or hold, a row our code cannot encode),
 * so that inserting the rows one by one finds the culprit; or about the connection, the disk, memory, or the
 * server (then the projection stops and restarts as before: skipping events because the disk is full would lose
 * them). Unknown server error codes count as infrastructure, so the worst a new code does is the old behaviour.
 */
export function isDataError(error: unknown): boolean {
  if (error instanceof RangeError || error instanceof TypeError || error instanceof SyntaxError) return true;
  const message = error instanceof Error ? error.message : String(error);
  const code = /Code: (\d+)/.exec(message)?.[1] ?? (error as { code?: unknown })?.code;
  return DATA_ERROR_CODES.has(Number(code));
}

/**
 * ClickHouse error codes about the data of an insert (src/Common/ErrorCodes.cpp): cannot parse text, quoted
 * string, date, datetime, number, bool, input assertion, incorrect data, type mismatch, too deep recursion,
 * too large string size, argument out of bound, value is out of range, cannot read all data, cannot parse bool.
 */
const DATA_ERROR_CODES = new Set([6, 26, 27, 32, 33, 38, 41, 53, 69, 70, 72, 117, 128, 131, 306, 321, 467]);
