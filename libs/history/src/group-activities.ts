import { SCIM, type HistoryContext } from './history-context.js';
import { NONE } from './shadow-state.js';
import { groupName } from './vocabulary.js';

/** Tenant-level groups (R30): SCIM ones edited only by the SCIM client, manual ones by owners; membership churn. */

/** Average groups per person the churn steers towards. */
const GROUPS_PER_USER = 4.5;

export function hasScimOrg(ctx: HistoryContext): boolean {
  return ctx.state.orgs.some((org) => org.mode === 'scim');
}

export function createGroup(ctx: HistoryContext, scim: boolean): number {
  const { id, name } = groupName(ctx.state.groups.length);
  ctx.emit('CreateGroup', scim ? SCIM : ctx.ownerActor(ctx.rng.int(ctx.state.orgs.length)), { groupId: id, name, source: scim ? 'scim' : 'manual' });
  return ctx.state.createGroup(id, name, scim, ctx.now);
}

/** 60 % of groups come from the IdP when some organization provisions by SCIM; the first one is "All staff". */
export function createNextGroup(ctx: HistoryContext): number {
  const n = ctx.state.groups.length;
  const scim = hasScimOrg(ctx) && (n === 0 || ctx.rng.chance(0.6));
  return createGroup(ctx, scim);
}

export function addToGroup(ctx: HistoryContext, g: number, u: number): void {
  ctx.emit('AddUserToGroup', ctx.groupActor(g), { groupId: ctx.state.groups[g]!.id, userId: ctx.userIds[u]! });
  ctx.state.joinGroup(g, u, ctx.now);
}

export function removeFromGroup(ctx: HistoryContext, g: number, u: number): void {
  ctx.emit('RemoveUserFromGroup', ctx.groupActor(g), { groupId: ctx.state.groups[g]!.id, userId: ctx.userIds[u]! });
  ctx.state.leaveGroup(g, u, ctx.now);
}

/** A live group, older (bigger) ones more often. */
function someGroup(ctx: HistoryContext): number | undefined {
  const live = ctx.state.liveGroups;
  if (live.size === 0) return undefined;
  return live.items[ctx.rng.skewed(live.size)];
}

export function joinSomeGroups(ctx: HistoryContext, u: number, count: number): void {
  const { state } = ctx;
  const all = state.groups[0];
  if (all?.scim && state.mayJoinGroup(0, u)) addToGroup(ctx, 0, u);
  for (let i = 0, tries = 0; i < count && tries < count * 4; tries++) {
    const g = someGroup(ctx);
    if (g === undefined) return;
    if (!state.mayJoinGroup(g, u)) continue;
    addToGroup(ctx, g, u);
    i++;
  }
}

export function leaveAllGroups(ctx: HistoryContext, u: number): void {
  const list = ctx.state.groupsOf[u]!;
  while (list.length > 0) removeFromGroup(ctx, list[list.length - 1]!, u);
}

/** The bulk of a history: SCIM membership patches and manual edits, steering towards GROUPS_PER_USER. */
export function groupChurn(ctx: HistoryContext): boolean {
  const { state, rng } = ctx;
  const target = state.known.size * GROUPS_PER_USER;
  const pAdd = Math.min(0.85, Math.max(0.15, 0.5 + (target - state.memberships) / Math.max(1, target)));
  if (rng.chance(pAdd)) {
    for (let tries = 0; tries < 6; tries++) {
      const u = state.known.pick(rng.next());
      const g = someGroup(ctx);
      if (u === undefined || g === undefined) return false;
      if (!state.mayJoinGroup(g, u)) continue;
      addToGroup(ctx, g, u);
      return true;
    }
    return false;
  }
  for (let tries = 0; tries < 6; tries++) {
    const g = someGroup(ctx);
    if (g === undefined) return false;
    // "All staff" follows employment, not team moves: people leave it only when they leave the company.
    if (g === 0 && state.groups[0]!.scim) continue;
    const u = state.groups[g]!.members.pick(rng.next());
    if (u === undefined) continue;
    removeFromGroup(ctx, g, u);
    return true;
  }
  return false;
}

/** Creating groups up to the parameter over the history, renaming, and deleting a few (after unreferencing them). */
export function groupAdmin(ctx: HistoryContext): boolean {
  const { state, rng, options } = ctx;
  const want = Math.ceil(options.groups * (0.7 + 0.3 * ctx.progress));
  if (state.groups.length < Math.min(want, options.groups)) {
    createNextGroup(ctx);
    return true;
  }
  const g = someGroup(ctx);
  if (g === undefined) return false;
  const group = state.groups[g]!;
  if (rng.chance(0.8)) {
    group.renames++;
    group.name = `${groupName(g).name} (${group.renames + 1})`;
    ctx.emit('RenameGroup', ctx.groupActor(g), { groupId: group.id, name: group.name });
    return true;
  }
  // About one group in twelve is deleted over the history.
  if (g === 0 || group.mapped || state.liveGroups.size < 4) return false;
  if (state.groups.length - state.liveGroups.size >= (options.groups * ctx.progress) / 12) return false;
  deleteGroup(ctx, g);
  return true;
}

/** R62: a deleted group must not stay referenced — unassign its roles and clear its spend limits first. */
export function deleteGroup(ctx: HistoryContext, g: number): void {
  const { state } = ctx;
  const group = state.groups[g]!;
  for (const r of [...group.roles.items]) {
    const role = state.roles[r]!;
    const org = state.orgs[role.org]!;
    ctx.emit('UnassignRoleFromGroup', ctx.ownerActor(role.org), { orgId: org.id, groupId: group.id, roleId: role.id });
    state.unassign(r, g);
  }
  for (const org of state.orgs) {
    if (!org.groupLimits.has(g)) continue;
    ctx.emit('SetGroupSpendLimit', ctx.ownerActor(org.index), { orgId: org.id, groupId: group.id, cents: null });
    org.groupLimits.delete(g);
  }
  ctx.emit('DeleteGroup', ctx.groupActor(g), { groupId: group.id });
  state.deleteGroup(g, ctx.now);
}

/**
 * Group → built-in role mappings in the first SCIM organization (R32): owners enable them, then map new IdP groups to
 * `custom`. Only `custom` mappings are used, and only custom members (or non-members) of that organization join
 * mapped groups, so a mapping sync never has to change anyone's role.
 */
export function enableGroupMappings(ctx: HistoryContext, groups: number): void {
  const { state } = ctx;
  const org = state.orgs.find((x) => x.mode === 'scim');
  if (org === undefined) return;
  if (!org.mappingsEnabled) {
    ctx.emit('SetGroupMappingsEnabled', ctx.ownerActor(org.index), { orgId: org.id, enabled: true });
    org.mappingsEnabled = true;
    state.mappingOrg = org.index;
  }
  for (let i = 0; i < groups; i++) {
    const g = createGroup(ctx, true);
    ctx.emit('SetGroupRoleMapping', ctx.ownerActor(org.index), { orgId: org.id, idpGroupId: state.groups[g]!.id, role: 'custom' });
    state.groups[g]!.mapped = true;
    let added = 0;
    for (const u of org.regular.items) {
      if (added >= 25) break;
      if (org.role[u] === NONE || !state.mayJoinGroup(g, u) || ctx.rng.chance(0.5)) continue;
      addToGroup(ctx, g, u);
      added++;
    }
  }
}
