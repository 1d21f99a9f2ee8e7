/**
 * From one Compliance API activity to the ledger's events (import lines, libs/access-model catalog.ts).
 *
 * The envelope every activity carries — `id`, `created_at`, `organization_id`, `organization_uuid`, `actor`
 * (`type: "user_actor"`, `user_id`, `email_address`, …), `type` — is documented on the Activity Feed page ("Query
 * the Activity Feed", the example response). The ledger's organization id is the activity's `organization_uuid`
 * (the id the directory endpoints take as `{org_uuid}`); its member ids are the feed's `user_id`s.
 *
 * The type-specific fields of the access-relevant activity types below were NOT in the reference excerpts this was
 * written from (the type list is long and the stored pages showed only `claude_chat_created`): the field names are
 * our reading, kept in one table (`MAPPINGS`) so they are changed in one place, and an activity that lacks a field
 * its mapping needs is recorded as rejected with the reason, never guessed (docs/sources.md).
 */

export type Disposition = 'mapped' | 'audit' | 'unmapped' | 'rejected';

export interface MappedLine {
  readonly id: string;
  readonly type: string;
  readonly occurredAt: string;
  readonly actor: Record<string, string>;
  readonly source: 'compliance-api';
  readonly data: Record<string, unknown>;
  readonly correlationId: string;
  /**
   * Evidence beyond the activity itself (what was observed at ingestion). The sync adds the activity's digest to
   * every line (`{ complianceActivityId, complianceActivitySha256 }`, docs/sources.md § Sync).
   */
  readonly evidence?: Record<string, unknown>;
}

export type MappingResult =
  | { readonly disposition: 'mapped'; readonly lines: readonly MappedLine[] }
  | { readonly disposition: 'audit' | 'unmapped'; readonly lines: readonly [] }
  | { readonly disposition: 'rejected'; readonly reason: string; readonly lines: readonly [] };

/** What the sync validates of every activity before anything else (Activity Feed page, example response). */
export interface ActivityEnvelope {
  readonly id: string;
  readonly created_at: string;
  readonly type: string;
  readonly organization_uuid?: string;
}

const ID = /^[A-Za-z0-9._:@-]{1,120}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** The envelope, or why the activity is malformed. */
export function envelopeOf(raw: unknown): ActivityEnvelope | { readonly problem: string; readonly id?: string } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { problem: 'is not a JSON object' };
  const a = raw as Record<string, unknown>;
  const id = typeof a.id === 'string' ? a.id : undefined;
  if (id === undefined || id === '') return { problem: 'has no id' };
  if (!ID.test(id)) return { problem: `id ${JSON.stringify(id.slice(0, 64))} is not 1–120 characters of A-Z a-z 0-9 . _ : @ -`, id };
  if (typeof a.created_at !== 'string' || !ISO.test(a.created_at) || Number.isNaN(Date.parse(a.created_at))) {
    return { problem: 'created_at is missing or not an ISO-8601 instant', id };
  }
  if (typeof a.type !== 'string' || a.type === '') return { problem: 'has no type', id };
  return {
    id,
    created_at: a.created_at,
    type: a.type,
    ...(typeof a.organization_uuid === 'string' ? { organization_uuid: a.organization_uuid } : {}),
  };
}

/** Activity types that carry no access change (authentication, chats, files, projects): kept as they are, not mapped. */
const NON_ACCESS_PREFIXES = ['claude_chat_', 'claude_file_', 'claude_project_', 'user_login', 'user_logout', 'user_signed_', 'session_', 'compliance_'];

type Fields = Record<string, unknown>;
type Build = (a: Fields, org: string) => readonly { type: string; data: Record<string, unknown> }[] | string;

const str = (a: Fields, key: string): string | undefined => (typeof a[key] === 'string' && a[key] !== '' ? (a[key] as string) : undefined);
/** A required field, or the reason it is missing (the caller turns a string into a rejection). */
function need(a: Fields, ...keys: string[]): Record<string, string> | string {
  const out: Record<string, string> = {};
  const missing = keys.filter((k) => str(a, k) === undefined);
  if (missing.length > 0) return `missing ${missing.join(', ')}`;
  for (const k of keys) out[k] = str(a, k)!;
  return out;
}
function one(type: string, data: Record<string, unknown>) {
  return [{ type, data }];
}
function cents(a: Fields): number | null | string {
  const v = a.limit_cents;
  if (v === null) return null;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  return 'limit_cents must be whole cents or null';
}

