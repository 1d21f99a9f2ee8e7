import type { ClickHouseClient } from '@clickhouse/client';
import { z } from 'zod';
import { effectiveIntervals } from './effective-intervals.js';
import { overPeriod } from './report-inputs.js';

/**
 * Privileged access over time: per bucket (day, week or month) of [from, to), who held a privileged permission —
 * owners and admins (built-in roles), Console admins, and `manage` on any admin area (R21).
 */
export const PRIVILEGED_ROLES = ['role:primary_owner', 'role:owner', 'role:admin', 'console:admin'] as const;

export const PrivilegedAccessQuery = overPeriod({ bucket: z.enum(['day', 'week', 'month']).default('day') }).superRefine((q, ctx) => {
  if (bucketStarts(q.from, q.to, q.bucket).length > 1000)
    ctx.addIssue({ code: 'custom', message: 'more than 1000 buckets: use a larger bucket', path: ['bucket'] });
});
export type PrivilegedAccessQuery = z.output<typeof PrivilegedAccessQuery>;

export interface PrivilegedBucket {
  readonly bucketStart: string;
  readonly permission: string;
  readonly level: string;
  readonly holders: number;
  readonly userIds: string[];
}

/** Bucket starts in UTC: midnight, Monday midnight, or the first of the month; the first bucket starts at `from`. */
export function bucketStarts(from: string, to: string, bucket: 'day' | 'week' | 'month'): string[] {
  const end = Date.parse(to);
  const starts = [from];
  const d = new Date(from);
  d.setUTCHours(0, 0, 0, 0);
  if (bucket === 'week') d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  if (bucket === 'month') d.setUTCDate(1);
  for (;;) {
    if (bucket === 'day') d.setUTCDate(d.getUTCDate() + 1);
    else if (bucket === 'week') d.setUTCDate(d.getUTCDate() + 7);
    else d.setUTCMonth(d.getUTCMonth() + 1);
    if (d.getTime() >= end || starts.length > 1000) return starts;
    starts.push(d.toISOString());
  }
}

export async function privilegedAccess(client: ClickHouseClient, tenantId: string, orgId: string, query: PrivilegedAccessQuery): Promise<PrivilegedBucket[]> {
  const starts = bucketStarts(query.from, query.to, query.bucket);
  const ends = [...starts.slice(1), query.to];
  const result = await client.query({
    query: `
      WITH parseDateTime64BestEffort({from:String}, 3, 'UTC') AS p_from, parseDateTime64BestEffort({to:String}, 3, 'UTC') AS p_to
      SELECT bucket_start AS bucketStart, permission, level, uniqExact(user_id) AS holders, arraySort(groupUniqArray(user_id)) AS userIds
      FROM (
        SELECT user_id, permission, level, valid_from, valid_to
        FROM ${effectiveIntervals('0')}
        WHERE tenant_id = {tenantId:String} AND org_id = {orgId:String} AND NOT is_deleted
          AND (permission IN {roles:Array(String)} OR (startsWith(permission, 'admin:') AND level = 'manage'))
          AND valid_from < p_to AND valid_to > p_from
      )
      ARRAY JOIN {starts:Array(String)} AS bucket_start, {ends:Array(String)} AS bucket_end
      WHERE valid_from < parseDateTime64BestEffort(bucket_end, 3, 'UTC') AND valid_to > parseDateTime64BestEffort(bucket_start, 3, 'UTC')
      GROUP BY bucketStart, permission, level
      ORDER BY bucketStart, permission, level`,
    query_params: { tenantId, orgId, from: query.from, to: query.to, roles: [...PRIVILEGED_ROLES], starts, ends },
    format: 'JSONEachRow',
  });
  const rows = await result.json<PrivilegedBucket & { holders: number | string }>();
  return rows.map((row) => ({ ...row, holders: Number(row.holders) }));
}
