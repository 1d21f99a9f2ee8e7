import type { ClickHouseClient } from '@clickhouse/client';
import { z } from 'zod';
import { effectiveIntervals } from './effective-intervals.js';
import { durationMs, overPeriod, Permission, openEndToNull } from './report-inputs.js';

/**
 * Who held a permission during a period, with durations: every interval of `permission` overlapping
 * [from, to), clipped to the period, plus each holder's total time.
 */
export const PermissionHoldersQuery = overPeriod({
  permission: Permission,
  /** Only intervals at one of these levels (e.g. ['manage'] for an admin area); all levels when omitted. */
  levels: z
    .union([
      z.array(z.string().min(1).max(64)).max(10),
      z
        .string()
        .min(1)
        .max(200)
        .transform((s) => s.split(',')),
    ])
    .optional(),
});
export type PermissionHoldersQuery = z.output<typeof PermissionHoldersQuery>;

export interface HeldInterval {
  readonly userId: string;
  readonly level: string;
  /** The interval clipped to the period. */
  readonly from: string;
  readonly to: string;
  readonly durationMs: number;
  /** The interval itself: when it started and ended (null while open), and the events that opened/closed it. */
  readonly validFrom: string;
  readonly validTo: string | null;
  readonly openedBy: string;
  readonly closedBy: string | null;
}

export interface PermissionHolder {
  readonly userId: string;
  readonly totalMs: number;
  readonly intervals: HeldInterval[];
}

export async function permissionHolderIntervals(
  client: ClickHouseClient,
  tenantId: string,
  orgId: string,
  query: PermissionHoldersQuery,
): Promise<HeldInterval[]> {
  const result = await client.query({
    query: `
      WITH parseDateTime64BestEffort({from:String}, 3, 'UTC') AS p_from, parseDateTime64BestEffort({to:String}, 3, 'UTC') AS p_to
      SELECT user_id AS userId, level, greatest(valid_from, p_from) AS from, least(valid_to, p_to) AS to,
             valid_from AS validFrom, valid_to AS validTo, opened_by AS openedBy, closed_by AS closedBy
      FROM ${effectiveIntervals("permission = {permission:String} AND valid_from < parseDateTime64BestEffort({to:String}, 3, 'UTC') AND valid_to > parseDateTime64BestEffort({from:String}, 3, 'UTC')")}
      WHERE tenant_id = {tenantId:String} AND org_id = {orgId:String} AND permission = {permission:String} AND NOT is_deleted
        AND (empty({levels:Array(String)}) OR has({levels:Array(String)}, level))
        AND valid_from < p_to AND valid_to > p_from
      ORDER BY userId, validFrom`,
    query_params: { tenantId, orgId, permission: query.permission, levels: query.levels ?? [], from: query.from, to: query.to },
    format: 'JSONEachRow',
  });
  const rows = await result.json<{
    userId: string;
    level: string;
    from: string;
    to: string;
    validFrom: string;
    validTo: string;
    openedBy: string;
    closedBy: string;
  }>();
  return rows.map((row) => ({
    ...row,
    durationMs: durationMs(row.from, row.to),
    validTo: openEndToNull(row.validTo),
    closedBy: row.closedBy || null,
  }));
}

export async function permissionHolders(client: ClickHouseClient, tenantId: string, orgId: string, query: PermissionHoldersQuery): Promise<PermissionHolder[]> {
  const holders: PermissionHolder[] = [];
  for (const interval of await permissionHolderIntervals(client, tenantId, orgId, query)) {
    let holder = holders[holders.length - 1];
    if (holder?.userId !== interval.userId) holders.push((holder = { userId: interval.userId, totalMs: 0, intervals: [] }));
    holder.intervals.push(interval);
    (holder as { totalMs: number }).totalMs += interval.durationMs;
  }
  return holders;
}
