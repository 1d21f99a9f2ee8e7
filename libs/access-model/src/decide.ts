import { COMMANDS, type Command, type CommandPayload, type CommandType, type EventType } from './catalog.js';
import { ActingMember } from './decide-actor.js';
import { mappedRoleChanges, type MappedRoleChange, type MappingChange } from './decide-mappings.js';
import { checkReferences, worldAt, type Problem } from './decide-world.js';
import { lookupKey, type FactKey, type ApiKeyFacts, type MemberStatus, type OrgFacts } from './fact-keys.js';
import { FactReader, NOW, type FactStore } from './facts.js';
import { INITIAL_CAPABILITIES, isOwner, type AdminArea, type BuiltInRole, type MappableRole } from './vocabulary.js';

export * from './decide-world.js';
export { mappedRoleChanges, type MappedRoleChange, type MappingChange } from './decide-mappings.js';

/**
 * The deciders: one per command, `decide(facts, command) → events | refusal | violation` (Emmett's decider shape;
 * `evolve` folds what they accept). Rights (R22–R24) and invariants (R23, R62) are read at the instant the command
 * takes effect: `{ at: occurredAt, knownAt: +∞ }`.
 *
 * The order of checks (R22, R62):
 *  1. the actor — is this actor allowed to do this kind of thing in this organization at all? A member must be an
 *     active member of the organization the command is about (for tenant-level group commands, of their own
 *     organization) and hold the right the command needs; `scim` and `platform` may do only their own commands (R24).
 *     Refused → one `AccessChangeDenied`. This comes first so that a member of organization A probing organization B
 *     learns nothing about B (no "unknown member" answers across organizations).
 *  2. the invariants (R23, R62): references exist, ids are new, nothing would be duplicated or left without a
 *     primary owner → violation, nothing appended (409).
 *  3. the rights that depend on the target (R22: only an owner may make or unmake an owner, including through the
 *     role changes a group-mapping sync would cause) → refused, recorded.
 * Then the events: the command's own fact first, followed by the events it causes (R12 seeding, R32 mapping syncs),
 * each with `causationId` = the first event's id.
 */

export interface NewEvent {
  id: string;
  type: EventType;
  data: Record<string, unknown>;
  causationId?: string;
}

export type Decision =
  | { kind: 'accepted'; events: NewEvent[] }
  | { kind: 'refused'; rule: string; reason: string; events: [NewEvent] }
  | { kind: 'violation'; rule: string; reason: string };

export interface DecideContext {
  /** occurredAt of the command, ms since the epoch */
  at: number;
  newId: () => string;
}

// ------------------------------------------------------------------------------------------------ the rules

interface Input<T extends CommandType> {
  readonly facts: FactStore;
  readonly r: FactReader;
  readonly p: CommandPayload<T>;
}

/** Data of a derived event, without its id. */
interface Derived {
  readonly type: EventType;
  readonly data: Record<string, unknown>;
}

interface Rules<T extends CommandType> {
  /**
   * Step 1 (R22): what a member actor needs, given they are an active member of the command's organization;
   * a string instead names who alone may do it (R23, R24): no member, whichever organization they belong to.
   */
  readonly member: ((a: ActingMember, input: Input<T>) => Problem | undefined) | { readonly onlyBy: string };
  /** Groups are tenant-level (R30): a member acts on them from their own organization. */
  readonly tenantLevel?: true;
  /** Step 2 (R23, R62), after the references (checkReferences). */
  readonly invariants?: (input: Input<T>) => Problem | undefined;
  /** Step 3 (R22), member actors only: rights that depend on the target. */
  readonly target?: (a: ActingMember, input: Input<T>) => Problem | undefined;
  /** Derived fields of the command's own event. */
  readonly data?: (input: Input<T>) => Record<string, unknown>;
  /** R32: the mapping change this command makes, whose role syncs follow it. */
  readonly mapping?: (input: Input<T>) => MappingChange | undefined;
  /** R12: other events this command causes. */
  readonly causes?: (input: Input<T>) => Derived[];
}

