import type { HistoryContext } from './history-context.js';
import { ADMIN_AREAS, ADMIN_LEVELS, CONNECTOR_ROW_LEVELS, TOOL_LEVELS, roleName } from './vocabulary.js';

/** Custom roles, edited by owners (R22): capabilities, admin permissions, connector and tool levels, group assignments. */

export function createRole(ctx: HistoryContext, o: number): number {
  const { state } = ctx;
  const org = state.orgs[o]!;
  const n = org.rolesCreated;
  const name = roleName(n + o * 7);
  const id = `r-${org.profile.id.replace(/^acme-/, '')}-${n + 1}`;
  ctx.emit('CreateRole', ctx.ownerActor(o), { orgId: org.id, roleId: id, name });
  const r = state.createRole(o, id, name);
  // Shape it like a real role: a few capabilities, sometimes an admin area.
  const grants = 1 + ctx.rng.int(5);
  for (let i = 0; i < grants; i++) toggleCapability(ctx, r);
  if (ctx.rng.chance(0.3)) setAdminPermission(ctx, r);
  return r;
}

function roleActor(ctx: HistoryContext, r: number) {
  return ctx.ownerActor(ctx.state.roles[r]!.org);
}

function toggleCapability(ctx: HistoryContext, r: number): void {
  const { state, rng } = ctx;
  const role = state.roles[r]!;
  let capability = rng.pick(state.catalog);
  if (capability === 'chat' && role.capabilities.has('chat') && rng.chance(0.85)) capability = rng.pick(state.catalog);
  const granted = !role.capabilities.has(capability);
  ctx.emit('SetRoleCapability', roleActor(ctx, r), { orgId: state.orgs[role.org]!.id, roleId: role.id, capability, granted });
  if (granted) role.capabilities.add(capability);
  else role.capabilities.delete(capability);
}

function setAdminPermission(ctx: HistoryContext, r: number): void {
  const { state, rng } = ctx;
  const role = state.roles[r]!;
  const area = rng.int(ADMIN_AREAS.length);
  const level = (role.adminLevels[area]! + 1 + rng.int(2)) % 3;
  ctx.emit('SetRoleAdminPermission', roleActor(ctx, r), {
    orgId: state.orgs[role.org]!.id,
    roleId: role.id,
    area: ADMIN_AREAS[area]!,
    level: ADMIN_LEVELS[level]!,
  });
  role.adminLevels[area] = level;
}

/** Assigns r to a group it does not have; outside SCIM organizations manual groups are preferred (SCIM ones grant nothing there, R31). */
export function assignRole(ctx: HistoryContext, r: number): boolean {
  const { state, rng } = ctx;
  const role = state.roles[r]!;
  const scimOrg = state.orgs[role.org]!.mode === 'scim';
  for (let tries = 0; tries < 6; tries++) {
    const g = state.liveGroups.items[rng.skewed(state.liveGroups.size)];
    if (g === undefined) return false;
    const group = state.groups[g]!;
    if (role.groups.has(g)) continue;
    if (!scimOrg && group.scim && rng.chance(0.8)) continue;
    ctx.emit('AssignRoleToGroup', roleActor(ctx, r), { orgId: state.orgs[role.org]!.id, groupId: group.id, roleId: role.id });
    state.assign(r, g);
    return true;
  }
  return false;
}

function unassignRole(ctx: HistoryContext, r: number): boolean {
  const { state } = ctx;
  const role = state.roles[r]!;
  const g = role.groups.pick(ctx.rng.next());
  if (g === undefined) return false;
  ctx.emit('UnassignRoleFromGroup', roleActor(ctx, r), { orgId: state.orgs[role.org]!.id, groupId: state.groups[g]!.id, roleId: role.id });
  state.unassign(r, g);
  return true;
}

/** R12–R15 rows; only once the organization has enabled connector permissions (before that they would mean nothing, R11). */
function setConnectorLevels(ctx: HistoryContext, r: number): boolean {
  const { state, rng } = ctx;
  const role = state.roles[r]!;
  const org = state.orgs[role.org]!;
  if (!org.connectorPermissions) return false;
  const c = org.connectors.pick(rng.next());
  if (rng.chance(0.15) || c === undefined) {
    ctx.emit('SetRoleConnectorPermission', roleActor(ctx, r), { orgId: org.id, roleId: role.id, connectorId: '*', level: rng.pick(CONNECTOR_ROW_LEVELS) });
    return true;
  }
  const connector = state.connectors[c]!;
  if (rng.chance(0.4)) {
    ctx.emit('SetRoleConnectorPermission', roleActor(ctx, r), {
      orgId: org.id,
      roleId: role.id,
      connectorId: connector.id,
      level: rng.pick(CONNECTOR_ROW_LEVELS),
    });
    return true;
  }
  const t = connector.tools.pick(rng.next());
  if (t === undefined) return false;
  ctx.emit('SetRoleToolPermission', roleActor(ctx, r), {
    orgId: org.id,
    roleId: role.id,
    connectorId: connector.id,
    toolName: connector.kind.tools[t]!,
    level: rng.pick(TOOL_LEVELS),
  });
  return true;
}

/** R62: a deleted role must not stay assigned — unassign it everywhere first. */
function deleteRole(ctx: HistoryContext, r: number): void {
  while (ctx.state.roles[r]!.groups.size > 0) unassignRole(ctx, r);
  const role = ctx.state.roles[r]!;
  ctx.emit('DeleteRole', roleActor(ctx, r), { orgId: ctx.state.orgs[role.org]!.id, roleId: role.id });
  ctx.state.deleteRole(r);
}

const EDIT_WEIGHTS = [34, 14, 16, 10, 3, 2, 21];

export function roleActivity(ctx: HistoryContext): boolean {
  const { state, rng, options } = ctx;
  const want = Math.min(options.customRoles, Math.ceil(options.customRoles * (0.6 + 0.4 * ctx.progress)));
  if (state.roles.length < want) {
    // The organization with the fewest roles for its size gets the next one.
    let best = 0;
    for (const org of state.orgs)
      if (org.rolesCreated / org.profile.weight < state.orgs[best]!.rolesCreated / state.orgs[best]!.profile.weight) best = org.index;
    const r = createRole(ctx, best);
    assignRole(ctx, r);
    return true;
  }
  const org = ctx.randomOrg();
  const r = org.roles.pick(rng.next());
  if (r === undefined) return false;
  switch (rng.weighted(EDIT_WEIGHTS, 100)) {
    case 0:
      toggleCapability(ctx, r);
      return true;
    case 1:
      setAdminPermission(ctx, r);
      return true;
    case 2:
      return assignRole(ctx, r);
    case 3:
      return unassignRole(ctx, r);
    case 4: {
      const role = state.roles[r]!;
      role.name = `${role.name.replace(/ \(v\d+\)$/, '')} (v${2 + rng.int(5)})`;
      ctx.emit('RenameRole', roleActor(ctx, r), { orgId: org.id, roleId: role.id, name: role.name });
      return true;
    }
    case 5:
      if (org.roles.size < 3) return false;
      deleteRole(ctx, r);
      return true;
    default:
      return setConnectorLevels(ctx, r);
  }
}
