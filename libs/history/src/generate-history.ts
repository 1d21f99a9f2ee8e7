import type { HistoryItem } from './commands.js';
import { addConnector, connectorActivity, enableConnectorPermissions, removeConnector } from './connector-activities.js';
import { consoleActivity, createWorkspace } from './console-activities.js';
import { createNextGroup, enableGroupMappings, groupAdmin, groupChurn, joinSomeGroups } from './group-activities.js';
import { HistoryContext } from './history-context.js';
import { lateImport } from './late-imports.js';
import { foundOrganization, keyCreatorLeaves, memberLifecycle, offboardUser, onboardUser, transferPrimaryOwnership } from './member-activities.js';
import { checkOptions, commandBudget, lateImportCount, type HistoryOptions } from './options.js';
import {
  addCapabilityToCatalog,
  createOrganization,
  organizationActivity,
  setCapability,
  setPlatformOverride,
  setProvisioningMode,
} from './organization-activities.js';
import { refusedAttempt } from './refused-attempts.js';
import { assignRole, createRole, roleActivity } from './role-activities.js';
import { setCeiling, setPrecedence, spendActivity } from './spend-activities.js';
import { LATER_CAPABILITIES } from './vocabulary.js';

/**
 * The history of one enterprise tenant, as a stream of command bodies and a few late import batches.
 *
 * Setup first (organizations, founders, groups, roles, connectors, workspaces), then a steady state in which people
 * join on a ramp (30 % at roll-out, everyone by 85 % of the history), about 12 % leave, and the remaining activity is
 * drawn in the proportions of `commandBudget`, with one-off changes at fixed points (`schedule`). Each activity checks
 * the shadow state before it emits, so every command is valid in order, except the ones marked `refused`.
 */
export function* generateHistory(options: HistoryOptions): Generator<HistoryItem> {
  checkOptions(options);
  const budget = commandBudget(options);
  const ctx = new HistoryContext(options, budget.total);
  const queue = ctx.queue;

  // The history ends at exactly `total` commands: an activity cut short at the end is still valid so far, since
  // every command is valid given the ones before it.
  let yielded = 0;
  const total = budget.total;
  function* drain(): Generator<HistoryItem> {
    for (let i = 0; i < queue.length; i++) {
      const item = queue[i]!;
      if (item.kind === 'command') {
        if (yielded >= total) break;
        yielded++;
      }
      yield item;
    }
    queue.length = 0;
  }

  setup(ctx);
  ctx.endBurst();
  yield* drain();

  const schedule = buildSchedule(ctx);
  let next = 0;
  const refusals = Math.max(6, Math.round(budget.total / 20_000));
  let refusalsDone = 0;
  const imports = lateImportCount(options);
  let importsDone = 0;
  const activities = [groupChurn, memberLifecycle, consoleActivity, spendActivity, roleActivity, connectorActivity, groupAdmin, organizationActivity];
  const weights = [
    budget.groupChurn,
    budget.memberLifecycle,
    budget.console,
    budget.spend,
    budget.roles,
    budget.connectors,
    budget.groupAdmin,
    budget.orgSettings,
  ];
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  const users = options.users;
  let stalls = 0;

  // Thresholds as command counts, so the loop compares integers instead of recomputing fractions.
  const refusalAt = (k: number) => Math.ceil(((k + 0.5) / refusals) * total);
  const importAt = (k: number) => Math.ceil(((k + 0.6) / imports) * total);
  let nextRefusal = refusalAt(0);
  let nextImport = importAt(0);
  let nextStep = schedule.length > 0 ? Math.ceil(schedule[0]![0] * total) : Infinity;

  while (ctx.count < total) {
    const before = ctx.count;
    while (ctx.count >= nextStep) {
      schedule[next++]![1](ctx);
      nextStep = next < schedule.length ? Math.ceil(schedule[next]![0] * total) : Infinity;
    }
    const state = ctx.state;
    if (refusalsDone < refusals && ctx.count >= nextRefusal) {
      refusedAttempt(ctx, refusalsDone);
      nextRefusal = refusalAt(++refusalsDone);
    } else if (importsDone < imports && ctx.count >= nextImport) {
      lateImport(ctx, importsDone);
      nextImport = importAt(++importsDone);
    } else if (state.joined < users && state.joined < users * onboardingRamp(ctx.count / total)) {
      onboardUser(ctx);
    } else if (state.left < users * leavingRamp(ctx.count / total) && offboardUser(ctx)) {
      // someone left
    } else {
      activities[ctx.rng.weighted(weights, totalWeight)]!(ctx);
    }
    if (ctx.count === before && queue.length === 0 && ++stalls > 100) {
      // Nothing applicable for a while (tiny parameters): an owner flips a toggle, which is always possible.
      setCapability(ctx, 0, 'fast_mode', !(ctx.state.orgs[0]!.capabilityOn.get('fast_mode') ?? false));
      stalls = 0;
    }
    if (queue.length > 0) {
      // drain(), inlined: this runs once per activity, millions of times.
      for (let i = 0; i < queue.length; i++) {
        const item = queue[i]!;
        if (item.kind === 'command') {
          if (yielded >= total) break;
          yielded++;
        }
        yield item;
      }
      queue.length = 0;
    }
  }
}

