import type { EventType } from './catalog.js';
import { lookupKey, type FactKey } from './fact-keys.js';
import type { FactStore, View } from './facts.js';

/**
 * Reference validation (R62: "unknown member, role in another organization, tool of an unknown connector…").
 *
 * A `World` answers existence questions only. The deciders ask it about the instant a command takes effect
 * (`worldAt`); an import asks about everything that ever existed (`worldEver`), because imported facts may arrive
 * late (R61): a line may refer to a member whose `MemberAdded` is already stored with a later `occurredAt`, or was
 * removed since. An import batch also treats what its own earlier lines create as existing (`BatchWorld`).
 */
export interface World {
  orgExists(orgId: string): boolean;
  memberExists(orgId: string, userId: string): boolean;
  groupExists(groupId: string): boolean;
  roleExists(orgId: string, roleId: string): boolean;
  connectorExists(orgId: string, connectorId: string): boolean;
  toolExists(orgId: string, connectorId: string, toolName: string): boolean;
  workspaceExists(orgId: string, workspaceId: string): boolean;
  apiKeyExists(orgId: string, workspaceId: string, apiKeyId: string): boolean;
}

export interface Problem {
  readonly rule: string;
  readonly reason: string;
}

/**
 * Things that exist at one instant: organizations once created; members whose membership is active or suspended
 * (a removed member is gone); groups, roles and connectors not deleted; tools present on their connector;
 * workspaces not archived; API keys not revoked.
 */
class WorldAt implements World {
  constructor(
    private readonly facts: FactStore,
    private readonly view: View,
  ) {}

  private value<V>(key: FactKey): V | undefined {
    return this.facts.get<V>(key, this.view)?.value;
  }

  orgExists(orgId: string): boolean {
    return this.value(lookupKey.org(orgId)) != null;
  }
  memberExists(orgId: string, userId: string): boolean {
    const status = this.value<string>(lookupKey.memberStatus(orgId, userId));
    return status === 'active' || status === 'suspended';
  }
  groupExists(groupId: string): boolean {
    return this.value(lookupKey.group(groupId)) != null;
  }
  roleExists(orgId: string, roleId: string): boolean {
    return this.value(lookupKey.role(orgId, roleId)) === true;
  }
  connectorExists(orgId: string, connectorId: string): boolean {
    return this.value(lookupKey.connector(orgId, connectorId)) != null;
  }
  toolExists(orgId: string, connectorId: string, toolName: string): boolean {
    return this.connectorExists(orgId, connectorId) && this.value(lookupKey.tool(orgId, connectorId, toolName)) === true;
  }
  workspaceExists(orgId: string, workspaceId: string): boolean {
    const ws = this.value<{ archived: boolean }>(lookupKey.workspace(orgId, workspaceId));
    return ws != null && !ws.archived;
  }
  apiKeyExists(orgId: string, workspaceId: string, apiKeyId: string): boolean {
    return this.value<string>(lookupKey.apiKeyStatus(orgId, workspaceId, apiKeyId)) === 'active';
  }
}

/** Things that ever existed, at any occurredAt, in any state (R61: imports may arrive late). */
class WorldEver implements World {
  constructor(private readonly facts: FactStore) {}

  private ever(key: FactKey): boolean {
    return this.facts.written(key);
  }

  orgExists(orgId: string): boolean {
    return this.ever(lookupKey.org(orgId));
  }
  memberExists(orgId: string, userId: string): boolean {
    return this.ever(lookupKey.memberStatus(orgId, userId));
  }
  groupExists(groupId: string): boolean {
    return this.ever(lookupKey.group(groupId));
  }
  roleExists(orgId: string, roleId: string): boolean {
    return this.ever(lookupKey.role(orgId, roleId));
  }
  connectorExists(orgId: string, connectorId: string): boolean {
    return this.ever(lookupKey.connector(orgId, connectorId));
  }
  toolExists(orgId: string, connectorId: string, toolName: string): boolean {
    return this.ever(lookupKey.tool(orgId, connectorId, toolName));
  }
  workspaceExists(orgId: string, workspaceId: string): boolean {
    return this.ever(lookupKey.workspace(orgId, workspaceId));
  }
  apiKeyExists(orgId: string, workspaceId: string, apiKeyId: string): boolean {
    return this.ever(lookupKey.apiKey(orgId, workspaceId, apiKeyId));
  }
}

export function worldAt(facts: FactStore, view: View): World {
  return new WorldAt(facts, view);
}

export function worldEver(facts: FactStore): World {
  return new WorldEver(facts);
}

// ------------------------------------------------------------------------------------------------ what exists

export type ThingKind = 'org' | 'member' | 'group' | 'role' | 'connector' | 'tool' | 'workspace' | 'apiKey';
/** `key` joins the thing's ids with `|` (ids never contain it): `org`, `org|user`, `group`, `org|role`, `org|connector`, `org|connector|tool`, `org|workspace`, `org|workspace|key`. */
export interface Thing {
  readonly kind: ThingKind;
  readonly key: string;
}

