import { z } from 'zod';

/**
 * The command and import shapes of shared/spec/http-api.md, written out independently of the generator (and of
 * libs/access-model), so the test checks the generator against the contract rather than against itself.
 */
const Id = z.string().regex(/^[A-Za-z0-9._:@-]{1,128}$/);
const Instant = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
  .refine((s) => new Date(s).toISOString() === s);
const Name = z.string().min(1).max(256);
const Capability = z.string().regex(/^[a-z][a-z0-9_]*$/);
const Tool = z.enum(['blocked', 'needs_approval', 'always_allow']);
const Cents = z.number().int().min(0).nullable();
const Tools = z
  .array(Id)
  .min(1)
  .refine((t) => new Set(t).size === t.length);
const BuiltIn = z.enum(['primary_owner', 'owner', 'admin', 'user', 'custom']);
const Seat = z.enum(['chat', 'chat_claude_code']);
const Mode = z.enum(['invite_only', 'jit', 'scim']);

const o = { orgId: Id };
const m = { orgId: Id, userId: Id };
const r = { orgId: Id, roleId: Id };
const a = { orgId: Id, groupId: Id, roleId: Id };
const w = { orgId: Id, workspaceId: Id };

const LOOSE: Record<string, z.ZodObject<z.ZodRawShape>> = {
  CreateOrganization: z.object({ orgId: Id, name: Name, dualSeat: z.boolean(), provisioningMode: Mode, usageBased: z.boolean() }),
  SetOrganizationCapability: z.object({ ...o, capability: Capability, enabled: z.boolean() }),
  SetPlatformOverride: z.object({ ...o, capability: Capability, disabled: z.boolean() }),
  AddCapabilityToCatalog: z.object({ capability: Capability }),
  SetProvisioningMode: z.object({ ...o, mode: Mode }),
  SetGroupMappingsEnabled: z.object({ ...o, enabled: z.boolean() }),
  SetSpendingPrecedence: z.object({ ...o, precedence: z.enum(['lowest', 'highest']) }),
  AddMember: z.object({ ...m, email: z.string().regex(/^[^\s@]+@[^\s@]+$/), role: BuiltIn, seat: Seat.optional() }),
  ChangeMemberRole: z.object({ ...m, role: BuiltIn }),
  ChangeMemberSeat: z.object({ ...m, seat: Seat }),
  SuspendMember: z.object(m),
  ReactivateMember: z.object(m),
  RemoveMember: z.object(m),
  TransferPrimaryOwnership: z.object({ ...o, toUserId: Id }),
  CreateGroup: z.object({ groupId: Id, name: Name, source: z.enum(['manual', 'scim']) }),
  RenameGroup: z.object({ groupId: Id, name: Name }),
  DeleteGroup: z.object({ groupId: Id }),
  AddUserToGroup: z.object({ groupId: Id, userId: Id }),
  RemoveUserFromGroup: z.object({ groupId: Id, userId: Id }),
  CreateRole: z.object({ ...r, name: Name }),
  RenameRole: z.object({ ...r, name: Name }),
  DeleteRole: z.object(r),
  SetRoleCapability: z.object({ ...r, capability: Capability, granted: z.boolean() }),
  SetRoleAdminPermission: z.object({
    ...r,
    area: z.enum(['identity_access', 'billing', 'analytics', 'privacy', 'user_management', 'libraries']),
    level: z.enum(['none', 'view', 'manage']),
  }),
  SetRoleConnectorPermission: z.object({
    ...r,
    connectorId: z.union([z.literal('*'), Id]),
    level: z.enum(['blocked', 'needs_approval', 'always_allow', 'custom']),
  }),
  SetRoleToolPermission: z.object({ ...r, connectorId: Id, toolName: Id, level: Tool }),
  AssignRoleToGroup: z.object(a),
  UnassignRoleFromGroup: z.object(a),
  SetGroupRoleMapping: z.object({ ...o, idpGroupId: Id, role: z.enum(['owner', 'admin', 'custom', 'user']).nullable() }),
  AddConnector: z.object({ ...o, connectorId: Id, name: Name, tools: z.array(Id).refine((t) => new Set(t).size === t.length) }),
  AddConnectorTools: z.object({ ...o, connectorId: Id, tools: Tools }),
  RemoveConnectorTools: z.object({ ...o, connectorId: Id, tools: Tools }),
  RemoveConnector: z.object({ ...o, connectorId: Id }),
  SetOrgToolPolicy: z.object({ ...o, connectorId: Id, toolName: z.union([z.literal('*'), Id]), level: Tool }),
  EnableConnectorPermissions: z.object(o),
  SetOrgSpendCeiling: z.object({ ...o, cents: Cents }),
  SetGroupSpendLimit: z.object({ ...o, groupId: Id, cents: Cents }),
  SetMemberSpendLimit: z.object({ ...m, cents: Cents }),
  SetConsoleRole: z.object({ ...m, role: z.enum(['user', 'claude_code_user', 'developer', 'billing', 'admin']) }),
  CreateWorkspace: z.object({ ...w, name: Name }),
  ArchiveWorkspace: z.object(w),
  SetWorkspaceRole: z.object({ ...w, userId: Id, role: z.enum(['workspace_user', 'workspace_developer', 'workspace_admin', 'workspace_billing']).nullable() }),
  CreateApiKey: z.object({ ...w, apiKeyId: Id, name: Name, createdBy: Id }),
  RevokeApiKey: z.object({ ...w, apiKeyId: Id }),
};

