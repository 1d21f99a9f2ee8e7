import type { AdminArea, AdminLevel, BuiltInRole, ConsoleRole, MappableRole, ProvisioningMode, Seat, WorkspaceRole } from '../src/index.js';
import { by, e, member, type CommandsOf, type GivenEvent } from './given.js';

/**
 * Test data builders: organizations and their people as event histories (style.md: builders, not copy-pasted
 * event lists). Every history is valid as the deciders see it (R23: the primary owner first).
 */

export interface OrgOptions {
  readonly dualSeat?: boolean;
  readonly mode?: ProvisioningMode;
  readonly primaryOwner?: string;
}

/** An organization with its primary owner (R23). */
export function organization(orgId: string, o: OrgOptions = {}): GivenEvent[] {
  return [
    e.OrganizationCreated({ orgId, name: `${orgId} Inc.`, dualSeat: o.dualSeat ?? false, provisioningMode: o.mode ?? 'invite_only', usageBased: false }),
    e.MemberAdded({
      orgId,
      userId: o.primaryOwner ?? 'po',
      email: `${o.primaryOwner ?? 'po'}@${orgId}.test`,
      role: 'primary_owner',
      ...(o.dualSeat ? { seat: 'chat_claude_code' as const } : {}),
    }),
  ];
}

export function aMember(orgId: string, userId: string, role: BuiltInRole, seat?: Seat): GivenEvent {
  return e.MemberAdded({ orgId, userId, email: `${userId}@${orgId}.test`, role, ...(seat ? { seat } : {}) });
}

export function aGroup(groupId: string, source: 'manual' | 'scim' = 'manual'): GivenEvent {
  return e.GroupCreated({ groupId, name: `Group ${groupId}`, source });
}

export function inGroup(groupId: string, userId: string): GivenEvent {
  return e.UserAddedToGroup({ groupId, userId });
}

export interface RoleGrants {
  readonly admin?: Partial<Record<AdminArea, AdminLevel>>;
  readonly capabilities?: readonly string[];
}

/** A custom role (R7: grants chat) with extra grants. */
export function aRole(orgId: string, roleId: string, grants: RoleGrants = {}): GivenEvent[] {
  return [
    e.RoleCreated({ orgId, roleId, name: `Role ${roleId}` }),
    ...(grants.capabilities ?? []).map((capability) => e.RoleCapabilitySet({ orgId, roleId, capability, granted: true })),
    ...Object.entries(grants.admin ?? {}).map(([area, level]) =>
      e.RoleAdminPermissionSet({ orgId, roleId, area: area as AdminArea, level: level as AdminLevel }),
    ),
  ];
}

export function assigned(orgId: string, groupId: string, roleId: string): GivenEvent {
  return e.RoleAssignedToGroup({ orgId, groupId, roleId });
}

/** A `custom` member reaching one role through one group of their own (R5, R20, R30). */
export function customMemberWith(orgId: string, userId: string, grants: RoleGrants = {}): GivenEvent[] {
  const groupId = `g-${userId}`;
  const roleId = `r-${userId}`;
  return [aMember(orgId, userId, 'custom'), aGroup(groupId), inGroup(groupId, userId), ...aRole(orgId, roleId, grants), assigned(orgId, groupId, roleId)];
}

export function aConnector(orgId: string, connectorId: string, tools: string[]): GivenEvent {
  return e.ConnectorAdded({ orgId, connectorId, name: connectorId, tools });
}

export function aWorkspace(orgId: string, workspaceId: string): GivenEvent {
  return e.WorkspaceCreated({ orgId, workspaceId, name: `Workspace ${workspaceId}` });
}

export function consoleRole(orgId: string, userId: string, role: ConsoleRole): GivenEvent {
  return e.ConsoleRoleSet({ orgId, userId, role });
}

export function workspaceRole(orgId: string, workspaceId: string, userId: string, role: WorkspaceRole | null): GivenEvent {
  return e.WorkspaceRoleSet({ orgId, workspaceId, userId, role });
}

export function anApiKey(orgId: string, workspaceId: string, apiKeyId: string, createdBy: string): GivenEvent {
  return e.ApiKeyCreated({ orgId, workspaceId, apiKeyId, name: `key ${apiKeyId}`, createdBy });
}

/**
 * The organization most tests start from, `acme`:
 *  - `po` primary owner, `owner` owner, `admin` admin, `user` user;
 *  - `cm` a custom member in group `g-cm` with role `r-cm` (chat only);
 *  - `idm` custom with identity_access = manage, `um` custom with user_management = manage, `bm` custom with
 *    billing = manage (each through their own group and role).
 */
export function acme(o: OrgOptions = {}): GivenEvent[] {
  return [
    ...organization('acme', o),
    aMember('acme', 'owner', 'owner'),
    aMember('acme', 'admin', 'admin'),
    aMember('acme', 'user', 'user'),
    ...customMemberWith('acme', 'cm'),
    ...customMemberWith('acme', 'idm', { admin: { identity_access: 'manage' } }),
    ...customMemberWith('acme', 'um', { admin: { user_management: 'manage' } }),
    ...customMemberWith('acme', 'bm', { admin: { billing: 'manage' } }),
  ];
}

/** Commands by a member of `acme` (or of another organization). */
export function as(userId: string, orgId = 'acme'): CommandsOf {
  return by(member(orgId, userId));
}

/** Every member role of acme that lacks a right, for "refused" tables. */
export const ACME_PEOPLE = ['po', 'owner', 'admin', 'user', 'cm', 'idm', 'um', 'bm'] as const;

/** R32: group mappings switched on in an organization, with SCIM groups mapped to built-in roles (groups created here). */
export function mappedGroups(orgId: string, mapping: Record<string, MappableRole>): GivenEvent[] {
  return [
    e.GroupMappingsEnabledSet({ orgId, enabled: true }),
    ...Object.entries(mapping).flatMap(([groupId, role]) => [aGroup(groupId, 'scim'), e.GroupRoleMappingSet({ orgId, idpGroupId: groupId, role })]),
  ];
}