type Data = Record<string, unknown>;
const s = (data: Data, field: string): string => data[field] as string;

/** What an event brings into existence, so that an import batch can treat its earlier lines' creations as existing. */
export function createdBy(type: EventType, data: Data): Thing[] {
  switch (type) {
    case 'OrganizationCreated':
      return [{ kind: 'org', key: s(data, 'orgId') }];
    case 'MemberAdded':
      return [{ kind: 'member', key: `${s(data, 'orgId')}|${s(data, 'userId')}` }];
    case 'GroupCreated':
      return [{ kind: 'group', key: s(data, 'groupId') }];
    case 'RoleCreated':
      return [{ kind: 'role', key: `${s(data, 'orgId')}|${s(data, 'roleId')}` }];
    case 'ConnectorAdded':
    case 'ConnectorToolsAdded': {
      const connector = `${s(data, 'orgId')}|${s(data, 'connectorId')}`;
      const tools = ((data['tools'] as string[] | undefined) ?? []).map((t): Thing => ({ kind: 'tool', key: `${connector}|${t}` }));
      return type === 'ConnectorAdded' ? [{ kind: 'connector', key: connector }, ...tools] : tools;
    }
    case 'WorkspaceCreated':
      return [{ kind: 'workspace', key: `${s(data, 'orgId')}|${s(data, 'workspaceId')}` }];
    case 'ApiKeyCreated':
      return [{ kind: 'apiKey', key: `${s(data, 'orgId')}|${s(data, 'workspaceId')}|${s(data, 'apiKeyId')}` }];
    default:
      return [];
  }
}

/** A world plus what the earlier lines of an import batch created (`record` each line once it passed). */
export class BatchWorld implements World {
  private readonly created = new Set<string>();

  constructor(private readonly base: World) {}

  record(type: EventType, data: Data): void {
    for (const thing of createdBy(type, data)) this.created.add(`${thing.kind}|${thing.key}`);
  }

  private has(kind: ThingKind, key: string): boolean {
    return this.created.has(`${kind}|${key}`);
  }

  orgExists(o: string): boolean {
    return this.base.orgExists(o) || this.has('org', o);
  }
  memberExists(o: string, u: string): boolean {
    return this.base.memberExists(o, u) || this.has('member', `${o}|${u}`);
  }
  groupExists(g: string): boolean {
    return this.base.groupExists(g) || this.has('group', g);
  }
  roleExists(o: string, r: string): boolean {
    return this.base.roleExists(o, r) || this.has('role', `${o}|${r}`);
  }
  connectorExists(o: string, c: string): boolean {
    return this.base.connectorExists(o, c) || this.has('connector', `${o}|${c}`);
  }
  toolExists(o: string, c: string, t: string): boolean {
    return this.base.toolExists(o, c, t) || this.has('tool', `${o}|${c}|${t}`);
  }
  workspaceExists(o: string, w: string): boolean {
    return this.base.workspaceExists(o, w) || this.has('workspace', `${o}|${w}`);
  }
  apiKeyExists(o: string, w: string, k: string): boolean {
    return this.base.apiKeyExists(o, w, k) || this.has('apiKey', `${o}|${w}|${k}`);
  }
}

// ------------------------------------------------------------------------------------------------ references

const unknown = (what: string): Problem => ({ rule: 'R62', reason: `unknown ${what}` });
const reused = (what: string): Problem => ({ rule: 'R62', reason: `${what} already exists or existed; ids are never reused` });

function org(w: World, o: string): Problem | undefined {
  return w.orgExists(o) ? undefined : unknown(`organization ${o}`);
}
function member(w: World, o: string, u: string): Problem | undefined {
  return org(w, o) ?? (w.memberExists(o, u) ? undefined : unknown(`member ${u} of ${o}`));
}
function group(w: World, g: string): Problem | undefined {
  return w.groupExists(g) ? undefined : unknown(`group ${g}`);
}
/** A roleId that exists only in another organization is unknown in this one (R62: "role in another organization"). */
function role(w: World, o: string, r: string): Problem | undefined {
  return org(w, o) ?? (w.roleExists(o, r) ? undefined : unknown(`role ${r} in ${o}`));
}
function connector(w: World, o: string, c: string): Problem | undefined {
  return org(w, o) ?? (w.connectorExists(o, c) ? undefined : unknown(`connector ${c} in ${o}`));
}
/** R62: "tool of an unknown connector" names the connector first. */
function tool(w: World, o: string, c: string, t: string): Problem | undefined {
  return connector(w, o, c) ?? (w.toolExists(o, c, t) ? undefined : unknown(`tool ${t} of connector ${c} in ${o}`));
}
function workspace(w: World, o: string, ws: string): Problem | undefined {
  return org(w, o) ?? (w.workspaceExists(o, ws) ? undefined : unknown(`workspace ${ws} in ${o}`));
}

/**
 * R62: the references an event's data makes must exist in `world`, and what it creates must not (ids of
 * organizations, groups, roles, connectors, workspaces and API keys are never reused; members may be added again
 * after removal, tools re-added). With `worldAt` a deleted or removed thing does not exist; the deciders check
 * "ever existed" themselves where ids must not be reused. Catalog membership of capabilities is not checked here
 * (imported facts may name capabilities of the source system); the deciders check it.
 */
