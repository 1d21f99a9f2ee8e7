import { z } from 'zod';
import { Actor, Id, Instant, Principal, Source } from './envelope.js';
import {
  AdminArea,
  AdminLevel,
  BuiltInRole,
  CapabilityName,
  ConnectorRowLevel,
  ConsoleRole,
  GroupSource,
  MappableRole,
  ProvisioningMode,
  Seat,
  SpendingPrecedence,
  ToolLevel,
  WorkspaceRole,
} from './vocabulary.js';

/**
 * The command and event catalog (http-api.md § Commands). Each command type has exactly one event type, its past
 * fact, whose data holds the command's payload fields (a few events carry derived fields the decider adds, marked
 * below). `AccessChangeDenied` is the one event without a command (R62).
 *
 * One zod schema per payload is the single source for validation, the TypeScript types and the OpenAPI document.
 */

const Cents = z.number().int('must be whole cents').min(0, 'must not be below zero (R62)').max(Number.MAX_SAFE_INTEGER);
const ToolName = Id;
const Tools = z
  .array(ToolName)
  .min(1)
  .max(500)
  .refine((t) => new Set(t).size === t.length, 'must not repeat a tool');
/** `*` stands for "All connectors" (R12–R14) or every tool of a connector (org-wide policy). */
const ConnectorOrAll = z.union([z.literal('*'), Id]);
const ToolOrAll = z.union([z.literal('*'), ToolName]);
const Name = z.string().min(1).max(256);
const Email = z
  .string()
  .min(3)
  .max(320)
  .regex(/^[^\s@]+@[^\s@]+$/, 'must be an email address');

const orgScoped = { orgId: Id };
const member = { orgId: Id, userId: Id };
const role = { orgId: Id, roleId: Id };
const assignment = { orgId: Id, groupId: Id, roleId: Id };
const connectorTools = { orgId: Id, connectorId: Id, tools: Tools };
const workspace = { orgId: Id, workspaceId: Id };

function payload<T extends z.ZodRawShape>(shape: T) {
  return z.object(shape).strict();
}

