/**
 * A naive reference for time travel: fold exactly the events in force at (T, K) — occurredAt ≤ T, recordedAt ≤ K,
 * in (occurredAt, position) order — into plain mutable objects, then evaluate the rules of access-model.md directly.
 * Deliberately written without the fact store or the evaluator, so the two implementations check each other.
 */
import type { LedgerEvent } from '../../src/index.js';

const CAPS = ['chat', 'web_search', 'memory', 'projects', 'artifacts', 'file_creation', 'code_execution', 'cowork', 'claude_code', 'fast_mode', 'research'];
const TOOL = ['blocked', 'needs_approval', 'always_allow'];
const ADMIN = ['none', 'view', 'manage'];
const AREAS = ['identity_access', 'billing', 'analytics', 'privacy', 'user_management', 'libraries'];
const CONSOLE: Record<string, string[]> = {
  user: ['workbench'],
  claude_code_user: ['workbench', 'claude_code'],
  developer: ['workbench', 'claude_code', 'manage_api_keys', 'view_usage_cost'],
  billing: ['workbench', 'manage_billing', 'view_usage_cost'],
  admin: ['workbench', 'claude_code', 'manage_api_keys', 'view_usage_cost', 'manage_billing', 'manage_members'],
};
const WORKSPACE: Record<string, string[]> = {
  workspace_user: ['workbench'],
  workspace_developer: ['workbench', 'manage_api_keys'],
  workspace_admin: ['workbench', 'manage_api_keys', 'manage_workspace_members'],
  workspace_billing: ['view_usage_cost'],
};

interface Org {
  dualSeat: boolean;
  mode: string;
  caps: Map<string, boolean>;
  platform: Map<string, boolean>;
  connperm: boolean;
  precedence: string;
  ceiling: number | null;
  primary?: string;
}
interface Member {
  role: string;
  seat: string | null;
  status: string;
  limit: number | null;
  console: string | null;
}
interface Role {
  deleted: boolean;
  caps: Map<string, boolean>;
  admin: Map<string, string>;
  conn: Map<string, string>;
  tools: Map<string, string>;
}
interface Connector {
  removed: boolean;
  tools: Map<string, boolean>;
}

class State {
  catalog = new Set(CAPS);
  orgs = new Map<string, Org>();
  members = new Map<string, Member>();
  groups = new Map<string, { source: string; deleted: boolean }>();
  inGroup = new Set<string>();
  roles = new Map<string, Role>();
  assigned = new Set<string>();
  connectors = new Map<string, Connector>();
  policy = new Map<string, string>();
  groupLimit = new Map<string, number | null>();
  workspaces = new Map<string, boolean>(); // archived?
  workspaceRoles = new Map<string, string | null>();

