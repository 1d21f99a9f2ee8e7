import type { EventMetadata } from './envelope.js';
import { SCHEMA_VERSION, upcast, type EventData, type EventType } from './catalog.js';
import { internKey } from './fact-keys.js';
import type { FactStore, Stamp } from './facts.js';
import { INITIAL_CAPABILITIES } from './vocabulary.js';
import { reachesEveryWorkspace } from './evaluate.js';

/** An event as the model folds it: its data (already upcast and valid), its metadata and its store position. */
export interface LedgerEvent<E extends EventType = EventType> {
  readonly id: string;
  readonly type: E;
  readonly data: EventData<E>;
  readonly meta: EventMetadata;
  readonly position: number;
}

type Folder<E extends EventType> = (facts: FactStore, data: EventData<E>, ev: Stamp) => void;

/**
 * What each event writes. A folder reads nothing but the event, except where a rule makes a fact depend on the
 * state at that instant (R13), and then it reads strictly before the event: so folding in occurredAt order and
 * inserting late events among the versions give the same facts (R61).
 */
const FOLD: { [E in EventType]: Folder<E> } = {
  OrganizationCreated(f, d, ev) {
    f.addToSet(internKey.orgs, d.orgId, ev);
    f.write(internKey.org(d.orgId), { name: d.name, dualSeat: d.dualSeat, usageBased: d.usageBased }, ev);
    f.write(internKey.orgMode(d.orgId), d.provisioningMode, ev);
    // Decision (spec silent): the capabilities the product ships with start switched on; ones added to the catalog
    // later start off (R3), which needs no write: an absent toggle is off.
    for (const c of INITIAL_CAPABILITIES) f.write(internKey.orgCapability(d.orgId, c), true, ev);
  },
  OrganizationCapabilitySet: (f, d, ev) => f.write(internKey.orgCapability(d.orgId, d.capability), d.enabled, ev),
  PlatformOverrideSet: (f, d, ev) => f.write(internKey.platformOverride(d.orgId, d.capability), d.disabled, ev),
  CapabilityAddedToCatalog: (f, d, ev) => f.addToSet(internKey.catalog, d.capability, ev),
  ProvisioningModeSet: (f, d, ev) => f.write(internKey.orgMode(d.orgId), d.mode, ev),
  GroupMappingsEnabledSet: (f, d, ev) => f.write(internKey.groupMappingsEnabled(d.orgId), d.enabled, ev),
  SpendingPrecedenceSet: (f, d, ev) => f.write(internKey.spendingPrecedence(d.orgId), d.precedence, ev),

  MemberAdded(f, d, ev) {
    f.addToSet(internKey.members(d.orgId), d.userId, ev);
    f.addToSet(internKey.userOrgs(d.userId), d.orgId, ev);
    f.write(internKey.memberRole(d.orgId, d.userId), d.role, ev);
    f.write(internKey.memberSeat(d.orgId, d.userId), d.seat ?? null, ev);
    f.write(internKey.memberStatus(d.orgId, d.userId), 'active', ev);
    f.write(internKey.memberEmail(d.orgId, d.userId), d.email, ev);
    // A membership starts afresh: no individual limit, no Console role carried over from an earlier one.
    f.write(internKey.memberLimit(d.orgId, d.userId), null, ev);
    f.write(internKey.consoleRole(d.orgId, d.userId), null, ev);
    if (d.role === 'primary_owner') f.write(internKey.primaryOwner(d.orgId), d.userId, ev);
  },
  MemberRoleChanged(f, d, ev) {
    f.write(internKey.memberRole(d.orgId, d.userId), d.role, ev);
    if (d.role === 'primary_owner') f.write(internKey.primaryOwner(d.orgId), d.userId, ev);
  },
  MemberSeatChanged: (f, d, ev) => f.write(internKey.memberSeat(d.orgId, d.userId), d.seat, ev),
  MemberSuspended: (f, d, ev) => f.write(internKey.memberStatus(d.orgId, d.userId), 'suspended', ev),
  MemberReactivated: (f, d, ev) => f.write(internKey.memberStatus(d.orgId, d.userId), 'active', ev),
  MemberRemoved: (f, d, ev) => f.write(internKey.memberStatus(d.orgId, d.userId), 'removed', ev),
  PrimaryOwnershipTransferred(f, d, ev) {
    const from = d.fromUserId ?? f.get<string>(internKey.primaryOwner(d.orgId), { at: ev.at, knownAt: Infinity, beforePos: ev.pos })?.value;
    if (from !== undefined && from !== d.toUserId) f.write(internKey.memberRole(d.orgId, from), 'owner', ev);
    f.write(internKey.memberRole(d.orgId, d.toUserId), 'primary_owner', ev);
    f.write(internKey.primaryOwner(d.orgId), d.toUserId, ev);
  },

  GroupCreated(f, d, ev) {
    f.addToSet(internKey.groups, d.groupId, ev);
    f.write(internKey.group(d.groupId), { source: d.source }, ev);
    f.write(internKey.groupName(d.groupId), d.name, ev);
  },
  GroupRenamed: (f, d, ev) => f.write(internKey.groupName(d.groupId), d.name, ev),
  GroupDeleted: (f, d, ev) => f.write(internKey.group(d.groupId), null, ev),
  UserAddedToGroup(f, d, ev) {
    const inGroup = internKey.inGroup(d.groupId, d.userId);
    f.addToSet(internKey.groupsOfUser(d.userId), d.groupId, ev, inGroup);
    f.addToSet(internKey.usersOfGroup(d.groupId), d.userId, ev, inGroup);
    f.write(inGroup, true, ev);
  },
  UserRemovedFromGroup: (f, d, ev) => f.write(internKey.inGroup(d.groupId, d.userId), false, ev),

  RoleCreated(f, d, ev) {
    f.addToSet(internKey.roles(d.orgId), d.roleId, ev);
    f.write(internKey.role(d.orgId, d.roleId), true, ev);
    f.write(internKey.roleName(d.orgId, d.roleId), d.name, ev);
    // R7: a new custom role grants chat and nothing else.
    f.write(internKey.roleCapability(d.orgId, d.roleId, 'chat'), true, ev);
    // R13: created while connector permissions are enabled → "All connectors" at needs_approval.
    const enabled = f.get<boolean>(internKey.connectorPermissions(d.orgId), { at: ev.at, knownAt: Infinity, beforePos: ev.pos })?.value;
    if (enabled === true) f.write(internKey.roleConnector(d.orgId, d.roleId, '*'), 'needs_approval', ev);
  },
  RoleRenamed: (f, d, ev) => f.write(internKey.roleName(d.orgId, d.roleId), d.name, ev),
  RoleDeleted: (f, d, ev) => f.write(internKey.role(d.orgId, d.roleId), null, ev),
  RoleCapabilitySet: (f, d, ev) => f.write(internKey.roleCapability(d.orgId, d.roleId, d.capability), d.granted, ev),
  RoleAdminPermissionSet: (f, d, ev) => f.write(internKey.roleAdmin(d.orgId, d.roleId, d.area), d.level, ev),
  RoleConnectorPermissionSet: (f, d, ev) => f.write(internKey.roleConnector(d.orgId, d.roleId, d.connectorId), d.level, ev),
  RoleToolPermissionSet: (f, d, ev) => f.write(internKey.roleTool(d.orgId, d.roleId, d.connectorId, d.toolName), d.level, ev),
  RoleAssignedToGroup(f, d, ev) {
    f.addToSet(internKey.rolesOfGroup(d.orgId, d.groupId), d.roleId, ev);
    f.write(internKey.assigned(d.orgId, d.groupId, d.roleId), true, ev);
  },
  RoleUnassignedFromGroup: (f, d, ev) => f.write(internKey.assigned(d.orgId, d.groupId, d.roleId), false, ev),
  GroupRoleMappingSet(f, d, ev) {
    f.addToSet(internKey.mappings(d.orgId), d.idpGroupId, ev);
    f.write(internKey.mapping(d.orgId, d.idpGroupId), d.role, ev);
  },

  ConnectorAdded(f, d, ev) {
    f.addToSet(internKey.connectors(d.orgId), d.connectorId, ev);
    f.write(internKey.connector(d.orgId, d.connectorId), { name: d.name }, ev);
    for (const t of d.tools) {
      f.addToSet(internKey.tools(d.orgId, d.connectorId), t, ev);
      f.write(internKey.tool(d.orgId, d.connectorId, t), true, ev);
    }
  },
  ConnectorToolsAdded(f, d, ev) {
    for (const t of d.tools) {
      f.addToSet(internKey.tools(d.orgId, d.connectorId), t, ev);
      f.write(internKey.tool(d.orgId, d.connectorId, t), true, ev);
    }
  },
  // R18: removed tools and connectors are blocked from this instant; the roles' rows stay in their history.
  ConnectorToolsRemoved(f, d, ev) {
    for (const t of d.tools) f.write(internKey.tool(d.orgId, d.connectorId, t), false, ev);
  },
  ConnectorRemoved: (f, d, ev) => f.write(internKey.connector(d.orgId, d.connectorId), null, ev),
  OrgToolPolicySet: (f, d, ev) => f.write(internKey.toolPolicy(d.orgId, d.connectorId, d.toolName), d.level, ev),
  ConnectorPermissionsEnabled: (f, d, ev) => f.write(internKey.connectorPermissions(d.orgId), true, ev),

  OrgSpendCeilingSet: (f, d, ev) => f.write(internKey.spendCeiling(d.orgId), d.cents, ev),
  // The sets of limited groups and members, of members whose Console role reaches every workspace (R51) and of
  // workspace users are indexes: whom an organization-wide ceiling or a workspace can change at all (ever added, never
  // removed; the interval producer reads them, docs/access-intervals.md).
  GroupSpendLimitSet(f, d, ev) {
    const limit = internKey.groupLimit(d.orgId, d.groupId);
    if (d.cents !== null) f.addToSet(internKey.limitedGroups(d.orgId), d.groupId, ev, limit);
    f.write(limit, d.cents, ev);
  },
  MemberSpendLimitSet(f, d, ev) {
    const limit = internKey.memberLimit(d.orgId, d.userId);
    if (d.cents !== null) f.addToSet(internKey.limitedMembers(d.orgId), d.userId, ev, limit);
    f.write(limit, d.cents, ev);
  },

  ConsoleRoleSet(f, d, ev) {
    if (reachesEveryWorkspace(d.role)) f.addToSet(internKey.workspaceWideMembers(d.orgId), d.userId, ev);
    f.write(internKey.consoleRole(d.orgId, d.userId), d.role, ev);
  },
  WorkspaceCreated(f, d, ev) {
    f.addToSet(internKey.workspaces(d.orgId), d.workspaceId, ev);
    f.write(internKey.workspace(d.orgId, d.workspaceId), { name: d.name, archived: false }, ev);
  },
  WorkspaceArchived(f, d, ev) {
    const name = f.get<{ name: string }>(internKey.workspace(d.orgId, d.workspaceId), { at: ev.at, knownAt: Infinity, beforePos: ev.pos })?.value?.name;
    f.write(internKey.workspace(d.orgId, d.workspaceId), { name: name ?? d.workspaceId, archived: true }, ev);
  },
  WorkspaceRoleSet(f, d, ev) {
    f.addToSet(internKey.workspacesOfUser(d.orgId, d.userId), d.workspaceId, ev);
    f.addToSet(internKey.usersOfWorkspace(d.orgId, d.workspaceId), d.userId, ev);
    f.write(internKey.workspaceRole(d.orgId, d.workspaceId, d.userId), d.role, ev);
  },
  ApiKeyCreated(f, d, ev) {
    f.addToSet(internKey.apiKeys(d.orgId), `${d.workspaceId}|${d.apiKeyId}`, ev);
    f.write(internKey.apiKey(d.orgId, d.workspaceId, d.apiKeyId), { name: d.name, createdBy: d.createdBy, workspaceId: d.workspaceId }, ev);
    f.write(internKey.apiKeyStatus(d.orgId, d.workspaceId, d.apiKeyId), 'active', ev);
  },
  ApiKeyRevoked: (f, d, ev) => f.write(internKey.apiKeyStatus(d.orgId, d.workspaceId, d.apiKeyId), 'revoked', ev),

  // Refusals are audit facts only (R62): they change no access.
  AccessChangeDenied: () => {},
  // Drift found by a source (libs/sources): an audit fact; it changes no access.
  DriftDetected: () => {},
  // The organization's record is complete from this instant on (docs/sources.md § Baseline); it changes no access.
  BaselineRecorded: (f, d, ev) => f.write(internKey.orgBaseline(d.orgId), { source: d.source, sourceKind: d.sourceKind }, ev),
};

