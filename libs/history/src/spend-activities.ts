import type { HistoryContext } from './history-context.js';

/** Spend limits (R40–R43) in usage-based organizations, set by owners (billing = manage, R22). Never below zero (R62). */

const MEMBER_LIMITS = [2_000, 5_000, 10_000, 20_000, 50_000, 100_000];
const GROUP_LIMITS = [5_000, 10_000, 20_000, 30_000, 80_000];
const CEILINGS = [500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000];

export function spendActivity(ctx: HistoryContext): boolean {
  const { state, rng } = ctx;
  const org = ctx.randomOrg();
  if (!org.profile.usageBased) return false;
  const o = org.index;
  const r = rng.next();
  if (r < 0.8) {
    const u = org.regular.pick(rng.next());
    if (u === undefined) return false;
    const clear = org.hasLimit[u] === 1 && rng.chance(0.3);
    ctx.emit('SetMemberSpendLimit', ctx.ownerActor(o), { orgId: org.id, userId: ctx.userIds[u]!, cents: clear ? null : rng.pick(MEMBER_LIMITS) });
    org.hasLimit[u] = clear ? 0 : 1;
    return true;
  }
  if (r < 0.95) {
    const g = state.liveGroups.items[rng.skewed(state.liveGroups.size)];
    if (g === undefined) return false;
    const clear = org.groupLimits.has(g) && rng.chance(0.3);
    ctx.emit('SetGroupSpendLimit', ctx.ownerActor(o), { orgId: org.id, groupId: state.groups[g]!.id, cents: clear ? null : rng.pick(GROUP_LIMITS) });
    if (clear) org.groupLimits.delete(g);
    else org.groupLimits.add(g);
    return true;
  }
  setCeiling(ctx, o, org.ceiling !== null && rng.chance(0.2) ? null : rng.pick(CEILINGS));
  return true;
}

export function setCeiling(ctx: HistoryContext, o: number, cents: number | null): void {
  const org = ctx.state.orgs[o]!;
  ctx.emit('SetOrgSpendCeiling', ctx.ownerActor(o), { orgId: org.id, cents });
  org.ceiling = cents;
}

export function setPrecedence(ctx: HistoryContext, o: number, precedence: 'lowest' | 'highest'): void {
  const org = ctx.state.orgs[o]!;
  ctx.emit('SetSpendingPrecedence', ctx.ownerActor(o), { orgId: org.id, precedence });
  org.precedence = precedence;
}