/** Payload schemas by command type, with the event each produces. */
export const COMMANDS = {
  // organizations
  CreateOrganization: {
    event: 'OrganizationCreated',
    payload: payload({ orgId: Id, name: Name, dualSeat: z.boolean(), provisioningMode: ProvisioningMode, usageBased: z.boolean() }),
  },
  SetOrganizationCapability: { event: 'OrganizationCapabilitySet', payload: payload({ ...orgScoped, capability: CapabilityName, enabled: z.boolean() }) },
  SetPlatformOverride: { event: 'PlatformOverrideSet', payload: payload({ ...orgScoped, capability: CapabilityName, disabled: z.boolean() }) },
  AddCapabilityToCatalog: { event: 'CapabilityAddedToCatalog', payload: payload({ capability: CapabilityName }) },
  SetProvisioningMode: { event: 'ProvisioningModeSet', payload: payload({ ...orgScoped, mode: ProvisioningMode }) },
  SetGroupMappingsEnabled: { event: 'GroupMappingsEnabledSet', payload: payload({ ...orgScoped, enabled: z.boolean() }) },
  SetSpendingPrecedence: { event: 'SpendingPrecedenceSet', payload: payload({ ...orgScoped, precedence: SpendingPrecedence }) },
  // members
  AddMember: { event: 'MemberAdded', payload: payload({ ...member, email: Email, role: BuiltInRole, seat: Seat.optional() }) },
  ChangeMemberRole: { event: 'MemberRoleChanged', payload: payload({ ...member, role: BuiltInRole }) },
  ChangeMemberSeat: { event: 'MemberSeatChanged', payload: payload({ ...member, seat: Seat }) },
  SuspendMember: { event: 'MemberSuspended', payload: payload(member) },
  ReactivateMember: { event: 'MemberReactivated', payload: payload(member) },
  RemoveMember: { event: 'MemberRemoved', payload: payload(member) },
  TransferPrimaryOwnership: { event: 'PrimaryOwnershipTransferred', payload: payload({ ...orgScoped, toUserId: Id }) },
  // groups (tenant level, R30)
  CreateGroup: { event: 'GroupCreated', payload: payload({ groupId: Id, name: Name, source: GroupSource }) },
  RenameGroup: { event: 'GroupRenamed', payload: payload({ groupId: Id, name: Name }) },
  DeleteGroup: { event: 'GroupDeleted', payload: payload({ groupId: Id }) },
  AddUserToGroup: { event: 'UserAddedToGroup', payload: payload({ groupId: Id, userId: Id }) },
  RemoveUserFromGroup: { event: 'UserRemovedFromGroup', payload: payload({ groupId: Id, userId: Id }) },
  // custom roles
  CreateRole: { event: 'RoleCreated', payload: payload({ ...role, name: Name }) },
  RenameRole: { event: 'RoleRenamed', payload: payload({ ...role, name: Name }) },
  DeleteRole: { event: 'RoleDeleted', payload: payload(role) },
  SetRoleCapability: { event: 'RoleCapabilitySet', payload: payload({ ...role, capability: CapabilityName, granted: z.boolean() }) },
  SetRoleAdminPermission: { event: 'RoleAdminPermissionSet', payload: payload({ ...role, area: AdminArea, level: AdminLevel }) },
  SetRoleConnectorPermission: { event: 'RoleConnectorPermissionSet', payload: payload({ ...role, connectorId: ConnectorOrAll, level: ConnectorRowLevel }) },
  SetRoleToolPermission: { event: 'RoleToolPermissionSet', payload: payload({ ...role, connectorId: Id, toolName: ToolName, level: ToolLevel }) },
  AssignRoleToGroup: { event: 'RoleAssignedToGroup', payload: payload(assignment) },
  UnassignRoleFromGroup: { event: 'RoleUnassignedFromGroup', payload: payload(assignment) },
  SetGroupRoleMapping: { event: 'GroupRoleMappingSet', payload: payload({ ...orgScoped, idpGroupId: Id, role: MappableRole.nullable() }) },
  // connectors
  AddConnector: {
    event: 'ConnectorAdded',
    payload: payload({
      ...orgScoped,
      connectorId: Id,
      name: Name,
      tools: z
        .array(ToolName)
        .max(500)
        .refine((t) => new Set(t).size === t.length, 'must not repeat a tool'),
    }),
  },
  AddConnectorTools: { event: 'ConnectorToolsAdded', payload: payload(connectorTools) },
  RemoveConnectorTools: { event: 'ConnectorToolsRemoved', payload: payload(connectorTools) },
  RemoveConnector: { event: 'ConnectorRemoved', payload: payload({ ...orgScoped, connectorId: Id }) },
  SetOrgToolPolicy: { event: 'OrgToolPolicySet', payload: payload({ ...orgScoped, connectorId: Id, toolName: ToolOrAll, level: ToolLevel }) },
  EnableConnectorPermissions: { event: 'ConnectorPermissionsEnabled', payload: payload(orgScoped) },
  // spend
  SetOrgSpendCeiling: { event: 'OrgSpendCeilingSet', payload: payload({ ...orgScoped, cents: Cents.nullable() }) },
  SetGroupSpendLimit: { event: 'GroupSpendLimitSet', payload: payload({ ...orgScoped, groupId: Id, cents: Cents.nullable() }) },
  SetMemberSpendLimit: { event: 'MemberSpendLimitSet', payload: payload({ ...member, cents: Cents.nullable() }) },
  // Console
  SetConsoleRole: { event: 'ConsoleRoleSet', payload: payload({ ...member, role: ConsoleRole }) },
  CreateWorkspace: { event: 'WorkspaceCreated', payload: payload({ ...workspace, name: Name }) },
  ArchiveWorkspace: { event: 'WorkspaceArchived', payload: payload(workspace) },
  SetWorkspaceRole: { event: 'WorkspaceRoleSet', payload: payload({ ...workspace, userId: Id, role: WorkspaceRole.nullable() }) },
  CreateApiKey: { event: 'ApiKeyCreated', payload: payload({ ...workspace, apiKeyId: Id, name: Name, createdBy: Id }) },
  RevokeApiKey: { event: 'ApiKeyRevoked', payload: payload({ ...workspace, apiKeyId: Id }) },
} as const;

