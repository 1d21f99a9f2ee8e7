import type { ClickHouseClient } from '@clickhouse/client';
import { z } from 'zod';
import { effectiveIntervals } from './effective-intervals.js';
import { Id, overPeriod } from './report-inputs.js';

/**
 * The access changes of a period (the quarterly review): every interval opened or closed in [from, to).
 * A close and an open of the same member × permission caused by the same event at the same instant is one
 * `changed` row (a level change); otherwise an open is `gained` and a close is `lost`.
 */
export const AccessChangesQuery = overPeriod({ userId: Id.optional(), permissionPrefix: z.string().max(200).optional() });
export type AccessChangesQuery = z.output<typeof AccessChangesQuery>;

export interface AccessChange {
  readonly at: string;
  readonly userId: string;
  readonly permission: string;
  readonly change: 'gained' | 'lost' | 'changed';
  readonly level: string | null;
  readonly previousLevel: string | null;
  readonly eventId: string;
}

export async function accessChanges(client: ClickHouseClient, tenantId: string, orgId: string, query: AccessChangesQuery): Promise<AccessChange[]> {
  const result = await client.query({
    query: `
      WITH parseDateTime64BestEffort({from:String}, 3, 'UTC') AS p_from, parseDateTime64BestEffort({to:String}, 3, 'UTC') AS p_to
      SELECT at, user_id AS userId, permission, event_id AS eventId,
             groupArrayIf(level, kind = 'open') AS opened, groupArrayIf(level, kind = 'close') AS closed
      FROM (
        SELECT valid_from AS at, user_id, permission, level, opened_by AS event_id, 'open' AS kind
        FROM ${effectiveIntervals()}
        WHERE tenant_id = {tenantId:String} AND org_id = {orgId:String} AND NOT is_deleted AND valid_from >= p_from AND valid_from < p_to
          AND ({userId:String} = '' OR user_id = {userId:String}) AND startsWith(permission, {prefix:String})
        UNION ALL
        SELECT valid_to AS at, user_id, permission, level, closed_by AS event_id, 'close' AS kind
        FROM ${effectiveIntervals()}
        WHERE tenant_id = {tenantId:String} AND org_id = {orgId:String} AND NOT is_deleted AND closed_by != '' AND valid_to >= p_from AND valid_to < p_to
          AND ({userId:String} = '' OR user_id = {userId:String}) AND startsWith(permission, {prefix:String})
      )
      GROUP BY at, userId, permission, eventId
      ORDER BY at, userId, permission, eventId`,
    query_params: { tenantId, orgId, from: query.from, to: query.to, userId: query.userId ?? '', prefix: query.permissionPrefix ?? '' },
    format: 'JSONEachRow',
  });
  const rows = await result.json<{ at: string; userId: string; permission: string; eventId: string; opened: string[]; closed: string[] }>();
  // A member moving between the organization's tool profile and tools of their own (connector permissions enabled
  // or disabled, a role change to or from custom) closes and opens a tool at the same level at the same instant:
  // not a change of access (docs/access-intervals.md § Access profiles).
  return rows
    .filter((row) => !(row.opened.length === 1 && row.closed.length === 1 && row.opened[0] === row.closed[0]))
    .map((row) => {
      const level = row.opened[0] ?? null;
      const previousLevel = row.closed[0] ?? null;
      const change = level !== null && previousLevel !== null ? 'changed' : level !== null ? 'gained' : 'lost';
      return { at: row.at, userId: row.userId, permission: row.permission, change, level, previousLevel, eventId: row.eventId };
    });
}