const who = (a: ActingMember): string => `member ${a.userId} of ${a.orgId} (${a.role})`;
const refusal = (rule: string, reason: string): Problem => ({ rule, reason });
const violation = refusal;

function needsArea(area: AdminArea, what: string) {
  return (a: ActingMember): Problem | undefined => (a.manages(area) ? undefined : refusal('R22', `${who(a)} needs ${area} = manage to ${what} (R22)`));
}
function needsOwner(what: string) {
  return (a: ActingMember): Problem | undefined => (a.isOwner() ? undefined : refusal('R22', `${who(a)} is not an owner; only owners may ${what} (R22)`));
}
function needsConsoleManager(what: string) {
  return (a: ActingMember): Problem | undefined =>
    a.isConsoleManager() ? undefined : refusal('R22', `${who(a)} needs the Console admin role or user_management = manage to ${what} (R22, R50)`);
}

const memberRole = (r: FactReader, o: string, u: string) => r.value<BuiltInRole>(lookupKey.memberRole(o, u));
const memberStatus = (r: FactReader, o: string, u: string) => r.value<MemberStatus>(lookupKey.memberStatus(o, u));
const primaryOwnerOf = (r: FactReader, o: string) => r.value<string>(lookupKey.primaryOwner(o));
/** Ids are never reused: anything with a version at any instant ever existed. */
const everExisted = (facts: FactStore, key: FactKey) => facts.written(key);
const reused = (what: string): Problem => violation('R62', `${what} already exists or existed; ids are never reused (R62)`);

function inCatalog(r: FactReader, capability: string): boolean {
  if ((INITIAL_CAPABILITIES as readonly string[]).includes(capability)) return true;
  for (const c of r.items(lookupKey.catalog)) if (c === capability) return true;
  return false;
}
function catalogHas(input: Input<'SetOrganizationCapability' | 'SetPlatformOverride' | 'SetRoleCapability'>): Problem | undefined {
  const c = input.p.capability;
  return inCatalog(input.r, c) ? undefined : violation('R62', `capability ${c} is not in the catalog; add it with AddCapabilityToCatalog first (R3, R62)`);
}
function notBelowZero(input: Input<'SetOrgSpendCeiling' | 'SetGroupSpendLimit' | 'SetMemberSpendLimit'>): Problem | undefined {
  const cents = input.p.cents;
  return cents !== null && cents < 0 ? violation('R62', `a spend limit of ${cents} cents is below zero (R62)`) : undefined;
}

/** R22: "only an owner may make or unmake an owner". */
function ownerMakesOwners(a: ActingMember, what: string): Problem | undefined {
  return a.isOwner() ? undefined : refusal('R22', `${who(a)} may not ${what}: only an owner may make or unmake an owner (R22)`);
}
/** R23: exactly one primary owner; it changes only through TransferPrimaryOwnership. */
function notThePrimaryOwner(r: FactReader, o: string, u: string, what: string): Problem | undefined {
  return memberRole(r, o, u) === 'primary_owner'
    ? violation('R23', `${u} is the primary owner of ${o}, who cannot be ${what}; transfer primary ownership first (R23)`)
    : undefined;
}

const ROLES_OF_ORG = needsArea('identity_access', 'edit custom roles, their permissions and group assignments');
const GROUPS = needsArea('identity_access', 'manage groups');
const MEMBERS = needsArea('user_management', 'manage members');
const BILLING = needsArea('billing', 'manage billing and spend limits');

