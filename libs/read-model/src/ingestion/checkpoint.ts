import type { ClickHouseClient } from '@clickhouse/client';
import { insertRows } from '../clickhouse.js';

/**
 * A projection's checkpoint in `projection_checkpoints`. `pendingThrough > position` records a batch that was
 * announced (and maybe inserted) but not confirmed: the next run must rebuild exactly that batch, so its
 * deduplication token matches and a replayed insert is dropped. `generation` changes on every rebuild so a
 * replay from 0 is never mistaken for a duplicate of the previous generation's batches.
 */
export interface Checkpoint {
  readonly position: number;
  readonly pendingThrough: number;
  readonly generation: number;
}

/** pending_through of a rebuild's first checkpoint: the table must be emptied before anything is written. */
export const TRUNCATION_PENDING = -2;

export const INITIAL_CHECKPOINT: Checkpoint = { position: -1, pendingThrough: -1, generation: 0 };

export class CheckpointStore {
  private version = 0;

  constructor(
    private readonly client: ClickHouseClient,
    readonly projection: string,
    /** '' for a projection over every tenant (the subscription to $all). */
    readonly tenantId = '',
  ) {}

  async load(): Promise<Checkpoint> {
    const result = await this.client.query({
      query: `SELECT position, pending_through, generation, version FROM projection_checkpoints
              WHERE projection_name = {projection:String} AND tenant_id = {tenant:String}
              ORDER BY version DESC LIMIT 1`,
      query_params: { projection: this.projection, tenant: this.tenantId },
      format: 'JSONEachRow',
    });
    const [row] = await result.json<{ position: number | string; pending_through: number | string; generation: number | string; version: number | string }>();
    if (!row) return INITIAL_CHECKPOINT;
    this.version = Number(row.version);
    return { position: Number(row.position), pendingThrough: Number(row.pending_through), generation: Number(row.generation) };
  }

  async save(checkpoint: Checkpoint): Promise<void> {
    // Microsecond clock, bumped past the last version we saw, so versions only grow across restarts too.
    this.version = Math.max(this.version + 1, Date.now() * 1000);
    await insertRows(this.client, {
      table: 'projection_checkpoints',
      rows: [
        {
          projection_name: this.projection,
          tenant_id: this.tenantId,
          position: checkpoint.position,
          pending_through: checkpoint.pendingThrough,
          generation: checkpoint.generation,
          version: this.version,
          updated_at: new Date().toISOString(),
        },
      ],
    });
  }
}

/** The tables the live projections fill, each under its projection's name in `projection_checkpoints`. */
export type ProjectedTable = 'audit_events' | 'access_intervals';

/**
 * The position through which `table` holds every event of every tenant: its projection's checkpoint, written after
 * each batch is inserted (-1 before the first batch, and again while a rebuild empties the table). Read from
 * ClickHouse, so it is right for any process that queries the same read model, not only the one projecting.
 */
export async function projectedThrough(client: ClickHouseClient, table: ProjectedTable): Promise<number> {
  return (await new CheckpointStore(client, table).load()).position;
}

/**
 * Read-your-writes for the read model: resolves once `table` is projected through `position` (a position a command
 * answered with), polling its checkpoint, or after `timeoutMs` with `reached: false`. `through` is the last
 * checkpoint read: every event at or before it is in the table.
 */
export async function untilProjected(
  client: ClickHouseClient,
  table: ProjectedTable,
  position: number,
  options: { timeoutMs: number; pollMs?: number },
): Promise<{ reached: boolean; through: number }> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const through = await projectedThrough(client, table);
    if (through >= position) return { reached: true, through };
    if (Date.now() >= deadline) return { reached: false, through };
    await new Promise((resolve) => setTimeout(resolve, Math.min(options.pollMs ?? 25, Math.max(1, deadline - Date.now()))));
  }
}