  apply(e: LedgerEvent): void {
    const d = e.data as Record<string, any>;
    const o = d['orgId'] as string;
    const org = this.orgs.get(o)!;
    const member = this.members.get(`${o}|${d['userId']}`)!;
    const role = this.roles.get(`${o}|${d['roleId']}`)!;
    switch (e.type) {
      case 'OrganizationCreated':
        this.orgs.set(o, {
          dualSeat: d['dualSeat'],
          mode: d['provisioningMode'],
          caps: new Map(CAPS.map((c) => [c, true])),
          platform: new Map(),
          connperm: false,
          precedence: 'lowest',
          ceiling: null,
        });
        break;
      case 'OrganizationCapabilitySet':
        org.caps.set(d['capability'], d['enabled']);
        break;
      case 'PlatformOverrideSet':
        org.platform.set(d['capability'], d['disabled']);
        break;
      case 'CapabilityAddedToCatalog':
        this.catalog.add(d['capability']);
        break;
      case 'ProvisioningModeSet':
        org.mode = d['mode'];
        break;
      case 'SpendingPrecedenceSet':
        org.precedence = d['precedence'];
        break;
      case 'ConnectorPermissionsEnabled':
        org.connperm = true;
        break;
      case 'OrgSpendCeilingSet':
        org.ceiling = d['cents'];
        break;
      case 'MemberAdded':
        this.members.set(`${o}|${d['userId']}`, { role: d['role'], seat: d['seat'] ?? null, status: 'active', limit: null, console: null });
        if (d['role'] === 'primary_owner') org.primary = d['userId'];
        break;
      case 'MemberRoleChanged':
        member.role = d['role'];
        if (d['role'] === 'primary_owner') org.primary = d['userId'];
        break;
      case 'MemberSeatChanged':
        member.seat = d['seat'];
        break;
      case 'MemberSuspended':
        member.status = 'suspended';
        break;
      case 'MemberReactivated':
        member.status = 'active';
        break;
      case 'MemberRemoved':
        member.status = 'removed';
        break;
      case 'PrimaryOwnershipTransferred': {
        const from = d['fromUserId'] ?? org.primary;
        if (from && from !== d['toUserId']) this.members.get(`${o}|${from}`)!.role = 'owner';
        this.members.get(`${o}|${d['toUserId']}`)!.role = 'primary_owner';
        org.primary = d['toUserId'];
        break;
      }
      case 'MemberSpendLimitSet':
        member.limit = d['cents'];
        break;
      case 'ConsoleRoleSet':
        member.console = d['role'];
        break;
      case 'GroupCreated':
        this.groups.set(d['groupId'], { source: d['source'], deleted: false });
        break;
      case 'GroupDeleted':
        this.groups.get(d['groupId'])!.deleted = true;
        break;
      case 'UserAddedToGroup':
        this.inGroup.add(`${d['groupId']}|${d['userId']}`);
        break;
      case 'UserRemovedFromGroup':
        this.inGroup.delete(`${d['groupId']}|${d['userId']}`);
        break;
      case 'RoleCreated':
        this.roles.set(`${o}|${d['roleId']}`, {
          deleted: false,
          caps: new Map([['chat', true]]),
          admin: new Map(),
          conn: org.connperm ? new Map([['*', 'needs_approval']]) : new Map(),
          tools: new Map(),
        });
        break;
      case 'RoleDeleted':
        role.deleted = true;
        break;
      case 'RoleCapabilitySet':
        role.caps.set(d['capability'], d['granted']);
        break;
      case 'RoleAdminPermissionSet':
        role.admin.set(d['area'], d['level']);
        break;
      case 'RoleConnectorPermissionSet':
        role.conn.set(d['connectorId'], d['level']);
        break;
      case 'RoleToolPermissionSet':
        role.tools.set(`${d['connectorId']}|${d['toolName']}`, d['level']);
        break;
      case 'RoleAssignedToGroup':
        this.assigned.add(`${o}|${d['groupId']}|${d['roleId']}`);
        break;
      case 'RoleUnassignedFromGroup':
        this.assigned.delete(`${o}|${d['groupId']}|${d['roleId']}`);
        break;
      case 'ConnectorAdded':
        this.connectors.set(`${o}|${d['connectorId']}`, { removed: false, tools: new Map((d['tools'] as string[]).map((t) => [t, true])) });
        break;
      case 'ConnectorToolsAdded':
        for (const t of d['tools']) this.connectors.get(`${o}|${d['connectorId']}`)!.tools.set(t, true);
        break;
      case 'ConnectorToolsRemoved':
        for (const t of d['tools']) this.connectors.get(`${o}|${d['connectorId']}`)!.tools.set(t, false);
        break;
      case 'ConnectorRemoved':
        this.connectors.get(`${o}|${d['connectorId']}`)!.removed = true;
        break;
      case 'OrgToolPolicySet':
        this.policy.set(`${o}|${d['connectorId']}|${d['toolName']}`, d['level']);
        break;
      case 'GroupSpendLimitSet':
        this.groupLimit.set(`${o}|${d['groupId']}`, d['cents']);
        break;
      case 'WorkspaceCreated':
        this.workspaces.set(`${o}|${d['workspaceId']}`, false);
        break;
      case 'WorkspaceArchived':
        this.workspaces.set(`${o}|${d['workspaceId']}`, true);
        break;
      case 'WorkspaceRoleSet':
        this.workspaceRoles.set(`${o}|${d['workspaceId']}|${d['userId']}`, d['role']);
        break;
      default:
        break; // names, mappings, API keys, refusals: no effect on a member's permissions
    }
  }

