import { SYSTEM, PLATFORM, type HistoryContext } from './history-context.js';
import { setCeiling, setPrecedence } from './spend-activities.js';

/**
 * Organization settings: capability toggles by owners (R2, R22), platform overrides and catalog additions by the
 * platform (R1, R3, R24), provisioning mode changes.
 */

/** Capabilities owners switch off and on again over the years (never chat). */
const TOGGLED = ['fast_mode', 'code_execution', 'cowork', 'research', 'file_creation', 'web_search', 'memory'];

export function createOrganization(ctx: HistoryContext, o: number): void {
  const org = ctx.state.orgs[o]!;
  const p = org.profile;
  ctx.emit('CreateOrganization', SYSTEM, { orgId: p.id, name: p.name, dualSeat: p.dualSeat, provisioningMode: p.mode, usageBased: p.usageBased });
}

export function setCapability(ctx: HistoryContext, o: number, capability: string, enabled: boolean, system = false): void {
  const org = ctx.state.orgs[o]!;
  ctx.emit('SetOrganizationCapability', system ? SYSTEM : ctx.ownerActor(o), { orgId: org.id, capability, enabled });
  org.capabilityOn.set(capability, enabled);
}

export function setPlatformOverride(ctx: HistoryContext, o: number, capability: string, disabled: boolean): void {
  const org = ctx.state.orgs[o]!;
  ctx.emit('SetPlatformOverride', PLATFORM, { orgId: org.id, capability, disabled });
  if (disabled) org.overridden.add(capability);
  else org.overridden.delete(capability);
}

export function addCapabilityToCatalog(ctx: HistoryContext, capability: string): void {
  if (ctx.state.catalog.includes(capability)) return;
  ctx.emit('AddCapabilityToCatalog', PLATFORM, { capability });
  ctx.state.catalog.push(capability);
  // R3: it starts off in every organization.
  for (const org of ctx.state.orgs) org.capabilityOn.set(capability, false);
}

export function setProvisioningMode(ctx: HistoryContext, o: number, mode: 'invite_only' | 'jit'): void {
  const org = ctx.state.orgs[o]!;
  ctx.emit('SetProvisioningMode', ctx.ownerActor(o), { orgId: org.id, mode });
  org.mode = mode;
}

export function organizationActivity(ctx: HistoryContext): boolean {
  const { rng } = ctx;
  const org = ctx.randomOrg();
  const o = org.index;
  const r = rng.next();
  if (r < 0.7) {
    const capability = rng.pick(TOGGLED);
    setCapability(ctx, o, capability, !(org.capabilityOn.get(capability) ?? false));
    return true;
  }
  if (r < 0.85) {
    if (!org.profile.usageBased) return false;
    setCeiling(ctx, o, rng.pick([1_000_000, 2_000_000, 5_000_000, 8_000_000]));
    return true;
  }
  if (r < 0.95) {
    if (!org.profile.usageBased) return false;
    setPrecedence(ctx, o, org.precedence === 'lowest' ? 'highest' : 'lowest');
    return true;
  }
  // A contract change at the platform: a capability is disabled for a while, or lifted again.
  const lifted = [...org.overridden];
  if (lifted.length > 0) setPlatformOverride(ctx, o, lifted[0]!, false);
  else setPlatformOverride(ctx, o, rng.pick(['fast_mode', 'cowork', 'research']), true);
  return true;
}