export type CommandType = keyof typeof COMMANDS;
export const COMMAND_TYPES = Object.keys(COMMANDS) as CommandType[];
export type CommandPayload<T extends CommandType> = z.infer<(typeof COMMANDS)[T]['payload']>;
export type EventTypeOf<T extends CommandType> = (typeof COMMANDS)[T]['event'];

/** The actor of a command: members act in an organization; the rest are system actors (R24). `import` is not a command actor. */
export const CommandActor = Principal;
export type CommandActor = z.infer<typeof CommandActor>;

const commandEnvelope = {
  /** Optional: absent, the actor is the API key's principal. */
  actor: CommandActor.optional(),
  occurredAt: Instant.optional(),
  idempotencyKey: z.string().min(1).max(256).optional(),
};

/** The body of `POST /v1/tenants/{t}/commands`. */
export const CommandBody = z.discriminatedUnion(
  'type',
  COMMAND_TYPES.map((type) => z.object({ type: z.literal(type), ...commandEnvelope, payload: COMMANDS[type].payload }).strict()) as unknown as [
    z.ZodObject<{ type: z.ZodLiteral<CommandType> }>,
    ...z.ZodObject<{ type: z.ZodLiteral<CommandType> }>[],
  ],
);
/** A command as sent: the actor may be left to the key's principal. */
export type CommandAsSent = {
  [T in CommandType]: { type: T; actor?: CommandActor; occurredAt?: string; idempotencyKey?: string; payload: CommandPayload<T> };
}[CommandType];
export type Command = {
  [T in CommandType]: { type: T; actor: CommandActor; occurredAt?: string; idempotencyKey?: string; payload: CommandPayload<T> };
}[CommandType];

// ---------------------------------------------------------------------------------------------------------------
// Events

/** Derived fields some events carry beyond their command's payload. */
const EXTRA_DATA: Partial<Record<string, z.ZodRawShape>> = {
  // The previous primary owner, who becomes an owner (so the fact needs no lookup when folded out of order, R61).
  PrimaryOwnershipTransferred: { fromUserId: Id.optional() },
};

export const AccessChangeDeniedData = z
  .object({
    /** The organization the refused command targeted; absent for commands without one, and in
     *  events stored before it was recorded (the audit row derives it the same way). */
    orgId: Id.optional(),
    command: z.object({ type: z.string().max(64), payload: z.unknown() }),
    reason: z.string().max(2000),
    rule: z.string().max(16),
  })
  .strict();

/**
 * A difference between what the ledger projects and what a source's directory says at the same instant (libs/sources
 * drift detection, docs/sources.md § Drift). An audit fact only: it changes no access.
 */
export const DriftDetectedData = z
  .object({
    /** The organization compared; absent for a group membership (groups belong to the tenant, R30). */
    orgId: Id.optional(),
    /** The source that was compared (its name in `ledger sources`). */
    source: z.string().min(1).max(128),
    /** What differs: a member, or one user's membership of a group. */
    subject: z.object({ kind: z.enum(['member', 'group-member']), userId: Id, groupId: Id.optional() }).strict(),
    /** What the ledger believes (null: nothing) and what the source's directory says (null: nothing). */
    ledger: z.unknown(),
    api: z.unknown(),
    /** The drift has held at least since this instant (its first detection). */
    sinceAtLeast: Instant,
  })
  .strict();