const RULES: { [T in CommandType]: Rules<T> } = {
  // ---------------------------------------------------------------------------------------------- organizations
  CreateOrganization: {
    member: { onlyBy: 'the system' },
    invariants: ({ facts, p }) => (everExisted(facts, lookupKey.org(p.orgId)) ? reused(`organization ${p.orgId}`) : undefined),
  },
  SetOrganizationCapability: { member: needsOwner('switch capabilities (R2)'), invariants: catalogHas },
  SetPlatformOverride: { member: { onlyBy: 'the platform (R1) or the system' }, invariants: catalogHas },
  AddCapabilityToCatalog: {
    member: { onlyBy: 'the platform or the system' },
    invariants: ({ facts, p }) => {
      const known = (INITIAL_CAPABILITIES as readonly string[]).includes(p.capability) || [...facts.items(lookupKey.catalog, NOW)].includes(p.capability);
      return known ? violation('R62', `capability ${p.capability} is already in the catalog (R3)`) : undefined;
    },
  },
  SetProvisioningMode: { member: needsArea('identity_access', 'change SSO/SCIM settings') },
  SetGroupMappingsEnabled: {
    member: needsArea('identity_access', 'change group mappings'),
    mapping: ({ p }) => (p.enabled ? { enabledOrgId: p.orgId } : undefined),
  },
  SetSpendingPrecedence: { member: BILLING },

  // ---------------------------------------------------------------------------------------------------- members
  AddMember: {
    member: MEMBERS,
    invariants: ({ facts, r, p }) => {
      const status = memberStatus(r, p.orgId, p.userId);
      if (status === 'active' || status === 'suspended') return violation('R62', `${p.userId} is already a member of ${p.orgId} (${status})`);
      if (p.role === 'primary_owner') {
        if (everExisted(facts, lookupKey.primaryOwner(p.orgId))) {
          return violation('R23', `${p.orgId} already has a primary owner; a second one only through TransferPrimaryOwnership (R23)`);
        }
      } else if (primaryOwnerOf(r, p.orgId) === undefined) {
        return violation('R23', `${p.orgId} has no primary owner yet; its first member must be added as primary_owner (R23)`);
      }
      if (p.seat !== undefined && r.value<OrgFacts>(lookupKey.org(p.orgId))?.dualSeat !== true) {
        return violation('R62', `${p.orgId} is not on a dual-seat plan; members have no seat type there (R8)`);
      }
      return undefined;
    },
    target: (a, { p }) => {
      if (p.role === 'primary_owner')
        return refusal('R23', `${who(a)} may not add a primary owner: the first one is added by the system or the platform (R23)`);
      return p.role === 'owner' ? ownerMakesOwners(a, `add ${p.userId} as an owner`) : undefined;
    },
    mapping: ({ p }) => ({ added: { orgId: p.orgId, userId: p.userId, role: p.role } }),
  },
  ChangeMemberRole: {
    member: MEMBERS,
    invariants: ({ r, p }) => {
      if (p.role === 'primary_owner') return violation('R23', `a primary owner is made only through TransferPrimaryOwnership (R23)`);
      return notThePrimaryOwner(r, p.orgId, p.userId, 'given another role');
    },
    target: (a, { r, p }) => {
      const from = memberRole(r, p.orgId, p.userId);
      return isOwner(p.role) || isOwner(from) ? ownerMakesOwners(a, `change ${p.userId}'s role from ${from} to ${p.role}`) : undefined;
    },
  },
  ChangeMemberSeat: {
    member: MEMBERS,
    invariants: ({ r, p }) =>
      r.value<OrgFacts>(lookupKey.org(p.orgId))?.dualSeat === true
        ? undefined
        : violation('R62', `${p.orgId} is not on a dual-seat plan; seats cannot change there (R8)`),
  },
  SuspendMember: {
    member: MEMBERS,
    invariants: ({ r, p }) =>
      notThePrimaryOwner(r, p.orgId, p.userId, 'suspended') ??
      (memberStatus(r, p.orgId, p.userId) === 'suspended' ? violation('R62', `${p.userId} is already suspended in ${p.orgId}`) : undefined),
    target: (a, { r, p }) => (isOwner(memberRole(r, p.orgId, p.userId)) ? ownerMakesOwners(a, `suspend the owner ${p.userId}`) : undefined),
  },
  ReactivateMember: {
    member: MEMBERS,
    invariants: ({ r, p }) => (memberStatus(r, p.orgId, p.userId) === 'suspended' ? undefined : violation('R62', `${p.userId} is not suspended in ${p.orgId}`)),
    // Decision: reactivating an owner gives back an owner's powers, so it is "making an owner" too.
    target: (a, { r, p }) => (isOwner(memberRole(r, p.orgId, p.userId)) ? ownerMakesOwners(a, `reactivate the owner ${p.userId}`) : undefined),
  },
  RemoveMember: {
    member: MEMBERS,
    invariants: ({ r, p }) => notThePrimaryOwner(r, p.orgId, p.userId, 'removed'),
    target: (a, { r, p }) => (isOwner(memberRole(r, p.orgId, p.userId)) ? ownerMakesOwners(a, `remove the owner ${p.userId}`) : undefined),
  },
  TransferPrimaryOwnership: {
    member: (a) =>
      a.isPrimaryOwner() ? undefined : refusal('R22', `${who(a)} is not the primary owner; only the primary owner may transfer primary ownership (R22, R23)`),
    invariants: ({ r, p }) => {
      const from = primaryOwnerOf(r, p.orgId);
      if (from === undefined) return violation('R23', `${p.orgId} has no primary owner to transfer from; add one with AddMember (R23)`);
      if (from === p.toUserId) return violation('R62', `${p.toUserId} is already the primary owner of ${p.orgId}`);
      if (memberStatus(r, p.orgId, p.toUserId) !== 'active') return violation('R62', `${p.toUserId} is not an active member of ${p.orgId}`);
      return undefined;
    },
    data: ({ r, p }) => ({ ...p, fromUserId: primaryOwnerOf(r, p.orgId) }),
  },

  // ------------------------------------------------------------------------------------------ groups (tenant, R30)
  CreateGroup: {
    member: GROUPS,
    tenantLevel: true,
    invariants: ({ facts, p }) => (everExisted(facts, lookupKey.group(p.groupId)) ? reused(`group ${p.groupId}`) : undefined),
  },
  RenameGroup: { member: GROUPS, tenantLevel: true },
  DeleteGroup: { member: GROUPS, tenantLevel: true, mapping: ({ p }) => ({ deletedGroupId: p.groupId }) },
  AddUserToGroup: {
    member: GROUPS,
    tenantLevel: true,
    invariants: ({ r, p }) => {
      if (r.value<boolean>(lookupKey.inGroup(p.groupId, p.userId)) === true) return violation('R62', `${p.userId} is already in group ${p.groupId}`);
      // Decision: users are known to the tenant through their memberships; a group may only reference a member.
      for (const orgId of r.items(lookupKey.userOrgs(p.userId))) {
        const status = memberStatus(r, orgId, p.userId);
        if (status === 'active' || status === 'suspended') return undefined;
      }
      return violation('R62', `unknown user ${p.userId}: not a member of any organization of the tenant`);
    },
    mapping: ({ p }) => ({ membership: { groupId: p.groupId, userId: p.userId, inGroup: true } }),
  },
  RemoveUserFromGroup: {
    member: GROUPS,
    tenantLevel: true,
    invariants: ({ r, p }) =>
      r.value<boolean>(lookupKey.inGroup(p.groupId, p.userId)) === true ? undefined : violation('R62', `${p.userId} is not in group ${p.groupId}`),
    mapping: ({ p }) => ({ membership: { groupId: p.groupId, userId: p.userId, inGroup: false } }),
  },

  // ---------------------------------------------------------------------------------------------- custom roles
  CreateRole: {
    member: ROLES_OF_ORG,
    invariants: ({ facts, p }) => (everExisted(facts, lookupKey.role(p.orgId, p.roleId)) ? reused(`role ${p.roleId} in ${p.orgId}`) : undefined),
  },
  RenameRole: { member: ROLES_OF_ORG },
  DeleteRole: { member: ROLES_OF_ORG },
  SetRoleCapability: { member: ROLES_OF_ORG, invariants: catalogHas },
  SetRoleAdminPermission: { member: ROLES_OF_ORG },
  SetRoleConnectorPermission: { member: ROLES_OF_ORG },
  SetRoleToolPermission: { member: ROLES_OF_ORG },
  AssignRoleToGroup: {
    member: ROLES_OF_ORG,
    invariants: ({ r, p }) =>
      r.value<boolean>(lookupKey.assigned(p.orgId, p.groupId, p.roleId)) === true
        ? violation('R62', `role ${p.roleId} is already assigned to group ${p.groupId} in ${p.orgId}`)
        : undefined,
  },
  UnassignRoleFromGroup: {
    member: ROLES_OF_ORG,
    invariants: ({ r, p }) =>
      r.value<boolean>(lookupKey.assigned(p.orgId, p.groupId, p.roleId)) === true
        ? undefined
        : violation('R62', `role ${p.roleId} is not assigned to group ${p.groupId} in ${p.orgId}`),
  },
  SetGroupRoleMapping: {
    member: needsArea('identity_access', 'change group mappings'),
    target: (a, { r, p }) => {
      const current = r.value<MappableRole | null>(lookupKey.mapping(p.orgId, p.idpGroupId)) ?? null;
      return p.role === 'owner' || current === 'owner'
        ? ownerMakesOwners(a, `map group ${p.idpGroupId} from ${current ?? 'nothing'} to ${p.role ?? 'nothing'}`)
        : undefined;
    },
    mapping: ({ p }) => ({ mapping: { orgId: p.orgId, groupId: p.idpGroupId, role: p.role } }),
  },

  // ------------------------------------------------------------------------------------------------- connectors
  AddConnector: {
    member: needsOwner('add connectors'),
    invariants: ({ facts, p }) =>
      everExisted(facts, lookupKey.connector(p.orgId, p.connectorId)) ? reused(`connector ${p.connectorId} in ${p.orgId}`) : undefined,
  },
  AddConnectorTools: {
    member: needsOwner('add connector tools'),
    invariants: ({ r, p }) => {
      const present = p.tools.filter((t) => r.value<boolean>(lookupKey.tool(p.orgId, p.connectorId, t)) === true);
      return present.length > 0 ? violation('R62', `connector ${p.connectorId} already has ${present.join(', ')}`) : undefined;
    },
  },
  RemoveConnectorTools: { member: needsOwner('remove connector tools') },
  RemoveConnector: { member: needsOwner('remove connectors') },
  SetOrgToolPolicy: { member: needsOwner('set the organization-wide tool policy (R10)') },
  EnableConnectorPermissions: {
    member: needsOwner('enable connector permissions (R11)'),
    invariants: ({ r, p }) =>
      r.value<boolean>(lookupKey.connectorPermissions(p.orgId)) === true
        ? violation('R62', `connector permissions are already enabled in ${p.orgId}`)
        : undefined,
    // R12: seed every existing custom role with "All connectors" = always_allow, so nobody's level moves.
    causes: ({ r, p }) => {
      const seeds: Derived[] = [];
      for (const roleId of r.items(lookupKey.roles(p.orgId))) {
        if (r.value(lookupKey.role(p.orgId, roleId)) !== true) continue;
        seeds.push({ type: 'RoleConnectorPermissionSet', data: { orgId: p.orgId, roleId, connectorId: '*', level: 'always_allow' } });
      }
      return seeds;
    },
  },

  // ------------------------------------------------------------------------------------------------------ spend
  SetOrgSpendCeiling: { member: BILLING, invariants: notBelowZero },
  SetGroupSpendLimit: { member: BILLING, invariants: notBelowZero },
  SetMemberSpendLimit: { member: BILLING, invariants: notBelowZero },

  // ---------------------------------------------------------------------------------------------------- Console
  SetConsoleRole: { member: needsConsoleManager('set Console roles') },
  CreateWorkspace: {
    member: needsConsoleManager('create workspaces'),
    invariants: ({ facts, p }) =>
      everExisted(facts, lookupKey.workspace(p.orgId, p.workspaceId)) ? reused(`workspace ${p.workspaceId} in ${p.orgId}`) : undefined,
  },
  ArchiveWorkspace: { member: needsConsoleManager('archive workspaces') },
  SetWorkspaceRole: {
    member: (a, { p }) =>
      a.managesWorkspaceMembersOf(p.workspaceId) || a.isConsoleManager()
        ? undefined
        : refusal(
            'R22',
            `${who(a)} needs workspace_admin in ${p.workspaceId}, the Console admin role or user_management = manage to set workspace roles (R22, R52)`,
          ),
  },
  CreateApiKey: {
    member: (a, { p }) => {
      if (p.createdBy === a.userId) {
        return a.managesApiKeysIn(p.workspaceId) || a.isConsoleManager()
          ? undefined
          : refusal('R22', `${who(a)} may not manage API keys in workspace ${p.workspaceId} (R22, R50, R52)`);
      }
      return a.isConsoleManager()
        ? undefined
        : refusal(
            'R22',
            `${who(a)} may create API keys only in their own name; creating one for ${p.createdBy} needs the Console admin role or user_management = manage (R22, R53)`,
          );
    },
    invariants: ({ facts, r, p }) => {
      if (everExisted(facts, lookupKey.apiKey(p.orgId, p.workspaceId, p.apiKeyId))) return reused(`API key ${p.apiKeyId} in workspace ${p.workspaceId}`);
      return memberStatus(r, p.orgId, p.createdBy) === 'active'
        ? undefined
        : violation('R62', `${p.createdBy} is not an active member of ${p.orgId} and cannot create API keys (R53)`);
    },
  },
  RevokeApiKey: {
    member: (a, { r, p }) => {
      if (a.managesApiKeysIn(p.workspaceId) || a.isConsoleManager()) return undefined;
      // R53: a key records its creator, who may revoke it.
      const key = r.value<ApiKeyFacts>(lookupKey.apiKey(p.orgId, p.workspaceId, p.apiKeyId));
      return key?.createdBy === a.userId
        ? undefined
        : refusal('R22', `${who(a)} may not revoke API keys in workspace ${p.workspaceId} they did not create (R22, R53)`);
    },
  },
};

