import type { ClickHouseClient } from '@clickhouse/client';
import { z } from 'zod';
import { effectiveIntervals } from './effective-intervals.js';
import { Id, InstantParam, openEndToNull } from './report-inputs.js';

/**
 * Access review at an instant (GET /v1/tenants/{t}/orgs/{o}/reports/access-review?at=): every member's
 * permissions whose interval contains `at` (valid_from <= at < valid_to), with the event that granted each.
 */
export const AccessReviewQuery = z.object({ at: InstantParam.optional(), userId: Id.optional(), format: z.enum(['json', 'csv']).default('json') }).strict();
export type AccessReviewQuery = z.output<typeof AccessReviewQuery>;

export interface AccessReviewRow {
  readonly userId: string;
  readonly permission: string;
  readonly level: string;
  readonly since: string;
  readonly grantedBy: string;
  /** When the interval ends, if it already ended after `at` (a review of the past); null if still open. */
  readonly until: string | null;
}

export interface AccessReviewMember {
  readonly userId: string;
  readonly permissions: { permission: string; level: string; since: string; grantedBy: string; until: string | null }[];
}

export async function accessReviewRows(client: ClickHouseClient, tenantId: string, orgId: string, query: AccessReviewQuery): Promise<AccessReviewRow[]> {
  const at = query.at ?? new Date().toISOString();
  const result = await client.query({
    query: `
      WITH parseDateTime64BestEffort({at:String}, 3, 'UTC') AS at_instant
      SELECT user_id AS userId, permission, level, valid_from AS since, opened_by AS grantedBy, valid_to AS until
      FROM ${effectiveIntervals("valid_from <= parseDateTime64BestEffort({at:String}, 3, 'UTC') AND valid_to > parseDateTime64BestEffort({at:String}, 3, 'UTC')")}
      WHERE tenant_id = {tenantId:String} AND org_id = {orgId:String} AND NOT is_deleted
        AND ({userId:String} = '' OR user_id = {userId:String})
        AND valid_from <= at_instant AND valid_to > at_instant
      ORDER BY userId, permission`,
    query_params: { tenantId, orgId, at, userId: query.userId ?? '' },
    format: 'JSONEachRow',
  });
  const rows = await result.json<AccessReviewRow & { until: string }>();
  return rows.map((row) => ({ ...row, until: openEndToNull(row.until) }));
}

/** The same rows grouped per member, for the JSON form of the report. */
export async function accessReview(client: ClickHouseClient, tenantId: string, orgId: string, query: AccessReviewQuery): Promise<AccessReviewMember[]> {
  const members: AccessReviewMember[] = [];
  for (const row of await accessReviewRows(client, tenantId, orgId, query)) {
    let member = members[members.length - 1];
    if (member?.userId !== row.userId) members.push((member = { userId: row.userId, permissions: [] }));
    member.permissions.push({ permission: row.permission, level: row.level, since: row.since, grantedBy: row.grantedBy, until: row.until });
  }
  return members;
}
