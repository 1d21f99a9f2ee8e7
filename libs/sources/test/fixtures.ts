/**
 * A small organization's history as Compliance API activities, and the same history as ledger commands.
 *
 * Envelope fields (`id`, `created_at`, `organization_id`, `organization_uuid`, `actor` with `type: "user_actor"`,
 * `email_address`, `user_id`, `ip_address`, `user_agent`, `type`) follow the example response of the Activity Feed
 * page (https://platform.claude.com/docs/en/manage-claude/compliance-activity-feed, "Query the Activity Feed");
 * `claude_chat_created` and its `claude_chat_id` are from the same example. The type-specific fields of the admin
 * activity types (`user_id`, `email_address`, `role`, `group_id`, `role_id`, …) are our reading — the stored
 * reference excerpts did not list them — see docs/sources.md § What the reference did not say.
 */
export const ORG = 'abcdef01-2345-6789-abcd-ef0123456789';
const ORG_ID = 'org_01Wv6QeBcDfGhJkLmNpQrSt8';

const actor = { type: 'user_actor', email_address: 'olivia@acme.test', user_id: 'olivia', ip_address: '192.0.2.34', user_agent: 'Mozilla/5.0' };

function activity(id: string, createdAt: string, type: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, created_at: createdAt, organization_id: ORG_ID, organization_uuid: ORG, actor, type, ...fields };
}

export function activityHistory() {
  const activities = [
    activity('activity_org', '2026-02-01T10:00:00Z', 'org_created', { organization_name: 'Acme' }),
    activity('activity_added_olivia', '2026-02-01T10:01:00Z', 'org_user_added', {
      user_id: 'olivia',
      email_address: 'olivia@acme.test',
      role: 'primary_owner',
    }),
    activity('activity_added_uma', '2026-02-01T10:02:00Z', 'org_user_added', { user_id: 'uma', email_address: 'uma@acme.test', role: 'user' }),
    activity('activity_added_max', '2026-02-01T10:03:00Z', 'org_user_added', { user_id: 'max', email_address: 'max@acme.test', role: 'user' }),
    activity('activity_group', '2026-02-02T09:00:00Z', 'group_created', { group_id: 'eng', group_name: 'Engineering' }),
    activity('activity_role', '2026-02-02T09:05:00Z', 'custom_role_created', { role_id: 'coder', role_name: 'Coder', capabilities: ['claude_code'] }),
    activity('activity_assign', '2026-02-02T09:06:00Z', 'role_assigned_to_group', { group_id: 'eng', role_id: 'coder' }),
    activity('activity_member_max', '2026-02-02T09:07:00Z', 'group_member_added', { group_id: 'eng', user_id: 'max' }),
    activity('activity_chat_1', '2026-02-03T12:00:00Z', 'claude_chat_created', { claude_chat_id: 'claude_chat_01' }),
    activity('activity_unknown', '2026-02-03T12:30:00Z', 'org_brand_new_thing_happened', { whatever: true }),
    activity('activity_role_uma_admin', '2026-02-04T08:00:00Z', 'org_user_role_changed', { user_id: 'uma', role: 'admin' }),
    activity('activity_cap_off', '2026-02-04T08:30:00Z', 'org_capability_toggled', { capability: 'web_search', enabled: false }),
    activity('activity_unassign', '2026-02-05T08:00:00Z', 'role_unassigned_from_group', { group_id: 'eng', role_id: 'coder' }),
    activity('activity_removed_max', '2026-02-06T08:00:00Z', 'org_user_removed', { user_id: 'max' }),
  ];
  const malformed = [
    { created_at: '2026-02-03T13:00:00Z', type: 'org_user_added', organization_uuid: ORG },
    { id: 'activity_no_time', type: 'org_user_added', organization_uuid: ORG },
    activity('activity_no_email', '2026-02-03T13:10:00Z', 'org_user_added', { user_id: 'zed', role: 'user' }),
    // A value outside the ledger's vocabulary and an unknown member: refused by the ledger, recorded with its reason.
    activity('activity_bad_role', '2026-02-03T13:20:00Z', 'org_user_role_changed', { user_id: 'uma', role: 'superuser' }),
    activity('activity_ghost', '2026-02-03T13:30:00Z', 'org_user_removed', { user_id: 'ghost' }),
  ];
  return { activities, malformed };
}

/** The same history, as commands with their `occurredAt`. */
export function commandHistory(): Record<string, unknown>[] {
  const system = { kind: 'system' };
  const c = (type: string, occurredAt: string, payload: Record<string, unknown>) => ({
    type,
    actor: system,
    occurredAt: new Date(occurredAt).toISOString(),
    payload,
  });
  return [
    c('CreateOrganization', '2026-02-01T10:00:00Z', { orgId: ORG, name: 'Acme', dualSeat: false, provisioningMode: 'invite_only', usageBased: false }),
    c('AddMember', '2026-02-01T10:01:00Z', { orgId: ORG, userId: 'olivia', email: 'olivia@acme.test', role: 'primary_owner' }),
    c('AddMember', '2026-02-01T10:02:00Z', { orgId: ORG, userId: 'uma', email: 'uma@acme.test', role: 'user' }),
    c('AddMember', '2026-02-01T10:03:00Z', { orgId: ORG, userId: 'max', email: 'max@acme.test', role: 'user' }),
    c('CreateGroup', '2026-02-02T09:00:00Z', { groupId: 'eng', name: 'Engineering', source: 'manual' }),
    c('CreateRole', '2026-02-02T09:05:00Z', { orgId: ORG, roleId: 'coder', name: 'Coder' }),
    c('SetRoleCapability', '2026-02-02T09:05:00Z', { orgId: ORG, roleId: 'coder', capability: 'claude_code', granted: true }),
    c('AssignRoleToGroup', '2026-02-02T09:06:00Z', { orgId: ORG, groupId: 'eng', roleId: 'coder' }),
    c('AddUserToGroup', '2026-02-02T09:07:00Z', { groupId: 'eng', userId: 'max' }),
    c('ChangeMemberRole', '2026-02-04T08:00:00Z', { orgId: ORG, userId: 'uma', role: 'admin' }),
    c('SetOrganizationCapability', '2026-02-04T08:30:00Z', { orgId: ORG, capability: 'web_search', enabled: false }),
    c('UnassignRoleFromGroup', '2026-02-05T08:00:00Z', { orgId: ORG, groupId: 'eng', roleId: 'coder' }),
    c('RemoveMember', '2026-02-06T08:00:00Z', { orgId: ORG, userId: 'max' }),
  ];
}