/**
 * Every access-relevant type we map, with the ledger event(s) it becomes. `org` is the activity's
 * `organization_uuid`. A string answer is the reason the activity is rejected.
 */
export const MAPPINGS: Readonly<Record<string, Build>> = {
  // members, invitations, seat tier, primary owner
  org_user_added: (a, org) => {
    const f = need(a, 'user_id', 'email_address', 'role');
    return typeof f === 'string'
      ? f
      : one('MemberAdded', { orgId: org, userId: f.user_id, email: f.email_address, role: f.role, ...(str(a, 'seat_tier') ? { seat: a.seat_tier } : {}) });
  },
  org_invite_accepted: (a, org) => MAPPINGS.org_user_added!(a, org),
  org_user_removed: (a, org) => {
    const f = need(a, 'user_id');
    return typeof f === 'string' ? f : one('MemberRemoved', { orgId: org, userId: f.user_id });
  },
  org_user_role_changed: (a, org) => {
    const f = need(a, 'user_id', 'role');
    return typeof f === 'string' ? f : one('MemberRoleChanged', { orgId: org, userId: f.user_id, role: f.role });
  },
  org_user_seat_tier_changed: (a, org) => {
    const f = need(a, 'user_id', 'seat_tier');
    return typeof f === 'string' ? f : one('MemberSeatChanged', { orgId: org, userId: f.user_id, seat: f.seat_tier });
  },
  org_user_suspended: (a, org) => {
    const f = need(a, 'user_id');
    return typeof f === 'string' ? f : one('MemberSuspended', { orgId: org, userId: f.user_id });
  },
  org_user_reactivated: (a, org) => {
    const f = need(a, 'user_id');
    return typeof f === 'string' ? f : one('MemberReactivated', { orgId: org, userId: f.user_id });
  },
  org_primary_owner_transferred: (a, org) => {
    const f = need(a, 'to_user_id');
    return typeof f === 'string'
      ? f
      : one('PrimaryOwnershipTransferred', { orgId: org, toUserId: f.to_user_id, ...(str(a, 'from_user_id') ? { fromUserId: a.from_user_id } : {}) });
  },
  // organization
  org_created: (a, org) => {
    const f = need(a, 'organization_name');
    return typeof f === 'string'
      ? f
      : one('OrganizationCreated', {
          orgId: org,
          name: f.organization_name,
          dualSeat: a.dual_seat === true,
          provisioningMode: str(a, 'provisioning_mode') ?? 'invite_only',
          usageBased: a.usage_based === true,
        });
  },
  org_capability_toggled: (a, org) => {
    const f = need(a, 'capability');
    if (typeof f === 'string') return f;
    if (typeof a.enabled !== 'boolean') return 'enabled must be true or false';
    return one('OrganizationCapabilitySet', { orgId: org, capability: f.capability, enabled: a.enabled });
  },
  // groups (tenant level, R30)
  group_created: (a) => {
    const f = need(a, 'group_id', 'group_name');
    return typeof f === 'string'
      ? f
      : one('GroupCreated', { groupId: f.group_id, name: f.group_name, source: str(a, 'group_source') === 'scim' ? 'scim' : 'manual' });
  },
  group_deleted: (a) => {
    const f = need(a, 'group_id');
    return typeof f === 'string' ? f : one('GroupDeleted', { groupId: f.group_id });
  },
  group_member_added: (a) => {
    const f = need(a, 'group_id', 'user_id');
    return typeof f === 'string' ? f : one('UserAddedToGroup', { groupId: f.group_id, userId: f.user_id });
  },
  group_member_removed: (a) => {
    const f = need(a, 'group_id', 'user_id');
    return typeof f === 'string' ? f : one('UserRemovedFromGroup', { groupId: f.group_id, userId: f.user_id });
  },
  // custom roles and their assignment to groups
  custom_role_created: (a, org) => {
    const f = need(a, 'role_id', 'role_name');
    if (typeof f === 'string') return f;
    const events = [{ type: 'RoleCreated', data: { orgId: org, roleId: f.role_id, name: f.role_name } }];
    // Capabilities granted at creation, when the activity lists them.
    if (Array.isArray(a.capabilities)) {
      for (const c of a.capabilities) {
        if (typeof c !== 'string') return 'capabilities must be strings';
        events.push({ type: 'RoleCapabilitySet', data: { orgId: org, roleId: f.role_id, capability: c, granted: true } as never });
      }
    }
    return events;
  },
  custom_role_deleted: (a, org) => {
    const f = need(a, 'role_id');
    return typeof f === 'string' ? f : one('RoleDeleted', { orgId: org, roleId: f.role_id });
  },
  custom_role_capability_set: (a, org) => {
    const f = need(a, 'role_id', 'capability');
    if (typeof f === 'string') return f;
    if (typeof a.granted !== 'boolean') return 'granted must be true or false';
    return one('RoleCapabilitySet', { orgId: org, roleId: f.role_id, capability: f.capability, granted: a.granted });
  },
  role_assigned_to_group: (a, org) => {
    const f = need(a, 'group_id', 'role_id');
    return typeof f === 'string' ? f : one('RoleAssignedToGroup', { orgId: org, groupId: f.group_id, roleId: f.role_id });
  },
  role_unassigned_from_group: (a, org) => {
    const f = need(a, 'group_id', 'role_id');
    return typeof f === 'string' ? f : one('RoleUnassignedFromGroup', { orgId: org, groupId: f.group_id, roleId: f.role_id });
  },
  // connectors / MCP tool policies
  connector_added: (a, org) => {
    const f = need(a, 'connector_id', 'connector_name');
    if (typeof f === 'string') return f;
    const tools = a.tool_names ?? [];
    if (!Array.isArray(tools) || tools.some((t) => typeof t !== 'string')) return 'tool_names must be a list of strings';
    return one('ConnectorAdded', { orgId: org, connectorId: f.connector_id, name: f.connector_name, tools });
  },
  connector_removed: (a, org) => {
    const f = need(a, 'connector_id');
    return typeof f === 'string' ? f : one('ConnectorRemoved', { orgId: org, connectorId: f.connector_id });
  },
  connector_permissions_enabled: (_a, org) => one('ConnectorPermissionsEnabled', { orgId: org }),
  custom_role_connector_permission_set: (a, org) => {
    const f = need(a, 'role_id', 'connector_id', 'level');
    return typeof f === 'string' ? f : one('RoleConnectorPermissionSet', { orgId: org, roleId: f.role_id, connectorId: f.connector_id, level: f.level });
  },
  custom_role_tool_permission_set: (a, org) => {
    const f = need(a, 'role_id', 'connector_id', 'tool_name', 'level');
    return typeof f === 'string'
      ? f
      : one('RoleToolPermissionSet', { orgId: org, roleId: f.role_id, connectorId: f.connector_id, toolName: f.tool_name, level: f.level });
  },
  org_tool_policy_set: (a, org) => {
    const f = need(a, 'connector_id', 'tool_name', 'level');
    return typeof f === 'string' ? f : one('OrgToolPolicySet', { orgId: org, connectorId: f.connector_id, toolName: f.tool_name, level: f.level });
  },
  // spend limits
  org_spend_limit_set: (a, org) => {
    const c = cents(a);
    return typeof c === 'string' ? c : one('OrgSpendCeilingSet', { orgId: org, cents: c });
  },
  group_spend_limit_set: (a, org) => {
    const f = need(a, 'group_id');
    if (typeof f === 'string') return f;
    const c = cents(a);
    return typeof c === 'string' ? c : one('GroupSpendLimitSet', { orgId: org, groupId: f.group_id, cents: c });
  },
  org_spending_precedence_set: (a, org) => {
    const f = need(a, 'precedence');
    return typeof f === 'string' ? f : one('SpendingPrecedenceSet', { orgId: org, precedence: f.precedence });
  },
  member_spend_limit_set: (a, org) => {
    const f = need(a, 'user_id');
    if (typeof f === 'string') return f;
    const c = cents(a);
    return typeof c === 'string' ? c : one('MemberSpendLimitSet', { orgId: org, userId: f.user_id, cents: c });
  },
  // workspaces, their members, API keys (Claude Console)
  workspace_created: (a, org) => {
    const f = need(a, 'workspace_id', 'workspace_name');
    return typeof f === 'string' ? f : one('WorkspaceCreated', { orgId: org, workspaceId: f.workspace_id, name: f.workspace_name });
  },
  workspace_archived: (a, org) => {
    const f = need(a, 'workspace_id');
    return typeof f === 'string' ? f : one('WorkspaceArchived', { orgId: org, workspaceId: f.workspace_id });
  },
  workspace_member_role_set: (a, org) => {
    const f = need(a, 'workspace_id', 'user_id');
    return typeof f === 'string'
      ? f
      : one('WorkspaceRoleSet', { orgId: org, workspaceId: f.workspace_id, userId: f.user_id, role: str(a, 'workspace_role') ?? null });
  },
  api_key_created: (a, org) => {
    const f = need(a, 'workspace_id', 'api_key_id', 'api_key_name', 'user_id');
    return typeof f === 'string'
      ? f
      : one('ApiKeyCreated', { orgId: org, workspaceId: f.workspace_id, apiKeyId: f.api_key_id, name: f.api_key_name, createdBy: f.user_id });
  },
  api_key_revoked: (a, org) => {
    const f = need(a, 'workspace_id', 'api_key_id');
    return typeof f === 'string' ? f : one('ApiKeyRevoked', { orgId: org, workspaceId: f.workspace_id, apiKeyId: f.api_key_id });
  },
};

