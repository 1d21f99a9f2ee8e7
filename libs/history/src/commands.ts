/**
 * The shapes this library produces, written from http-api.md (§ Commands, § Importing facts). They are declared here,
 * not imported from `libs/access-model`, so the generator stays a plain producer of request bodies: any client (the
 * seeder, the benchmark, an outside test suite) can post them as they are.
 */

export type ProvisioningMode = 'invite_only' | 'jit' | 'scim';
export type BuiltInRole = 'primary_owner' | 'owner' | 'admin' | 'user' | 'custom';
export type Seat = 'chat' | 'chat_claude_code';
export type ToolLevel = 'blocked' | 'needs_approval' | 'always_allow';
export type ConnectorRowLevel = ToolLevel | 'custom';
export type AdminArea = 'identity_access' | 'billing' | 'analytics' | 'privacy' | 'user_management' | 'libraries';
export type AdminLevel = 'none' | 'view' | 'manage';
export type ConsoleRole = 'user' | 'claude_code_user' | 'developer' | 'billing' | 'admin';
export type WorkspaceRole = 'workspace_user' | 'workspace_developer' | 'workspace_admin' | 'workspace_billing';
export type MappableRole = 'owner' | 'admin' | 'custom' | 'user';

export type CommandActor = { kind: 'member'; orgId: string; userId: string } | { kind: 'scim' } | { kind: 'platform' } | { kind: 'system' };

type Member = { orgId: string; userId: string };
type Role = { orgId: string; roleId: string };
type Assignment = { orgId: string; groupId: string; roleId: string };
type ConnectorTools = { orgId: string; connectorId: string; tools: string[] };
type Workspace = { orgId: string; workspaceId: string };

/** Payload of each command type, field for field as http-api.md lists them. */
export interface CommandPayloads {
  CreateOrganization: { orgId: string; name: string; dualSeat: boolean; provisioningMode: ProvisioningMode; usageBased: boolean };
  SetOrganizationCapability: { orgId: string; capability: string; enabled: boolean };
  SetPlatformOverride: { orgId: string; capability: string; disabled: boolean };
  AddCapabilityToCatalog: { capability: string };
  SetProvisioningMode: { orgId: string; mode: ProvisioningMode };
  SetGroupMappingsEnabled: { orgId: string; enabled: boolean };
  SetSpendingPrecedence: { orgId: string; precedence: 'lowest' | 'highest' };
  AddMember: Member & { email: string; role: BuiltInRole; seat?: Seat };
  ChangeMemberRole: Member & { role: BuiltInRole };
  ChangeMemberSeat: Member & { seat: Seat };
  SuspendMember: Member;
  ReactivateMember: Member;
  RemoveMember: Member;
  TransferPrimaryOwnership: { orgId: string; toUserId: string };
  CreateGroup: { groupId: string; name: string; source: 'manual' | 'scim' };
  RenameGroup: { groupId: string; name: string };
  DeleteGroup: { groupId: string };
  AddUserToGroup: { groupId: string; userId: string };
  RemoveUserFromGroup: { groupId: string; userId: string };
  CreateRole: Role & { name: string };
  RenameRole: Role & { name: string };
  DeleteRole: Role;
  SetRoleCapability: Role & { capability: string; granted: boolean };
  SetRoleAdminPermission: Role & { area: AdminArea; level: AdminLevel };
  SetRoleConnectorPermission: Role & { connectorId: string; level: ConnectorRowLevel };
  SetRoleToolPermission: Role & { connectorId: string; toolName: string; level: ToolLevel };
  AssignRoleToGroup: Assignment;
  UnassignRoleFromGroup: Assignment;
  SetGroupRoleMapping: { orgId: string; idpGroupId: string; role: MappableRole | null };
  AddConnector: { orgId: string; connectorId: string; name: string; tools: string[] };
  AddConnectorTools: ConnectorTools;
  RemoveConnectorTools: ConnectorTools;
  RemoveConnector: { orgId: string; connectorId: string };
  SetOrgToolPolicy: { orgId: string; connectorId: string; toolName: string; level: ToolLevel };
  EnableConnectorPermissions: { orgId: string };
  SetOrgSpendCeiling: { orgId: string; cents: number | null };
  SetGroupSpendLimit: { orgId: string; groupId: string; cents: number | null };
  SetMemberSpendLimit: Member & { cents: number | null };
  SetConsoleRole: Member & { role: ConsoleRole };
  CreateWorkspace: Workspace & { name: string };
  ArchiveWorkspace: Workspace;
  SetWorkspaceRole: Workspace & { userId: string; role: WorkspaceRole | null };
  CreateApiKey: Workspace & { apiKeyId: string; name: string; createdBy: string };
  RevokeApiKey: Workspace & { apiKeyId: string };
}

export type CommandType = keyof CommandPayloads;

/** A body for `POST /v1/tenants/{t}/commands`. */
export type CommandBody = {
  [T in CommandType]: { type: T; actor: CommandActor; occurredAt: string; idempotencyKey?: string; payload: CommandPayloads[T] };
}[CommandType];

/** One line of `POST /v1/tenants/{t}/events:import` (application/x-ndjson). */
export interface ImportLine {
  id: string;
  type: string;
  occurredAt: string;
  actor: CommandActor | { kind: 'import' };
  source: 'api' | 'scim' | 'console_import' | 'admin_api_import' | 'seed';
  data: Record<string, unknown>;
}

/**
 * What the generator yields, in order: a command to post, or a batch of facts to import late (R61: their occurredAt
 * is earlier than commands already yielded). `refused` marks a deliberate attempt the actor may not make (R22/R24):
 * the ledger must refuse it and record AccessChangeDenied, and the history's state does not change.
 */
export type HistoryItem = { kind: 'command'; command: CommandBody; refused?: true } | { kind: 'import'; lines: ImportLine[] };