  /** The member's permissions, flattened as permissionsOf flattens them. */
  permissions(o: string, u: string): Map<string, string> | undefined {
    const m = this.members.get(`${o}|${u}`);
    if (!m) return undefined;
    const p = new Map<string, string>();
    if (m.status !== 'active') return p.set('status', m.status);
    const org = this.orgs.get(o)!;
    p.set('role', m.role);
    if (m.seat) p.set('seat', m.seat);
    const custom = m.role === 'custom';
    // the roles reaching the member (R5, R30, R31)
    const roles: Role[] = [];
    if (custom) {
      for (const [g, group] of this.groups) {
        if (group.deleted || !this.inGroup.has(`${g}|${u}`)) continue;
        if (group.source === 'scim' && org.mode !== 'scim') continue;
        for (const [key, role] of this.roles) {
          const [ro, r] = key.split('|') as [string, string];
          if (ro === o && !role.deleted && this.assigned.has(`${o}|${g}|${r}`)) roles.push(role);
        }
      }
    }
    for (const c of this.catalog) {
      const available = org.caps.get(c) === true && org.platform.get(c) !== true;
      const seatCut = c === 'claude_code' && org.dualSeat && m.seat === 'chat';
      const granted = available && !seatCut && (!custom || roles.some((r) => r.caps.get(c) === true));
      if (granted) p.set(`capability:${c}`, 'granted');
    }
    for (const [key, conn] of this.connectors) {
      const [co, c] = key.split('|') as [string, string];
      if (co !== o || conn.removed) continue;
      for (const [t, present] of conn.tools) {
        if (!present) continue;
        const orgLevel = this.policy.get(`${o}|${c}|${t}`) ?? this.policy.get(`${o}|${c}|*`) ?? 'always_allow';
        let level = orgLevel;
        if (custom && org.connperm) {
          let best = 'blocked';
          for (const r of roles) {
            const own = r.conn.get(c);
            let l: string;
            if (own !== undefined) l = own === 'custom' ? (r.tools.get(`${c}|${t}`) ?? 'blocked') : own;
            else {
              const all = r.conn.get('*');
              l = all === undefined || all === 'custom' ? 'blocked' : all;
            }
            if (TOOL.indexOf(l) > TOOL.indexOf(best)) best = l;
          }
          level = TOOL[Math.min(TOOL.indexOf(best), TOOL.indexOf(orgLevel))]!;
        }
        if (level !== 'blocked') p.set(`tool:${c}/${t}`, level);
      }
    }
    for (const area of AREAS) {
      let level = 'none';
      if (m.role === 'owner' || m.role === 'primary_owner') level = 'manage';
      else if (m.role === 'admin') level = area === 'user_management' || area === 'libraries' ? 'manage' : area === 'analytics' ? 'view' : 'none';
      else if (custom)
        for (const r of roles) {
          const l = r.admin.get(area) ?? 'none';
          if (ADMIN.indexOf(l) > ADMIN.indexOf(level)) level = l;
        }
      if (level !== 'none') p.set(`admin:${area}`, level);
    }
    let cents: number | null = m.limit;
    if (cents === null) {
      for (const [g, group] of this.groups) {
        if (group.deleted || !this.inGroup.has(`${g}|${u}`)) continue;
        const l = this.groupLimit.get(`${o}|${g}`);
        if (l == null) continue;
        if (cents === null || (org.precedence === 'highest' ? l > cents : l < cents)) cents = l;
      }
    }
    if (org.ceiling !== null && (cents === null || cents > org.ceiling)) cents = org.ceiling;
    if (cents !== null) p.set('spend', String(cents));
    if (m.console) p.set('console', m.console);
    const everywhere = m.console === 'admin' ? WORKSPACE['workspace_admin']! : m.console === 'billing' ? ['view_usage_cost', 'view_limits'] : [];
    for (const [key, archived] of this.workspaces) {
      const [wo, w] = key.split('|') as [string, string];
      if (wo !== o || archived) continue;
      const perms = new Set(everywhere);
      const wsRole = this.workspaceRoles.get(`${o}|${w}|${u}`);
      if (wsRole) for (const x of WORKSPACE[wsRole]!) perms.add(x);
      if (perms.size > 0 && m.console) for (const x of CONSOLE[m.console]!) if (x === 'workbench' || x === 'claude_code') perms.add(x);
      for (const x of perms) p.set(`workspace:${w}:${x}`, 'granted');
    }
    return p;
  }
}

export function naivePermissionsAt(
  events: readonly LedgerEvent[],
  orgId: string,
  userId: string,
  at: number,
  knownAt: number,
): Map<string, string> | undefined {
  const state = new State();
  const inForce = events
    .filter((e) => Date.parse(e.meta.occurredAt) <= at && Date.parse(e.meta.recordedAt) <= knownAt)
    .sort((a, b) => Date.parse(a.meta.occurredAt) - Date.parse(b.meta.occurredAt) || a.position - b.position);
  for (const e of inForce) state.apply(e);
  return state.permissions(orgId, userId);
}
