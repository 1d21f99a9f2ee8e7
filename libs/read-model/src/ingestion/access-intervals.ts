import type { ClickHouseClient } from '@clickhouse/client';
import { insertRows } from '../clickhouse.js';
import { OPEN_END } from '../schema/migrations.js';

/**
 * A change in what a member holds, as the evaluator reports it: at `at` (occurredAt of `eventId`) the member
 * started (`open`) or stopped (`close`) holding `permission` at `level`.
 * Permissions: 'capability:<c>', 'tool:<connectorId>/<toolName>', 'admin:<area>', 'role:<builtInRole>',
 * 'console:<role>', 'workspace:<workspaceId>:<role>' — any string; reports match them exactly.
 */
export interface AccessIntervalChange {
  readonly tenantId: string;
  readonly orgId: string;
  readonly userId: string;
  readonly permission: string;
  readonly level: string;
  readonly at: string;
  readonly eventId: string;
  readonly kind: 'open' | 'close';
}

export interface AccessIntervalRow {
  readonly tenant_id: string;
  readonly org_id: string;
  readonly user_id: string;
  readonly permission: string;
  readonly level: string;
  readonly valid_from: string;
  readonly valid_to: string;
  readonly opened_by: string;
  readonly closed_by: string;
  readonly version: number;
}

interface OpenInterval {
  readonly level: string;
  readonly validFrom: string;
  readonly openedBy: string;
}

const keyOf = (c: { tenantId: string; orgId: string; userId: string; permission: string }) =>
  JSON.stringify([c.tenantId, c.orgId, c.userId, c.permission]);

/**
 * Writes access intervals. Closing an interval inserts its row again with valid_to/closed_by and a higher version
 * (ReplacingMergeTree keeps the latest), so the writer must know each open interval's key: it loads them once
 * and keeps them in memory (one entry per member × permission currently held).
 *
 * Rules: opening a permission that is already open at the same level is a no-op; at another level it closes the
 * old interval at the same instant (a level change is a close plus an open caused by the same event); closing
 * a permission that is not open is a no-op.
 */
export class AccessIntervalWriter {
  private open: Map<string, OpenInterval> | undefined;
  private version = 0;

  constructor(private readonly client: ClickHouseClient) {}

  private async load(): Promise<Map<string, OpenInterval>> {
    if (this.open) return this.open;
    const result = await this.client.query({
      query: `SELECT tenant_id, org_id, user_id, permission, level, valid_from, opened_by, version
              FROM access_intervals FINAL WHERE valid_to = parseDateTime64BestEffort({openEnd:String}, 3, 'UTC')`,
      query_params: { openEnd: OPEN_END },
      format: 'JSONEachRow',
    });
    const open = new Map<string, OpenInterval>();
    for (const row of await result.json<AccessIntervalRow>()) {
      open.set(keyOf({ tenantId: row.tenant_id, orgId: row.org_id, userId: row.user_id, permission: row.permission }), {
        level: row.level,
        validFrom: row.valid_from,
        openedBy: row.opened_by,
      });
      this.version = Math.max(this.version, Number(row.version));
    }
    const [max] = await (await this.client.query({ query: 'SELECT max(version) AS v FROM access_intervals', format: 'JSONEachRow' })).json<{ v: number | string }>();
    this.version = Math.max(this.version, Number(max?.v ?? 0));
    return (this.open = open);
  }

  /**
   * Applies changes in order and inserts the resulting rows in one insert. Pass `deduplicationToken` (e.g. derived
   * from the event positions the changes came from) to make a replay after a crash a no-op.
   */
  async write(changes: readonly AccessIntervalChange[], options: { deduplicationToken?: string } = {}): Promise<number> {
    const open = await this.load();
    const rows: AccessIntervalRow[] = [];
    const nextVersion = () => (this.version = Math.max(this.version + 1, Date.now() * 1000));
    const close = (change: AccessIntervalChange, key: string, current: OpenInterval) => {
      rows.push({
        tenant_id: change.tenantId,
        org_id: change.orgId,
        user_id: change.userId,
        permission: change.permission,
        level: current.level,
        valid_from: current.validFrom,
        valid_to: change.at,
        opened_by: current.openedBy,
        closed_by: change.eventId,
        version: nextVersion(),
      });
      open.delete(key);
    };
    for (const change of changes) {
      const key = keyOf(change);
      const current = open.get(key);
      if (change.kind === 'close') {
        if (current) close(change, key, current);
        continue;
      }
      if (current?.level === change.level) continue;
      if (current) close(change, key, current);
      rows.push({
        tenant_id: change.tenantId,
        org_id: change.orgId,
        user_id: change.userId,
        permission: change.permission,
        level: change.level,
        valid_from: change.at,
        valid_to: OPEN_END,
        opened_by: change.eventId,
        closed_by: '',
        version: nextVersion(),
      });
      open.set(key, { level: change.level, validFrom: change.at, openedBy: change.eventId });
    }
    if (rows.length === 0) return 0;
    try {
      await insertRows(this.client, { table: 'access_intervals', rows, ...(options.deduplicationToken ? { deduplicationToken: options.deduplicationToken } : {}) });
    } catch (error) {
      // The in-memory view already moved on; reload it from the table next time.
      this.open = undefined;
      throw error;
    }
    return rows.length;
  }

  /** Forgets the cached open intervals (after a rebuild truncated the table). */
  reset(): void {
    this.open = undefined;
  }
}

/** One-shot convenience: applies changes with a fresh writer (loads the open intervals first). */
export async function ingestAccessIntervalChanges(client: ClickHouseClient, changes: readonly AccessIntervalChange[]): Promise<number> {
  return new AccessIntervalWriter(client).write(changes);
}