/** Strict: a payload with a field http-api.md does not list fails. */
export const PAYLOADS: Record<string, z.ZodObject<z.ZodRawShape>> = Object.fromEntries(Object.entries(LOOSE).map(([t, schema]) => [t, schema.strict()]));

export const CommandActor = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('member'), orgId: Id, userId: Id }).strict(),
  z.object({ kind: z.literal('scim') }).strict(),
  z.object({ kind: z.literal('platform') }).strict(),
  z.object({ kind: z.literal('system') }).strict(),
]);

export const CommandEnvelope = z
  .object({
    type: z.enum(Object.keys(PAYLOADS) as [string, ...string[]]),
    actor: CommandActor,
    occurredAt: Instant,
    idempotencyKey: z.string().min(1).max(256).optional(),
    payload: z.unknown(),
  })
  .strict();

/** Each command type's event type, its past fact (catalog). */
export const EVENT_OF: Record<string, string> = {
  CreateOrganization: 'OrganizationCreated',
  SetOrganizationCapability: 'OrganizationCapabilitySet',
  SetPlatformOverride: 'PlatformOverrideSet',
  AddCapabilityToCatalog: 'CapabilityAddedToCatalog',
  SetProvisioningMode: 'ProvisioningModeSet',
  SetGroupMappingsEnabled: 'GroupMappingsEnabledSet',
  SetSpendingPrecedence: 'SpendingPrecedenceSet',
  AddMember: 'MemberAdded',
  ChangeMemberRole: 'MemberRoleChanged',
  ChangeMemberSeat: 'MemberSeatChanged',
  SuspendMember: 'MemberSuspended',
  ReactivateMember: 'MemberReactivated',
  RemoveMember: 'MemberRemoved',
  TransferPrimaryOwnership: 'PrimaryOwnershipTransferred',
  CreateGroup: 'GroupCreated',
  RenameGroup: 'GroupRenamed',
  DeleteGroup: 'GroupDeleted',
  AddUserToGroup: 'UserAddedToGroup',
  RemoveUserFromGroup: 'UserRemovedFromGroup',
  CreateRole: 'RoleCreated',
  RenameRole: 'RoleRenamed',
  DeleteRole: 'RoleDeleted',
  SetRoleCapability: 'RoleCapabilitySet',
  SetRoleAdminPermission: 'RoleAdminPermissionSet',
  SetRoleConnectorPermission: 'RoleConnectorPermissionSet',
  SetRoleToolPermission: 'RoleToolPermissionSet',
  AssignRoleToGroup: 'RoleAssignedToGroup',
  UnassignRoleFromGroup: 'RoleUnassignedFromGroup',
  SetGroupRoleMapping: 'GroupRoleMappingSet',
  AddConnector: 'ConnectorAdded',
  AddConnectorTools: 'ConnectorToolsAdded',
  RemoveConnectorTools: 'ConnectorToolsRemoved',
  RemoveConnector: 'ConnectorRemoved',
  SetOrgToolPolicy: 'OrgToolPolicySet',
  EnableConnectorPermissions: 'ConnectorPermissionsEnabled',
  SetOrgSpendCeiling: 'OrgSpendCeilingSet',
  SetGroupSpendLimit: 'GroupSpendLimitSet',
  SetMemberSpendLimit: 'MemberSpendLimitSet',
  SetConsoleRole: 'ConsoleRoleSet',
  CreateWorkspace: 'WorkspaceCreated',
  ArchiveWorkspace: 'WorkspaceArchived',
  SetWorkspaceRole: 'WorkspaceRoleSet',
  CreateApiKey: 'ApiKeyCreated',
  RevokeApiKey: 'ApiKeyRevoked',
};
export const COMMAND_OF: Record<string, string> = Object.fromEntries(Object.entries(EVENT_OF).map(([c, e]) => [e, c]));

export const ImportLineShape = z
  .object({
    id: Id,
    type: z.enum(Object.values(EVENT_OF) as [string, ...string[]]),
    occurredAt: Instant,
    actor: z.union([CommandActor, z.object({ kind: z.literal('import') }).strict()]),
    source: z.enum(['api', 'scim', 'console_import', 'admin_api_import', 'seed']),
    data: z.record(z.string(), z.unknown()),
  })
  .strict();

/** Parses a command body strictly: envelope and the payload of its type. Returns the list of problems. */
export function commandProblems(body: unknown): string[] {
  const envelope = CommandEnvelope.safeParse(body);
  if (!envelope.success) return envelope.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  const payload = PAYLOADS[envelope.data.type]!.safeParse(envelope.data.payload);
  return payload.success ? [] : payload.error.issues.map((i) => `payload.${i.path.join('.')}: ${i.message}`);
}