/**
 * Share of users who have joined by progress p: 30 % at roll-out, easing out to everyone at 85 %. Only + − × ÷ here
 * (no Math.pow): those are exactly rounded everywhere, so the same seed gives the same history on any engine.
 */
function onboardingRamp(p: number): number {
  const q = Math.min(1, p / 0.85);
  return 0.3 + 0.7 * q * (2 - q);
}

function leavingRamp(p: number): number {
  return 0.12 * Math.max(0, (p - 0.05) / 0.95);
}

function setup(ctx: HistoryContext): void {
  const { state, rng, options } = ctx;
  for (let o = 0; o < state.orgs.length; o++) {
    createOrganization(ctx, o);
    foundOrganization(ctx, o);
    // Two shipped capabilities stay off at roll-out, switched on later (schedule).
    setCapability(ctx, o, 'cowork', false, true);
    setCapability(ctx, o, 'fast_mode', false, true);
  }
  const groups = Math.max(2, Math.ceil(options.groups * 0.7));
  for (let g = 0; g < groups; g++) createNextGroup(ctx);
  for (const u of [...state.known.items]) joinSomeGroups(ctx, u, rng.between(1, 2));
  for (const org of state.orgs) {
    if (org.profile.usageBased) setCeiling(ctx, org.index, 5_000_000);
    createWorkspace(ctx, org.index);
    createWorkspace(ctx, org.index);
  }
  const roles = Math.min(options.customRoles, Math.max(state.orgs.length, Math.ceil(options.customRoles * 0.6)));
  for (let i = 0; i < roles; i++) {
    const r = createRole(ctx, i % state.orgs.length);
    assignRole(ctx, r);
    if (rng.chance(0.4)) assignRole(ctx, r);
  }
  for (const org of state.orgs) {
    const n = Math.max(1, Math.ceil(options.connectors * 0.5));
    for (let i = 0; i < n; i++) addConnector(ctx, org.index);
  }
}

type Step = [number, (ctx: HistoryContext) => void];

/** One-off changes at fixed points of the history. */
function buildSchedule(ctx: HistoryContext): Step[] {
  const orgs = ctx.state.orgs;
  const steps: Step[] = [
    [0.03, (c) => enableGroupMappings(c, 2)],
    [0.1, (c) => setCapability(c, 0, 'fast_mode', true)],
    [
      0.12,
      (c) => {
        for (const org of orgs) setCapability(c, org.index, 'cowork', true);
      },
    ],
    [
      0.15,
      (c) => {
        const org = orgs.find((x) => x.index > 0 && x.profile.usageBased) ?? orgs[0]!;
        if (org.profile.usageBased) setPrecedence(c, org.index, 'highest');
      },
    ],
    [0.2, (c) => setCapability(c, orgs.length > 1 ? 1 : 0, 'memory', false)],
    [0.3, (c) => setPlatformOverride(c, 0, 'research', true)],
    [
      0.33,
      (c) => {
        // An organization changes how people get in: invite-only opens to JIT (or JIT closes to invitations).
        const org = orgs.find((x) => x.mode === 'invite_only') ?? orgs.find((x) => x.mode === 'jit');
        if (org !== undefined) setProvisioningMode(c, org.index, org.mode === 'jit' ? 'invite_only' : 'jit');
      },
    ],
    [0.4, (c) => addCapabilityToCatalog(c, LATER_CAPABILITIES[0])],
    [0.42, (c) => setCapability(c, orgs.length > 1 ? 1 : 0, 'memory', true)],
    [
      0.5,
      (c) =>
        orgs.forEach((org) => {
          if (org.index === 0 || c.rng.chance(0.7)) setCapability(c, org.index, LATER_CAPABILITIES[0], true);
        }),
    ],
    [0.55, (c) => transferPrimaryOwnership(c, 0)],
    [
      0.58,
      (c) => {
        if (orgs[0]!.overridden.has('research')) setPlatformOverride(c, 0, 'research', false);
      },
    ],
    [0.6, (c) => enableGroupMappings(c, 1)],
    [
      0.65,
      (c) => {
        // A connector is retired in the organization with the most.
        const org = [...orgs].sort((x, y) => y.connectors.size - x.connectors.size)[0]!;
        const connector = org.connectors.items[0];
        if (connector !== undefined) removeConnector(c, connector);
      },
    ],
    [0.7, keyCreatorLeaves],
    [0.75, (c) => addCapabilityToCatalog(c, LATER_CAPABILITIES[1])],
    [0.9, keyCreatorLeaves],
    [0.85, (c) => setCapability(c, 0, LATER_CAPABILITIES[1], true)],
  ];
  // Connector permissions are enabled mid-history in every other organization (R12).
  for (const org of orgs) {
    if (org.index % 2 === 0) steps.push([0.25 + 0.08 * org.index, (c) => enableConnectorPermissions(c, org.index)]);
  }
  return steps.sort((a, b) => a[0] - b[0]);
}