// ----------------------------------------------------------------------------------------- non-member actors (R24)

const SCIM_MAY: ReadonlySet<CommandType> = new Set<CommandType>([
  'AddMember',
  'SuspendMember',
  'ReactivateMember',
  'RemoveMember',
  'CreateGroup',
  'RenameGroup',
  'DeleteGroup',
  'AddUserToGroup',
  'RemoveUserFromGroup',
]);
const PLATFORM_MAY: ReadonlySet<CommandType> = new Set<CommandType>(['SetPlatformOverride', 'AddCapabilityToCatalog', 'AddMember']);

/**
 * R23, R24. `system` may do everything. `scim` may only provision: members (whose built-in roles beyond user/custom
 * come through group mappings, R32 — so SCIM adds members as `user` or `custom` and never changes roles directly)
 * and groups. `platform` may only set platform overrides and extend the catalog — and, resolving R23 against R24,
 * add an organization's first primary owner.
 */
function systemActorProblem(kind: 'scim' | 'platform' | 'system', command: Command): Problem | undefined {
  if (kind === 'system') return undefined;
  if (kind === 'scim') {
    if (!SCIM_MAY.has(command.type)) return refusal('R24', `scim may only provision members and groups, not ${command.type} (R24)`);
    if (command.type === 'AddMember' && command.payload.role !== 'user' && command.payload.role !== 'custom') {
      return refusal('R24', `scim adds members as user or custom; the ${command.payload.role} role comes only through group mappings (R24, R32)`);
    }
    return undefined;
  }
  if (!PLATFORM_MAY.has(command.type))
    return refusal('R24', `the platform may only set platform overrides and add capabilities to the catalog, not ${command.type} (R24)`);
  if (command.type === 'AddMember' && command.payload.role !== 'primary_owner') {
    return refusal('R24', `the platform adds only an organization's first primary owner, not a ${command.payload.role} (R23, R24)`);
  }
  return undefined;
}

