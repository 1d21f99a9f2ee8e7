import type { CommandActor } from './commands.js';
import { joinSomeGroups, leaveAllGroups } from './group-activities.js';
import { SCIM, SYSTEM, type HistoryContext } from './history-context.js';
import { ACTIVE, ADMIN, CONSOLE_ADMIN, CONSOLE_DEVELOPER, CUSTOM, NONE, OWNER, PRIMARY_OWNER, SUSPENDED, USER } from './shadow-state.js';
import { BUILT_IN_ROLES, CONSOLE_ROLES } from './vocabulary.js';

/** People joining, moving, being suspended and leaving (R22: admins manage `user`/`custom` members, owners manage owners and admins). */

export const SEATS = ['chat', 'chat_claude_code'] as const;
const CONSOLE_ROLE_WEIGHTS = [40, 25, 25, 6, 4];

export function addMember(ctx: HistoryContext, o: number, u: number, role: number, actor: CommandActor): void {
  const org = ctx.state.orgs[o]!;
  const dual = org.profile.dualSeat;
  const seat = dual ? (role <= ADMIN || ctx.rng.chance(0.35) ? 1 : 0) : NONE;
  const payload = dual
    ? { orgId: org.id, userId: ctx.userIds[u]!, email: ctx.emails[u]!, role: BUILT_IN_ROLES[role]!, seat: seat === 1 ? SEATS[1] : SEATS[0] }
    : { orgId: org.id, userId: ctx.userIds[u]!, email: ctx.emails[u]!, role: BUILT_IN_ROLES[role]! };
  ctx.emit('AddMember', actor, payload);
  ctx.state.addMember(o, u, role, seat, ctx.now);
}

/** SCIM in scim organizations, the SSO login itself (recorded as `system`) in jit ones, an admin's invitation otherwise. */
function joinActor(ctx: HistoryContext, o: number): CommandActor {
  const mode = ctx.state.orgs[o]!.mode;
  if (mode === 'scim') return SCIM;
  if (mode === 'jit') return SYSTEM;
  return ctx.adminActor(o);
}

/** Most members get custom roles; a user already in a mapped group must join the mapping organization as `custom` (R32). */
function joinRole(ctx: HistoryContext, o: number, u: number): number {
  if (o === ctx.state.mappingOrg && ctx.state.mappedGroupsOf[u]! > 0) return CUSTOM;
  return ctx.rng.chance(0.78) ? CUSTOM : USER;
}

function pickOrgByWeight(ctx: HistoryContext): number {
  let total = 0;
  for (const org of ctx.state.orgs) total += org.profile.weight;
  let r = ctx.rng.next() * total;
  for (const org of ctx.state.orgs) {
    r -= org.profile.weight;
    if (r < 0) return org.index;
  }
  return 0;
}

export function setConsoleRole(ctx: HistoryContext, o: number, u: number, role: number, actor: CommandActor): void {
  ctx.emit('SetConsoleRole', actor, { orgId: ctx.state.orgs[o]!.id, userId: ctx.userIds[u]!, role: CONSOLE_ROLES[role]! });
  ctx.state.setConsoleRole(o, u, role);
}

export function randomConsoleRole(ctx: HistoryContext): number {
  return ctx.rng.weighted(CONSOLE_ROLE_WEIGHTS, 100);
}

/** A new person: membership in one organization (sometimes more), a few groups, sometimes a Console role. */
export function onboardUser(ctx: HistoryContext): boolean {
  const { state, rng } = ctx;
  const u = state.joined;
  if (u >= state.userCount) return false;
  const home = pickOrgByWeight(ctx);
  addMember(ctx, home, u, joinRole(ctx, home, u), joinActor(ctx, home));
  if (state.orgs.length > 1 && rng.chance(0.18)) {
    joinAnotherOrg(ctx, u);
    if (rng.chance(0.25)) joinAnotherOrg(ctx, u);
  }
  joinSomeGroups(ctx, u, rng.between(1, 4));
  if (rng.chance(0.3)) setConsoleRole(ctx, home, u, randomConsoleRole(ctx), ctx.ownerActor(home));
  return true;
}

function joinAnotherOrg(ctx: HistoryContext, u: number): boolean {
  const orgs = ctx.state.orgs.filter((org) => org.everMember[u] === 0);
  if (orgs.length === 0) return false;
  const o = ctx.rng.pick(orgs).index;
  addMember(ctx, o, u, joinRole(ctx, o, u), joinActor(ctx, o));
  return true;
}

/** Whether u holds only `user`/`custom` memberships (owners and admins are moved by owners, not by leaving). */
function onlyRegular(ctx: HistoryContext, u: number): boolean {
  for (const org of ctx.state.orgs) {
    const r = org.role[u]!;
    if (r !== NONE && r !== USER && r !== CUSTOM) return false;
  }
  return true;
}

