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