/** Fold one event into the facts. */
export function evolve(facts: FactStore, event: LedgerEvent): void {
  const fold = FOLD[event.type] as Folder<EventType> | undefined;
  if (fold === undefined) throw new Error(`unknown event type ${event.type}`);
  const { occurredAt, recordedAt } = event.meta;
  const at = Date.parse(occurredAt);
  // Most events are recorded as they take effect: one parse for both.
  const stamp = facts.note(event.id, event.type, event.meta.actor, at, recordedAt === occurredAt ? at : Date.parse(recordedAt), event.position);
  fold(facts, event.data as never, stamp);
}

/**
 * Fold one event, or nothing of it: a folder that throws on data it cannot take (a shape from an
 * older schema, a field missing) may already have written some facts, and those are taken back before the error goes
 * on, so a projection can skip the event and keep a fact store that is exactly "every other event folded". Inside a
 * writer's speculation (group commit) the speculation's own rollback covers the whole batch instead.
 */
export function evolveWhole(facts: FactStore, event: LedgerEvent): void {
  if (facts.speculating) {
    evolve(facts, event);
    return;
  }
  facts.beginSpeculation();
  try {
    evolve(facts, event);
  } catch (error) {
    facts.rollbackSpeculation();
    throw error;
  }
  facts.commitSpeculation([event.position]);
}

/** A stored event (as the event store returns it) as the model folds it, its data upcast to the current schema. */
export function asLedgerEvent(stored: {
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly position: number;
}): LedgerEvent {
  const meta = stored.metadata as EventMetadata;
  const version = meta.schemaVersion ?? 1;
  const data = version === (SCHEMA_VERSION[stored.type] ?? 1) ? stored.data : upcast(stored.type, version, stored.data);
  return { id: stored.id, type: stored.type as EventType, data: data as never, meta, position: stored.position };
}