/** Someone leaves the company: out of every group first (nothing may reference them afterwards), then every organization. */
export function offboardUser(ctx: HistoryContext): boolean {
  const { state, rng } = ctx;
  for (let tries = 0; tries < 12; tries++) {
    // Half the leavers were deactivated first (suspended), the others go in one step.
    const org = ctx.randomOrg();
    const u = rng.chance(0.5) ? (org.suspended.pick(rng.next()) ?? state.known.pick(rng.next())) : state.known.pick(rng.next());
    if (u === undefined) return false;
    if (!onlyRegular(ctx, u)) continue;
    return offboard(ctx, u);
  }
  return false;
}

export function offboard(ctx: HistoryContext, u: number): boolean {
  const { state } = ctx;
  if (!onlyRegular(ctx, u)) return false;
  leaveAllGroups(ctx, u);
  for (const org of state.orgs) {
    if (!org.isMember(u)) continue;
    ctx.emit('RemoveMember', ctx.provisioningActor(org.index), { orgId: org.id, userId: ctx.userIds[u]! });
    state.removeMember(org.index, u);
  }
  return true;
}

const LIFECYCLE_WEIGHTS = [34, 28, 8, 3, 14, 5, 8];

/** Suspensions, reactivations, role and seat changes, joining or leaving one more organization. */
export function memberLifecycle(ctx: HistoryContext): boolean {
  switch (ctx.rng.weighted(LIFECYCLE_WEIGHTS, 100)) {
    case 0:
      return suspend(ctx);
    case 1:
      return reactivate(ctx);
    case 2:
      return changeRegularRole(ctx);
    case 3:
      return changeStaff(ctx);
    case 4:
      return changeSeat(ctx);
    case 5: {
      const u = ctx.state.known.pick(ctx.rng.next());
      return u !== undefined && joinAnotherOrg(ctx, u);
    }
    default:
      return leaveOneOrg(ctx);
  }
}

/** Suspensions are temporary: about 3 % of an organization's members are suspended at any time, then come back or go. */
function suspend(ctx: HistoryContext): boolean {
  const org = ctx.randomOrg();
  if (org.suspended.size > 0.03 * (org.regular.size + org.suspended.size))
    return ctx.rng.chance(0.6) ? reactivate(ctx, org.index) : removeSuspended(ctx, org.index);
  const u = org.regular.pick(ctx.rng.next());
  if (u === undefined) return false;
  ctx.emit('SuspendMember', ctx.provisioningActor(org.index), { orgId: org.id, userId: ctx.userIds[u]! });
  ctx.state.setStatus(org.index, u, SUSPENDED);
  return true;
}

function reactivate(ctx: HistoryContext, o?: number): boolean {
  const org = o === undefined ? ctx.randomOrg() : ctx.state.orgs[o]!;
  const u = org.suspended.pick(ctx.rng.next());
  if (u === undefined) return false;
  ctx.emit('ReactivateMember', ctx.provisioningActor(org.index), { orgId: org.id, userId: ctx.userIds[u]! });
  ctx.state.setStatus(org.index, u, ACTIVE);
  return true;
}

/** A suspended member is removed for good (SCIM deprovisioning after a deactivation); the last organization means leaving. */
function removeSuspended(ctx: HistoryContext, o: number): boolean {
  const { state } = ctx;
  const org = state.orgs[o]!;
  const u = org.suspended.pick(ctx.rng.next());
  if (u === undefined || (org.role[u] !== USER && org.role[u] !== CUSTOM)) return false;
  if (state.orgsOf[u] === 1) return offboard(ctx, u);
  ctx.emit('RemoveMember', ctx.provisioningActor(o), { orgId: org.id, userId: ctx.userIds[u]! });
  state.removeMember(o, u);
  return true;
}

function changeRole(ctx: HistoryContext, o: number, u: number, role: number, actor: CommandActor): void {
  ctx.emit('ChangeMemberRole', actor, { orgId: ctx.state.orgs[o]!.id, userId: ctx.userIds[u]!, role: BUILT_IN_ROLES[role]! });
  ctx.state.setRole(o, u, role);
}

function changeRegularRole(ctx: HistoryContext): boolean {
  const org = ctx.randomOrg();
  const u = org.regular.pick(ctx.rng.next());
  if (u === undefined || ctx.state.roleIsPinned(org.index, u)) return false;
  changeRole(ctx, org.index, u, org.role[u] === USER ? CUSTOM : USER, ctx.adminActor(org.index));
  return true;
}

