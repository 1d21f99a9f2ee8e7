import { SCIM, PLATFORM, type HistoryContext } from './history-context.js';
import { USER } from './shadow-state.js';

/**
 * Deliberate attempts the actor has no right to make, yielded with `refused: true`: the ledger must answer 403 and
 * record AccessChangeDenied (R22, R24, R62). They reference only things that exist, so the refusal can only come
 * from the authorization rules, and they change nothing in the shadow state.
 */
const KINDS = 6;

export function refusedAttempt(ctx: HistoryContext, n: number): boolean {
  const { state, rng } = ctx;
  const org = ctx.randomOrg();
  const o = org.index;
  switch (n % KINDS) {
    case 0: {
      // R22 / scenario 14: an admin tries to make an owner.
      const admin = org.admins.pick(rng.next());
      const target = org.regular.pick(rng.next());
      if (admin === undefined || target === undefined) return false;
      ctx.emit('ChangeMemberRole', ctx.member(o, admin), { orgId: org.id, userId: ctx.userIds[target]!, role: 'owner' }, true);
      return true;
    }
    case 1: {
      // R22: an admin tries to add someone as an owner.
      const admin = org.admins.pick(rng.next());
      const u = state.joined < state.userCount ? state.joined : undefined;
      if (admin === undefined || u === undefined) return false;
      const payload = org.profile.dualSeat
        ? { orgId: org.id, userId: ctx.userIds[u]!, email: ctx.emails[u]!, role: 'owner' as const, seat: 'chat' as const }
        : { orgId: org.id, userId: ctx.userIds[u]!, email: ctx.emails[u]!, role: 'owner' as const };
      ctx.emit('AddMember', ctx.member(o, admin), payload, true);
      return true;
    }
    case 2: {
      // R22: a `user` member (no admin area at all, R21) tries to switch a capability off for the organization.
      for (let tries = 0; tries < 10; tries++) {
        const u = org.regular.pick(rng.next());
        if (u === undefined) return false;
        if (org.role[u] !== USER) continue;
        ctx.emit('SetOrganizationCapability', ctx.member(o, u), { orgId: org.id, capability: 'web_search', enabled: false }, true);
        return true;
      }
      return false;
    }
    case 3:
      // R24: SCIM may provision members and groups, not create custom roles.
      ctx.emit('CreateRole', SCIM, { orgId: org.id, roleId: `r-scim-attempt-${n}`, name: 'Provisioned role' }, true);
      return true;
    case 4: {
      // R24: the platform may only override capabilities and extend the catalog.
      const target = org.regular.pick(rng.next());
      if (target === undefined) return false;
      ctx.emit('RemoveMember', PLATFORM, { orgId: org.id, userId: ctx.userIds[target]! }, true);
      return true;
    }
    default: {
      // R22: creating custom roles needs an owner or identity_access = manage, which an admin lacks (R21).
      const admin = org.admins.pick(rng.next());
      if (admin === undefined) return false;
      ctx.emit('CreateRole', ctx.member(o, admin), { orgId: org.id, roleId: `r-admin-attempt-${n}`, name: 'Shadow admins' }, true);
      return true;
    }
  }
}