/**
 * Types that say *that* something changed but not to what: their mapping reads the directory at ingestion
 * (`observeRoleUpdate`, observe.ts). Without a directory reader they are counted as unmapped.
 */
export const OBSERVED_TYPES: ReadonlySet<string> = new Set(['custom_role_updated']);

/** The lines of an activity whose events are built elsewhere (observed at ingestion), with the common envelope. */
export function linesOf(
  raw: Record<string, unknown>,
  envelope: ActivityEnvelope,
  org: string,
  events: readonly { type: string; data: Record<string, unknown> }[],
  extraEvidence: Record<string, unknown>,
): MappedLine[] {
  const actorRaw = raw.actor as Record<string, unknown> | undefined;
  const actor: Record<string, string> =
    actorRaw && actorRaw.type === 'user_actor' && typeof actorRaw.user_id === 'string' && ID.test(actorRaw.user_id)
      ? { kind: 'member', orgId: org, userId: actorRaw.user_id }
      : { kind: 'system' };
  const occurredAt = new Date(Date.parse(envelope.created_at)).toISOString();
  return events.map((e, i) => ({
    id: eventIdOf(envelope.id, i),
    type: e.type,
    occurredAt,
    actor,
    source: 'compliance-api' as const,
    data: e.data,
    correlationId: eventIdOf(envelope.id, 0),
    evidence: extraEvidence,
  }));
}