export function checkReferences(world: World, type: EventType, data: Data): Problem | undefined {
  const o = s(data, 'orgId');
  switch (type) {
    case 'OrganizationCreated':
      return world.orgExists(o) ? reused(`organization ${o}`) : undefined;
    case 'CapabilityAddedToCatalog':
    case 'AccessChangeDenied':
    case 'DriftDetected':
      return undefined;
    case 'OrganizationCapabilitySet':
    case 'PlatformOverrideSet':
    case 'ProvisioningModeSet':
    case 'GroupMappingsEnabledSet':
    case 'SpendingPrecedenceSet':
    case 'MemberAdded':
    case 'ConnectorPermissionsEnabled':
    case 'BaselineRecorded':
    case 'OrgSpendCeilingSet':
      return org(world, o);
    case 'MemberRoleChanged':
    case 'MemberSeatChanged':
    case 'MemberSuspended':
    case 'MemberReactivated':
    case 'MemberRemoved':
    case 'MemberSpendLimitSet':
    case 'ConsoleRoleSet':
      return member(world, o, s(data, 'userId'));
    case 'PrimaryOwnershipTransferred': {
      const from = data['fromUserId'] as string | undefined;
      return member(world, o, s(data, 'toUserId')) ?? (from !== undefined ? member(world, o, from) : undefined);
    }
    case 'GroupCreated': {
      const g = s(data, 'groupId');
      return world.groupExists(g) ? reused(`group ${g}`) : undefined;
    }
    case 'GroupRenamed':
    case 'GroupDeleted':
    case 'UserAddedToGroup':
    case 'UserRemovedFromGroup':
      return group(world, s(data, 'groupId'));
    case 'RoleCreated': {
      const r = s(data, 'roleId');
      return org(world, o) ?? (world.roleExists(o, r) ? reused(`role ${r} in ${o}`) : undefined);
    }
    case 'RoleRenamed':
    case 'RoleDeleted':
    case 'RoleCapabilitySet':
    case 'RoleAdminPermissionSet':
      return role(world, o, s(data, 'roleId'));
    case 'RoleConnectorPermissionSet': {
      const c = s(data, 'connectorId');
      return role(world, o, s(data, 'roleId')) ?? (c === '*' ? undefined : connector(world, o, c));
    }
    case 'RoleToolPermissionSet':
      return role(world, o, s(data, 'roleId')) ?? tool(world, o, s(data, 'connectorId'), s(data, 'toolName'));
    case 'RoleAssignedToGroup':
    case 'RoleUnassignedFromGroup':
      return role(world, o, s(data, 'roleId')) ?? group(world, s(data, 'groupId'));
    case 'GroupRoleMappingSet':
      // Decision: an IdP group is a tenant group (R30) — SCIM pushes it before it can be mapped.
      return org(world, o) ?? group(world, s(data, 'idpGroupId'));
    case 'ConnectorAdded': {
      const c = s(data, 'connectorId');
      return org(world, o) ?? (world.connectorExists(o, c) ? reused(`connector ${c} in ${o}`) : undefined);
    }
    case 'ConnectorToolsAdded':
    case 'ConnectorRemoved':
      return connector(world, o, s(data, 'connectorId'));
    case 'ConnectorToolsRemoved': {
      const c = s(data, 'connectorId');
      for (const t of data['tools'] as string[]) {
        const problem = tool(world, o, c, t);
        if (problem) return problem;
      }
      return undefined;
    }
    case 'OrgToolPolicySet': {
      const c = s(data, 'connectorId');
      const t = s(data, 'toolName');
      return t === '*' ? connector(world, o, c) : tool(world, o, c, t);
    }
    case 'GroupSpendLimitSet':
      return org(world, o) ?? group(world, s(data, 'groupId'));
    case 'WorkspaceCreated': {
      const ws = s(data, 'workspaceId');
      return org(world, o) ?? (world.workspaceExists(o, ws) ? reused(`workspace ${ws} in ${o}`) : undefined);
    }
    case 'WorkspaceArchived':
      return workspace(world, o, s(data, 'workspaceId'));
    case 'WorkspaceRoleSet':
      return workspace(world, o, s(data, 'workspaceId')) ?? member(world, o, s(data, 'userId'));
    case 'ApiKeyCreated': {
      const ws = s(data, 'workspaceId');
      const k = s(data, 'apiKeyId');
      return (
        workspace(world, o, ws) ??
        (world.apiKeyExists(o, ws, k) ? reused(`API key ${k} in workspace ${ws}`) : undefined) ??
        member(world, o, s(data, 'createdBy'))
      );
    }
    case 'ApiKeyRevoked': {
      const ws = s(data, 'workspaceId');
      const k = s(data, 'apiKeyId');
      return workspace(world, o, ws) ?? (world.apiKeyExists(o, ws, k) ? undefined : unknown(`API key ${k} in workspace ${ws}`));
    }
  }
}
