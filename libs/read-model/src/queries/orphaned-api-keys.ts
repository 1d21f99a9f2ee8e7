import type { ClickHouseClient } from '@clickhouse/client';
import { z } from 'zod';
import { Id, InstantParam } from './report-inputs.js';

/**
 * API keys still active whose creator has left (R53: removing a creator does not revoke their keys).
 * Read from the audit trail alone: ApiKeyCreated/ApiKeyRevoked for the keys, the creator's last membership
 * event in the key's organization for "has left". With includeSuspended, a suspended creator (R33: a SCIM
 * deactivation suspends) counts as gone too.
 */
export const OrphanedApiKeysQuery = z
  .object({
    orgId: Id.optional(),
    at: InstantParam.optional(),
    includeSuspended: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).default(false),
  })
  .strict();
export type OrphanedApiKeysQuery = z.output<typeof OrphanedApiKeysQuery>;

export interface OrphanedApiKey {
  readonly orgId: string;
  readonly workspaceId: string;
  readonly apiKeyId: string;
  readonly name: string;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly createdByEvent: string;
  readonly creatorStatus: 'removed' | 'suspended';
  readonly creatorLeftAt: string;
  readonly creatorLeftEvent: string;
}

export async function orphanedApiKeys(client: ClickHouseClient, tenantId: string, query: OrphanedApiKeysQuery): Promise<OrphanedApiKey[]> {
  const at = query.at ?? new Date().toISOString();
  const result = await client.query({
    query: `
      WITH parseDateTime64BestEffort({at:String}, 3, 'UTC') AS at_instant
      SELECT k.org_id AS orgId, k.workspace_id AS workspaceId, k.api_key_id AS apiKeyId, k.name AS name, k.created_by AS createdBy,
             k.created_at AS createdAt, k.created_event AS createdByEvent,
             if(m.last_type = 'MemberRemoved', 'removed', 'suspended') AS creatorStatus,
             m.left_at AS creatorLeftAt, m.left_event AS creatorLeftEvent
      FROM (
        SELECT org_id, JSONExtractString(payload, 'workspaceId') AS workspace_id, subject AS api_key_id,
               argMax(type, (occurred_at, position)) AS last_type,
               argMaxIf(JSONExtractString(payload, 'createdBy'), (occurred_at, position), type = 'ApiKeyCreated') AS created_by,
               argMaxIf(JSONExtractString(payload, 'name'), (occurred_at, position), type = 'ApiKeyCreated') AS name,
               maxIf(occurred_at, type = 'ApiKeyCreated') AS created_at,
               argMaxIf(event_id, (occurred_at, position), type = 'ApiKeyCreated') AS created_event
        FROM audit_events
        WHERE tenant_id = {tenantId:String} AND type IN ('ApiKeyCreated', 'ApiKeyRevoked') AND occurred_at <= at_instant
          AND ({orgId:String} = '' OR org_id = {orgId:String})
        GROUP BY org_id, workspace_id, api_key_id
        HAVING last_type = 'ApiKeyCreated'
      ) AS k
      INNER JOIN (
        SELECT org_id, subject AS user_id,
               argMax(type, (occurred_at, position)) AS last_type,
               max(occurred_at) AS left_at,
               argMax(event_id, (occurred_at, position)) AS left_event
        FROM audit_events
        WHERE tenant_id = {tenantId:String} AND type IN ('MemberAdded', 'MemberRemoved', 'MemberSuspended', 'MemberReactivated')
          AND occurred_at <= at_instant AND ({orgId:String} = '' OR org_id = {orgId:String})
        GROUP BY org_id, user_id
      ) AS m ON m.org_id = k.org_id AND m.user_id = k.created_by
      WHERE m.last_type = 'MemberRemoved' OR ({includeSuspended:Bool} AND m.last_type = 'MemberSuspended')
      ORDER BY orgId, workspaceId, apiKeyId`,
    query_params: { tenantId, at, orgId: query.orgId ?? '', includeSuspended: query.includeSuspended },
    format: 'JSONEachRow',
  });
  return result.json<OrphanedApiKey>();
}
