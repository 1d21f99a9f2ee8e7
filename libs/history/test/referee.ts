import type { CommandBody, ImportLine } from '../src/index.js';

/**
 * An independent, deliberately plain model of the rules the generator must respect (R22–R24, R62), written from the
 * spec and not sharing code with the generator's shadow state. `judge` says why a command would be refused, or
 * returns undefined and applies it.
 */

type Member = { role: string; status: 'active' | 'suspended'; console?: string };
interface Org {
  mode: string;
  dualSeat: boolean;
  members: Map<string, Member>;
  roles: Map<string, { groups: Set<string> }>;
  connectors: Map<string, Set<string>>;
  workspaces: Map<string, { keys: Map<string, boolean> }>;
  groupLimits: Set<string>;
  mappings: Map<string, string>;
  mappingsEnabled: boolean;
  connectorPermissions: boolean;
}

const OWNERS = new Set(['primary_owner', 'owner']);
const REGULAR = new Set(['user', 'custom']);
const SCIM_MEMBER_COMMANDS = new Set(['AddMember', 'SuspendMember', 'ReactivateMember', 'RemoveMember']);
const GROUP_COMMANDS = new Set(['CreateGroup', 'RenameGroup', 'DeleteGroup', 'AddUserToGroup', 'RemoveUserFromGroup']);
const MEMBER_COMMANDS = new Set(['AddMember', 'ChangeMemberRole', 'ChangeMemberSeat', 'SuspendMember', 'ReactivateMember', 'RemoveMember']);

export class Referee {
  readonly orgs = new Map<string, Org>();
  readonly groups = new Map<string, { source: string; members: Set<string> }>();
  readonly deletedGroups = new Set<string>();
  readonly catalog = new Set([
    'chat',
    'web_search',
    'memory',
    'projects',
    'artifacts',
    'file_creation',
    'code_execution',
    'cowork',
    'claude_code',
    'fast_mode',
    'research',
  ]);
  readonly orgsOfUser = new Map<string, number>();
  readonly emails = new Map<string, string>();
  readonly keyIds = new Set<string>();

  private org(id: unknown): Org {
    const org = this.orgs.get(id as string);
    if (org === undefined) throw new Error(`unknown organization ${String(id)}`);
    return org;
  }

  private known(userId: string): boolean {
    return (this.orgsOfUser.get(userId) ?? 0) > 0;
  }

  /** Why the actor may not do this (R22, R24), or undefined. */
  private forbidden(c: CommandBody): string | undefined {
    const p = c.payload as Record<string, any>;
    const a = c.actor;
    if (a.kind === 'system') return undefined;
    if (a.kind === 'platform') return c.type === 'SetPlatformOverride' || c.type === 'AddCapabilityToCatalog' ? undefined : 'R24 platform';
    if (a.kind === 'scim') {
      if (GROUP_COMMANDS.has(c.type)) {
        const g = c.type === 'CreateGroup' ? p : this.groups.get(p.groupId);
        return g && g.source === 'scim' ? undefined : 'R24 scim edits only scim groups';
      }
      if (!SCIM_MEMBER_COMMANDS.has(c.type)) return 'R24 scim';
      const org = this.org(p.orgId);
      if (org.mode !== 'scim') return 'scim in a non-scim organization';
      const role = c.type === 'AddMember' ? p.role : org.members.get(p.userId)?.role;
      return REGULAR.has(role) ? undefined : 'scim only provisions user/custom members';
    }
    const home = this.org(a.orgId);
    const me = home.members.get(a.userId);
    if (me === undefined || me.status !== 'active') return 'actor is not an active member';
    if (GROUP_COMMANDS.has(c.type)) {
      const source = c.type === 'CreateGroup' ? p.source : this.groups.get(p.groupId)?.source;
      if (source !== 'manual') return 'members edit only manual groups';
      return OWNERS.has(me.role) ? undefined : 'R22 groups need an owner';
    }
    if (p.orgId !== a.orgId) return 'actor acts in another organization';
    if (c.type === 'TransferPrimaryOwnership') return me.role === 'primary_owner' ? undefined : 'R22 primary owner only';
    if (c.type === 'CreateApiKey') return p.createdBy === a.userId && (me.console === 'developer' || me.console === 'admin') ? undefined : 'R50 developer keys';
    if (OWNERS.has(me.role)) return undefined;
    if (me.role === 'admin' && MEMBER_COMMANDS.has(c.type)) {
      const target = c.type === 'AddMember' ? undefined : home.members.get(p.userId)?.role;
      if (target !== undefined && !REGULAR.has(target)) return 'R22 admin on an owner or admin';
      if (c.type === 'AddMember' || c.type === 'ChangeMemberRole') return REGULAR.has(p.role) ? undefined : 'R22 only an owner makes an owner or admin';
      return undefined;
    }
    return `R22 ${me.role} may not ${c.type}`;
  }