/** Deterministic event ids: the activity id (and the event's index when one activity makes several), so a re-read activity is skipped. */
export function eventIdOf(activityId: string, index: number): string {
  return index === 0 ? `ca.${activityId}` : `ca.${activityId}.${index}`;
}

/**
 * What an activity of this type becomes when it makes no event, known from its type alone: `audit` (no access
 * change), `unmapped` (a type we do not know), or undefined for a type that maps to events (`observing`: the types
 * read from the directory at ingestion count as mapped).
 */
export function eventlessDispositionOf(type: string, observing = false): 'audit' | 'unmapped' | undefined {
  if (MAPPINGS[type] !== undefined && !OBSERVED_TYPES.has(type)) return undefined;
  if (observing && OBSERVED_TYPES.has(type)) return undefined;
  return NON_ACCESS_PREFIXES.some((p) => type.startsWith(p)) ? 'audit' : 'unmapped';
}

export function mapActivity(raw: Record<string, unknown>, envelope: ActivityEnvelope): MappingResult {
  const build = MAPPINGS[envelope.type];
  const eventless = eventlessDispositionOf(envelope.type);
  if (build === undefined || eventless !== undefined) return { disposition: eventless ?? 'unmapped', lines: [] };
  const org = envelope.organization_uuid;
  if (org === undefined || !ID.test(org)) return { disposition: 'rejected', reason: `${envelope.type}: missing or malformed organization_uuid`, lines: [] };
  const built = build(raw, org);
  if (typeof built === 'string') return { disposition: 'rejected', reason: `${envelope.type}: ${built}`, lines: [] };
  const actorRaw = raw.actor as Record<string, unknown> | undefined;
  const actor: Record<string, string> =
    actorRaw && actorRaw.type === 'user_actor' && typeof actorRaw.user_id === 'string' && ID.test(actorRaw.user_id)
      ? { kind: 'member', orgId: org, userId: actorRaw.user_id }
      : { kind: 'system' };
  const occurredAt = new Date(Date.parse(envelope.created_at)).toISOString();
  return {
    disposition: 'mapped',
    lines: built.map((e, i) => ({
      id: eventIdOf(envelope.id, i),
      type: e.type,
      occurredAt,
      actor,
      source: 'compliance-api' as const,
      data: e.data,
      correlationId: eventIdOf(envelope.id, 0),
    })),
  };
}
