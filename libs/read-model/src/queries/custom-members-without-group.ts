import type { ClickHouseClient } from '@clickhouse/client';
import { z } from 'zod';
import { Id, InstantParam } from './report-inputs.js';

/**
 * `custom` members in no group at an instant (R6: such a member has no capability at all, not even chat), from
 * the audit trail: the member's last role event, their last add/remove, and every group membership of the user
 * (groups belong to the tenant, R30) that was not undone by a removal or by the group's deletion.
 */
export const CustomMembersWithoutGroupQuery = z.object({ orgId: Id.optional(), at: InstantParam.optional() }).strict();
export type CustomMembersWithoutGroupQuery = z.output<typeof CustomMembersWithoutGroupQuery>;

export interface CustomMemberWithoutGroup {
  readonly orgId: string;
  readonly userId: string;
  readonly status: 'active' | 'suspended';
  readonly customSince: string;
  readonly roleEvent: string;
}

export async function customMembersWithoutGroup(
  client: ClickHouseClient,
  tenantId: string,
  query: CustomMembersWithoutGroupQuery,
): Promise<CustomMemberWithoutGroup[]> {
  const at = query.at ?? new Date().toISOString();
  const result = await client.query({
    query: `
      WITH parseDateTime64BestEffort({at:String}, 3, 'UTC') AS at_instant
      SELECT m.org_id AS orgId, m.user_id AS userId, if(m.suspended, 'suspended', 'active') AS status,
             m.role_at AS customSince, m.role_event AS roleEvent
      FROM (
        SELECT org_id, subject AS user_id,
               argMaxIf(if(type = 'PrimaryOwnershipTransferred', 'primary_owner', JSONExtractString(payload, 'role')), (occurred_at, position),
                        type IN ('MemberAdded', 'MemberRoleChanged', 'PrimaryOwnershipTransferred')) AS role,
               maxIf(occurred_at, type IN ('MemberAdded', 'MemberRoleChanged', 'PrimaryOwnershipTransferred')) AS role_at,
               argMaxIf(event_id, (occurred_at, position), type IN ('MemberAdded', 'MemberRoleChanged', 'PrimaryOwnershipTransferred')) AS role_event,
               argMaxIf(type, (occurred_at, position), type IN ('MemberAdded', 'MemberRemoved')) = 'MemberAdded' AS present,
               argMaxIf(type, (occurred_at, position), type IN ('MemberSuspended', 'MemberReactivated', 'MemberAdded')) = 'MemberSuspended' AS suspended
        FROM audit_events
        WHERE tenant_id = {tenantId:String}
          AND type IN ('MemberAdded', 'MemberRemoved', 'MemberRoleChanged', 'PrimaryOwnershipTransferred', 'MemberSuspended', 'MemberReactivated')
          AND occurred_at <= at_instant AND ({orgId:String} = '' OR org_id = {orgId:String})
        GROUP BY org_id, user_id
        HAVING present AND role = 'custom'
      ) AS m
      WHERE m.user_id NOT IN (
        SELECT g.user_id FROM (
          SELECT JSONExtractString(payload, 'groupId') AS group_id, subject AS user_id,
                 argMax(type, (occurred_at, position)) AS last_type, max(occurred_at) AS added_at
          FROM audit_events
          WHERE tenant_id = {tenantId:String} AND type IN ('UserAddedToGroup', 'UserRemovedFromGroup') AND occurred_at <= at_instant
          GROUP BY group_id, user_id
          HAVING last_type = 'UserAddedToGroup'
        ) AS g
        LEFT JOIN (
          SELECT subject AS group_id, max(occurred_at) AS deleted_at
          FROM audit_events
          WHERE tenant_id = {tenantId:String} AND type = 'GroupDeleted' AND occurred_at <= at_instant
          GROUP BY group_id
        ) AS d ON d.group_id = g.group_id
        WHERE d.group_id = '' OR d.deleted_at < g.added_at
      )
      ORDER BY orgId, userId`,
    query_params: { tenantId, at, orgId: query.orgId ?? '' },
    format: 'JSONEachRow',
  });
  return result.json<CustomMemberWithoutGroup>();
}