  /** Why the command breaks an invariant (R62), or undefined; applies it when it is valid. */
  private apply(c: CommandBody): string | undefined {
    const p = c.payload as Record<string, any>;
    switch (c.type) {
      case 'CreateOrganization':
        if (this.orgs.has(p.orgId)) return 'organization exists';
        this.orgs.set(p.orgId, {
          mode: p.provisioningMode,
          dualSeat: p.dualSeat,
          members: new Map(),
          roles: new Map(),
          connectors: new Map(),
          workspaces: new Map(),
          groupLimits: new Set(),
          mappings: new Map(),
          mappingsEnabled: false,
          connectorPermissions: false,
        });
        return undefined;
      case 'SetOrganizationCapability':
      case 'SetPlatformOverride':
        this.org(p.orgId);
        return this.catalog.has(p.capability) ? undefined : 'capability not in catalog';
      case 'AddCapabilityToCatalog':
        this.catalog.add(p.capability);
        return undefined;
      case 'SetProvisioningMode':
        this.org(p.orgId).mode = p.mode;
        return undefined;
      case 'SetGroupMappingsEnabled':
        this.org(p.orgId).mappingsEnabled = p.enabled;
        return undefined;
      case 'SetSpendingPrecedence':
      case 'SetOrgSpendCeiling':
        this.org(p.orgId);
        return undefined;
      case 'AddMember': {
        const org = this.org(p.orgId);
        if (org.members.has(p.userId)) return 'already a member';
        if (p.role === 'primary_owner' && org.members.size > 0) return 'R23 second primary owner';
        if (p.role !== 'primary_owner' && org.members.size === 0) return 'R23 first member must be the primary owner';
        if (org.dualSeat !== (p.seat !== undefined)) return 'seat only and always in dual-seat organizations';
        if (this.emails.has(p.userId) && this.emails.get(p.userId) !== p.email) return 'email changed';
        if (org.mappingsEnabled && p.role !== 'custom' && [...org.mappings.keys()].some((g) => this.groups.get(g)?.members.has(p.userId)))
          return 'R32 mapped user joins with another role';
        this.emails.set(p.userId, p.email);
        org.members.set(p.userId, { role: p.role, status: 'active' });
        this.orgsOfUser.set(p.userId, (this.orgsOfUser.get(p.userId) ?? 0) + 1);
        return undefined;
      }
      case 'ChangeMemberRole': {
        const m = this.org(p.orgId).members.get(p.userId);
        if (m === undefined || m.status !== 'active') return 'unknown or inactive member';
        if (p.role === 'primary_owner' || m.role === 'primary_owner') return 'R23 primary owner changes only by transfer';
        if (m.role === p.role) return 'no change';
        m.role = p.role;
        return undefined;
      }
      case 'ChangeMemberSeat': {
        const org = this.org(p.orgId);
        if (!org.dualSeat) return 'seat in a single-seat organization';
        return org.members.get(p.userId)?.status === 'active' ? undefined : 'unknown member';
      }
      case 'SuspendMember':
      case 'ReactivateMember': {
        const m = this.org(p.orgId).members.get(p.userId);
        if (m === undefined || m.role === 'primary_owner') return 'unknown member or primary owner';
        const want = c.type === 'SuspendMember' ? 'active' : 'suspended';
        if (m.status !== want) return `member is not ${want}`;
        m.status = c.type === 'SuspendMember' ? 'suspended' : 'active';
        return undefined;
      }
      case 'RemoveMember': {
        const org = this.org(p.orgId);
        const m = org.members.get(p.userId);
        if (m === undefined || m.role === 'primary_owner') return 'unknown member or primary owner';
        const left = (this.orgsOfUser.get(p.userId) ?? 0) - 1;
        if (left === 0) for (const [id, g] of this.groups) if (g.members.has(p.userId)) return `leaves the tenant while still in group ${id}`;
        org.members.delete(p.userId);
        this.orgsOfUser.set(p.userId, left);
        return undefined;
      }
      case 'TransferPrimaryOwnership': {
        const org = this.org(p.orgId);
        const to = org.members.get(p.toUserId);
        if (to === undefined || to.status !== 'active') return 'unknown member';
        for (const m of org.members.values()) if (m.role === 'primary_owner') m.role = 'owner';
        to.role = 'primary_owner';
        return undefined;
      }
      case 'CreateGroup':
        if (this.groups.has(p.groupId) || this.deletedGroups.has(p.groupId)) return 'group id reused';
        this.groups.set(p.groupId, { source: p.source, members: new Set() });
        return undefined;
      case 'RenameGroup':
        return this.groups.has(p.groupId) ? undefined : 'unknown group';
      case 'DeleteGroup': {
        if (!this.groups.has(p.groupId)) return 'unknown group';
        for (const org of this.orgs.values()) {
          if (org.groupLimits.has(p.groupId)) return 'deleted group still has a spend limit';
          if (org.mappings.has(p.groupId)) return 'deleted group still mapped';
          for (const r of org.roles.values()) if (r.groups.has(p.groupId)) return 'deleted group still has a role';
        }
        this.groups.delete(p.groupId);
        this.deletedGroups.add(p.groupId);
        return undefined;
      }
      case 'AddUserToGroup':
      case 'RemoveUserFromGroup':
        return this.membership(c.type === 'AddUserToGroup', p.groupId, p.userId);
      case 'CreateRole': {
        const org = this.org(p.orgId);
        if (org.roles.has(p.roleId)) return 'role exists';
        org.roles.set(p.roleId, { groups: new Set() });
        return undefined;
      }
      case 'RenameRole':
      case 'SetRoleAdminPermission':
        return this.org(p.orgId).roles.has(p.roleId) ? undefined : 'unknown role (or of another organization)';
      case 'SetRoleCapability':
        if (!this.catalog.has(p.capability)) return 'capability not in catalog';
        return this.org(p.orgId).roles.has(p.roleId) ? undefined : 'unknown role';
      case 'DeleteRole': {
        const org = this.org(p.orgId);
        const role = org.roles.get(p.roleId);
        if (role === undefined) return 'unknown role';
        if (role.groups.size > 0) return 'deleted role still assigned';
        org.roles.delete(p.roleId);
        return undefined;
      }
      case 'SetRoleConnectorPermission': {
        const org = this.org(p.orgId);
        if (!org.roles.has(p.roleId)) return 'unknown role';
        return p.connectorId === '*' || org.connectors.has(p.connectorId) ? undefined : 'unknown connector';
      }
      case 'SetRoleToolPermission': {
        const org = this.org(p.orgId);
        if (!org.roles.has(p.roleId)) return 'unknown role';
        return org.connectors.get(p.connectorId)?.has(p.toolName) ? undefined : 'unknown tool';
      }
      case 'AssignRoleToGroup':
      case 'UnassignRoleFromGroup': {
        const role = this.org(p.orgId).roles.get(p.roleId);
        if (role === undefined) return 'unknown role (or of another organization)';
        if (!this.groups.has(p.groupId)) return 'unknown group';
        const assign = c.type === 'AssignRoleToGroup';
        if (role.groups.has(p.groupId) === assign) return assign ? 'already assigned' : 'not assigned';
        if (assign) role.groups.add(p.groupId);
        else role.groups.delete(p.groupId);
        return undefined;
      }
      case 'SetGroupRoleMapping': {
        const org = this.org(p.orgId);
        if (!org.mappingsEnabled) return 'mappings not enabled';
        const g = this.groups.get(p.idpGroupId);
        if (g === undefined || g.source !== 'scim') return 'unknown IdP group';
        if (p.role !== 'custom') return 'generator maps only to custom';
        for (const u of g.members) {
          const m = org.members.get(u);
          if (m !== undefined && m.role !== 'custom') return 'R32 mapping would change a role';
        }
        org.mappings.set(p.idpGroupId, p.role);
        return undefined;
      }
      case 'AddConnector': {
        const org = this.org(p.orgId);
        if (org.connectors.has(p.connectorId)) return 'connector exists';
        org.connectors.set(p.connectorId, new Set(p.tools));
        return undefined;
      }
      case 'AddConnectorTools':
      case 'RemoveConnectorTools': {
        const tools = this.org(p.orgId).connectors.get(p.connectorId);
        if (tools === undefined) return 'unknown connector';
        for (const t of p.tools) {
          if (tools.has(t) === (c.type === 'AddConnectorTools')) return `tool ${t} ${tools.has(t) ? 'exists' : 'unknown'}`;
          if (c.type === 'AddConnectorTools') tools.add(t);
          else tools.delete(t);
        }
        return undefined;
      }
      case 'RemoveConnector':
        return this.org(p.orgId).connectors.delete(p.connectorId) ? undefined : 'unknown connector';
      case 'SetOrgToolPolicy': {
        const tools = this.org(p.orgId).connectors.get(p.connectorId);
        if (tools === undefined) return 'unknown connector';
        return p.toolName === '*' || tools.has(p.toolName) ? undefined : 'unknown tool';
      }
      case 'EnableConnectorPermissions': {
        const org = this.org(p.orgId);
        if (org.connectorPermissions) return 'already enabled';
        org.connectorPermissions = true;
        return undefined;
      }
      case 'SetGroupSpendLimit': {
        const org = this.org(p.orgId);
        if (!this.groups.has(p.groupId)) return 'unknown group';
        if (p.cents === null) org.groupLimits.delete(p.groupId);
        else org.groupLimits.add(p.groupId);
        return undefined;
      }
      case 'SetMemberSpendLimit':
        return this.org(p.orgId).members.has(p.userId) ? undefined : 'unknown member';
      case 'SetConsoleRole': {
        const m = this.org(p.orgId).members.get(p.userId);
        if (m === undefined) return 'unknown member';
        m.console = p.role;
        return undefined;
      }
      case 'CreateWorkspace': {
        const org = this.org(p.orgId);
        if (org.workspaces.has(p.workspaceId)) return 'workspace exists';
        org.workspaces.set(p.workspaceId, { keys: new Map() });
        return undefined;
      }
      case 'ArchiveWorkspace': {
        const org = this.org(p.orgId);
        return org.workspaces.delete(p.workspaceId) ? undefined : 'unknown workspace';
      }
      case 'SetWorkspaceRole': {
        const org = this.org(p.orgId);
        if (!org.workspaces.has(p.workspaceId)) return 'unknown workspace';
        return org.members.get(p.userId)?.status === 'active' ? undefined : 'unknown member';
      }
      case 'CreateApiKey': {
        const ws = this.org(p.orgId).workspaces.get(p.workspaceId);
        if (ws === undefined) return 'unknown workspace';
        if (this.keyIds.has(p.apiKeyId)) return 'key id reused';
        this.keyIds.add(p.apiKeyId);
        ws.keys.set(p.apiKeyId, true);
        return undefined;
      }
      case 'RevokeApiKey': {
        const ws = this.org(p.orgId).workspaces.get(p.workspaceId);
        if (ws?.keys.get(p.apiKeyId) !== true) return 'unknown or revoked key';
        ws.keys.set(p.apiKeyId, false);
        return undefined;
      }
    }
    return `unhandled ${(c as CommandBody).type}`;
  }