/** Owners promote and demote admins and owners ("only an owner may make or unmake an owner", R22). */
function changeStaff(ctx: HistoryContext): boolean {
  const { rng, state } = ctx;
  const org = ctx.randomOrg();
  const o = org.index;
  const wantAdmins = 2 + Math.floor((org.regular.size + org.suspended.size) / 300);
  const r = rng.next();
  if (org.admins.size < wantAdmins || r < 0.3) {
    const u = org.regular.pick(rng.next());
    if (u === undefined || state.roleIsPinned(o, u)) return false;
    changeRole(ctx, o, u, ADMIN, ctx.ownerActor(o));
    return true;
  }
  if (r < 0.65 && org.admins.size > 2) {
    const u = org.admins.pick(rng.next())!;
    changeRole(ctx, o, u, rng.chance(0.5) ? USER : CUSTOM, ctx.ownerActor(o));
    return true;
  }
  if (r < 0.85 && org.owners.size < 4 && org.admins.size > 2) {
    const u = org.admins.pick(rng.next())!;
    changeRole(ctx, o, u, OWNER, ctx.ownerActor(o));
    return true;
  }
  if (org.owners.size > 2) {
    const u = org.owners.pick(rng.next())!;
    changeRole(ctx, o, u, ADMIN, ctx.ownerActor(o, u));
    return true;
  }
  return false;
}

function changeSeat(ctx: HistoryContext): boolean {
  const org = ctx.randomOrg();
  if (!org.profile.dualSeat) return false;
  const u = org.regular.pick(ctx.rng.next());
  if (u === undefined) return false;
  const seat = org.seat[u] === 1 ? 0 : 1;
  ctx.emit('ChangeMemberSeat', ctx.adminActor(org.index), { orgId: org.id, userId: ctx.userIds[u]!, seat: seat === 1 ? SEATS[1] : SEATS[0] });
  org.seat[u] = seat;
  return true;
}

function leaveOneOrg(ctx: HistoryContext): boolean {
  const { state, rng } = ctx;
  const u = state.known.pick(rng.next());
  if (u === undefined || state.orgsOf[u]! < 2) return false;
  const org = rng.pick(state.orgs.filter((x) => x.role[u] === USER || x.role[u] === CUSTOM));
  if (org === undefined) return false;
  ctx.emit('RemoveMember', ctx.provisioningActor(org.index), { orgId: org.id, userId: ctx.userIds[u]! });
  state.removeMember(org.index, u);
  return true;
}

/** The organization's founders (R23): the primary owner by `system`, then owners and admins by the primary owner. */
export function foundOrganization(ctx: HistoryContext, o: number): void {
  const { state, rng } = ctx;
  const po = state.joined;
  addMember(ctx, o, po, PRIMARY_OWNER, SYSTEM);
  setConsoleRole(ctx, o, po, CONSOLE_ADMIN, SYSTEM);
  const owners = Math.min(3, Math.max(2, Math.floor(state.userCount / 2000)));
  for (let i = 0; i < owners; i++) {
    const u = state.joined;
    addMember(ctx, o, u, OWNER, ctx.member(o, po));
    setConsoleRole(ctx, o, u, CONSOLE_ADMIN, ctx.member(o, po));
  }
  const admins = 2 + rng.int(2);
  for (let i = 0; i < admins; i++) {
    const u = state.joined;
    addMember(ctx, o, u, ADMIN, ctx.ownerActor(o));
    setConsoleRole(ctx, o, u, rng.chance(0.5) ? CONSOLE_DEVELOPER : CONSOLE_ADMIN, ctx.ownerActor(o));
  }
}

/** Scheduled once: the primary owner hands over to an owner, who becomes primary owner; the old one becomes an owner. */
export function transferPrimaryOwnership(ctx: HistoryContext, o: number): void {
  const org = ctx.state.orgs[o]!;
  const to = org.owners.pick(ctx.rng.next());
  if (to === undefined) return;
  const from = org.primaryOwner;
  ctx.emit('TransferPrimaryOwnership', ctx.member(o, from), { orgId: org.id, toUserId: ctx.userIds[to]! });
  ctx.state.setRole(o, from, OWNER);
  ctx.state.setRole(o, to, PRIMARY_OWNER);
}

/** Scheduled: someone who created API keys still in use leaves the company — the keys stay active (R53). */
export function keyCreatorLeaves(ctx: HistoryContext): void {
  const { state } = ctx;
  for (const org of state.orgs) {
    for (const w of org.workspaces.items) {
      for (const k of state.workspaces[w]!.keys.items) {
        const u = state.keyCreators[k]!;
        if (state.known.has(u) && onlyRegular(ctx, u) && offboard(ctx, u)) return;
      }
    }
  }
}