/**
 * The instant from which a source's record of an organization is complete (libs/sources, docs/sources.md § Baseline):
 * the Compliance API's feed is not retroactive, so an organization that existed before it was enabled is known from
 * the directory snapshot taken at the first sync on. Its occurredAt is that instant; before it, every access question
 * about the organization is answered "unknown" (queries.ts `baselineOf`), never from the partial record.
 */
export const BaselineRecordedData = z
  .object({
    orgId: Id,
    /** The source whose snapshot this is (its name in `ledger sources`). */
    source: z.string().min(1).max(128),
    /** The kind of source. */
    sourceKind: z.enum(['compliance-api']),
  })
  .strict();

function eventDataSchema(commandType: CommandType): z.ZodTypeAny {
  const base = COMMANDS[commandType].payload;
  const extra = EXTRA_DATA[COMMANDS[commandType].event];
  return extra ? base.extend(extra).strict() : base;
}

export const EVENT_DATA: Record<string, z.ZodTypeAny> = {
  ...Object.fromEntries(COMMAND_TYPES.map((t) => [COMMANDS[t].event, eventDataSchema(t)])),
  AccessChangeDenied: AccessChangeDeniedData,
  DriftDetected: DriftDetectedData,
  BaselineRecorded: BaselineRecordedData,
};
export type EventType = EventTypeOf<CommandType> | 'AccessChangeDenied' | 'DriftDetected' | 'BaselineRecorded';
export const EVENT_TYPES = Object.keys(EVENT_DATA) as EventType[];
export const COMMAND_OF_EVENT: Record<string, CommandType> = Object.fromEntries(COMMAND_TYPES.map((t) => [COMMANDS[t].event, t]));

/** The data of each event type, as TypeScript sees it. */
export type EventData<E extends EventType> = E extends 'AccessChangeDenied'
  ? z.infer<typeof AccessChangeDeniedData>
  : E extends 'DriftDetected'
    ? z.infer<typeof DriftDetectedData>
    : E extends 'BaselineRecorded'
      ? z.infer<typeof BaselineRecordedData>
      : E extends 'PrimaryOwnershipTransferred'
        ? CommandPayload<'TransferPrimaryOwnership'> & { fromUserId?: string }
        : CommandPayload<{ [C in CommandType]: EventTypeOf<C> extends E ? C : never }[CommandType]>;

// ---------------------------------------------------------------------------------------------------------------
// Schema versions and upcasting: every event type starts at version 1. When a data shape changes, bump its version
// here and add an upcaster from the old version, so events stored in the old shape are still read (never rewritten).

export const SCHEMA_VERSION: Record<string, number> = Object.fromEntries(EVENT_TYPES.map((t) => [t, 1]));

type Upcaster = (data: Record<string, unknown>) => Record<string, unknown>;
/** UPCASTERS[type][v] turns version v into v + 1. */
export const UPCASTERS: Record<string, Record<number, Upcaster>> = {};

export function upcast(type: string, version: number, data: unknown): unknown {
  const target = SCHEMA_VERSION[type] ?? 1;
  let current = data as Record<string, unknown>;
  for (let v = version; v < target; v++) {
    const step = UPCASTERS[type]?.[v];
    if (!step) throw new Error(`no upcaster for ${type} from schema version ${v}`);
    current = step(current);
  }
  return current;
}

/** One line of `events:import` (http-api.md § Importing facts). */
export const ImportLine = z
  .object({
    id: Id,
    type: z.enum(EVENT_TYPES as [EventType, ...EventType[]]),
    occurredAt: Instant,
    actor: Actor,
    source: Source,
    data: z.record(z.string(), z.unknown()),
    // The same id grammar as every other id; commands make these as UUIDs, which fit it.
    correlationId: Id.optional(),
    causationId: Id.optional(),
    /** The source record this fact was derived from, stored verbatim in `metadata.evidence` (docs/sources.md). */
    evidence: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type ImportLine = z.infer<typeof ImportLine>;