  private membership(add: boolean, groupId: string, userId: string): string | undefined {
    const g = this.groups.get(groupId);
    if (g === undefined) return 'unknown group';
    if (add && !this.known(userId)) return 'unknown user';
    if (g.members.has(userId) === add) return add ? 'already in group' : 'not in group';
    if (add) {
      for (const org of this.orgs.values()) {
        if (!org.mappings.has(groupId)) continue;
        const m = org.members.get(userId);
        if (m !== undefined && m.role !== 'custom') return 'R32 mapped group would change a role';
      }
      g.members.add(userId);
    } else g.members.delete(userId);
    return undefined;
  }

  /** undefined when the command is allowed and valid (and then applied); else why not. */
  judge(c: CommandBody): { refusal?: string; invalid?: string } {
    let refusal: string | undefined;
    try {
      refusal = this.forbidden(c);
    } catch (e) {
      return { invalid: (e as Error).message };
    }
    if (refusal !== undefined) return { refusal };
    try {
      const invalid = this.apply(c);
      return invalid === undefined ? {} : { invalid };
    } catch (e) {
      return { invalid: (e as Error).message };
    }
  }

  /** Late facts are checked for references (http-api.md § Importing) and applied. */
  importLine(line: ImportLine): string | undefined {
    const d = line.data as Record<string, any>;
    if (line.type === 'UserAddedToGroup') return this.membership(true, d.groupId, d.userId);
    if (line.type === 'UserRemovedFromGroup') return this.membership(false, d.groupId, d.userId);
    const ws = this.orgs.get(d.orgId)?.workspaces.get(d.workspaceId);
    if (ws === undefined) return 'unknown workspace';
    if (line.type === 'ApiKeyCreated') {
      if (this.keyIds.has(d.apiKeyId)) return 'key id reused';
      if (!this.orgs.get(d.orgId)!.members.has(d.createdBy)) return 'unknown creator';
      this.keyIds.add(d.apiKeyId);
      ws.keys.set(d.apiKeyId, true);
      return undefined;
    }
    if (line.type === 'ApiKeyRevoked') {
      if (ws.keys.get(d.apiKeyId) !== true) return 'unknown key';
      ws.keys.set(d.apiKeyId, false);
      return undefined;
    }
    return `unexpected import type ${line.type}`;
  }
}