// ------------------------------------------------------------------------------------------------------- decide

export function decide(facts: FactStore, command: Command, ctx: DecideContext): Decision {
  const r = new FactReader(facts, { at: ctx.at, knownAt: Number.POSITIVE_INFINITY });
  const rules = RULES[command.type] as Rules<CommandType>;
  const p = command.payload as CommandPayload<CommandType> & { orgId?: string };
  const input: Input<CommandType> = { facts, r, p };
  const refuse = (problem: Problem): Decision => ({
    kind: 'refused',
    rule: problem.rule,
    reason: problem.reason,
    events: [
      {
        id: ctx.newId(),
        type: 'AccessChangeDenied',
        data: { ...deniedOrg(command), command: { type: command.type, payload: command.payload }, reason: problem.reason, rule: problem.rule },
      },
    ],
  });

  // 1. the actor (R22, R24)
  const actor = command.actor;
  let acting: ActingMember | undefined;
  if (actor.kind === 'member' && 'onlyBy' in rules.member) {
    return refuse(refusal('R24', `member ${actor.userId} of ${actor.orgId} may not ${command.type}: only ${rules.member.onlyBy} may (R24)`));
  } else if (actor.kind === 'member') {
    const orgId = rules.tenantLevel || p.orgId === undefined ? actor.orgId : p.orgId;
    if (orgId !== actor.orgId) {
      return refuse(
        refusal('R22', `member ${actor.userId} of ${actor.orgId} may not act on organization ${orgId}: members act only in their own organization (R22)`),
      );
    }
    acting = ActingMember.of(r, orgId, actor.userId);
    if (acting === undefined) return refuse(refusal('R22', `${actor.userId} is not an active member of ${orgId} (R22)`));
    const problem = (rules.member as (a: ActingMember, input: Input<CommandType>) => Problem | undefined)(acting, input);
    if (problem) return refuse(problem);
  } else {
    const problem = systemActorProblem(actor.kind, command);
    if (problem) return refuse(problem);
  }

  // 2. the invariants (R23, R62)
  const type = COMMANDS[command.type].event as EventType;
  const broken = checkReferences(worldAt(facts, r.view), type, p) ?? rules.invariants?.(input);
  if (broken) return { kind: 'violation', rule: broken.rule, reason: broken.reason };

  // 3. rights that depend on the target (R22), including the owners a mapping sync would make or unmake (R32)
  const change = rules.mapping?.(input);
  const syncs: MappedRoleChange[] = change === undefined ? [] : mappedRoleChanges(r, change);
  if (acting !== undefined) {
    const problem = rules.target?.(acting, input);
    if (problem) return refuse(problem);
    if (!acting.isOwner()) {
      const owner = syncs.find((s) => isOwner(s.from) || isOwner(s.role));
      if (owner)
        return refuse(
          ownerMakesOwners(acting, `cause ${owner.userId}'s role in ${owner.orgId} to change from ${owner.from} to ${owner.role} through group mappings`)!,
        );
    }
  }

  const first: NewEvent = { id: ctx.newId(), type, data: rules.data?.(input) ?? { ...p } };
  const events: NewEvent[] = [first];
  for (const d of rules.causes?.(input) ?? []) events.push({ id: ctx.newId(), type: d.type, data: d.data, causationId: first.id });
  // R32: the role change a sync causes is its own event, caused by the sync.
  for (const s of syncs) {
    events.push({ id: ctx.newId(), type: 'MemberRoleChanged', data: { orgId: s.orgId, userId: s.userId, role: s.role }, causationId: first.id });
  }
  return { kind: 'accepted', events };
}

/**
 * The organization a refused command targeted, recorded on its AccessChangeDenied so the audit trail filtered by
 * organization shows the attempts made in it (R62): the payload's orgId, else a member actor's
 * organization; none for commands without one (CreateGroup, AddCapabilityToCatalog by a non-member).
 */
function deniedOrg(command: Command): { orgId?: string } {
  const payload = command.payload as { orgId?: unknown };
  if (typeof payload.orgId === 'string') return { orgId: payload.orgId };
  return command.actor.kind === 'member' ? { orgId: command.actor.orgId } : {};
}
