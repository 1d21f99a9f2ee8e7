/** Size parameters of a generated history, the two presets, and the command budget they imply. */
export interface HistoryOptions {
  seed: number;
  /** Distinct people who are members at some point (tenant-wide). */
  users: number;
  /** Child organizations of the tenant's parent. */
  orgs: number;
  /** Tenant-level groups (R30) created over the history. */
  groups: number;
  /** Custom roles created over the history, all organizations together. */
  customRoles: number;
  /** Connectors each organization adds over the history (names shared across organizations, ids per organization). */
  connectors: number;
  toolsPerConnector: number;
  years: number;
  /** First instant, ISO-8601 UTC with milliseconds. */
  start: string;
  /** Late, out-of-order import batches (R61). Default: 4 + one per 100 000 commands. */
  lateImports?: number;
}

export const benchmarkHistory: HistoryOptions = {
  seed: 20260301,
  users: 25_000,
  orgs: 4,
  groups: 600,
  customRoles: 80,
  connectors: 40,
  toolsPerConnector: 12,
  years: 3,
  start: '2023-03-01T00:00:00.000Z',
};

export const demoHistory: HistoryOptions = {
  seed: 42,
  users: 300,
  orgs: 2,
  groups: 20,
  customRoles: 8,
  connectors: 6,
  toolsPerConnector: 12,
  years: 1,
  start: '2025-11-01T00:00:00.000Z',
};

/**
 * Expected commands per kind of activity. The generator picks activities in these proportions and stops when the
 * total is reached, so `estimateCommands` is what it yields (give or take the last multi-command activity).
 */
export interface CommandBudget {
  readonly onboarding: number;
  readonly groupChurn: number;
  readonly memberLifecycle: number;
  readonly console: number;
  readonly spend: number;
  readonly roles: number;
  readonly connectors: number;
  readonly groupAdmin: number;
  readonly orgSettings: number;
  readonly total: number;
}

export function commandBudget(o: HistoryOptions): CommandBudget {
  const userYears = o.users * o.years;
  const onboarding = o.users * 6 + o.orgs * 30;
  const groupChurn = userYears * 16;
  const memberLifecycle = userYears * 3;
  const console = userYears * 2;
  const spend = userYears * 0.8;
  const roles = o.customRoles * (10 + o.years * 40);
  const connectors = o.orgs * o.connectors * (2 + o.years * 5);
  const groupAdmin = o.groups * (1 + o.years * 1.5);
  const orgSettings = o.orgs * (20 + o.years * 8);
  const total = Math.round(onboarding + groupChurn + memberLifecycle + console + spend + roles + connectors + groupAdmin + orgSettings);
  return { onboarding, groupChurn, memberLifecycle, console, spend, roles, connectors, groupAdmin, orgSettings, total };
}

/** How many commands `generateHistory(options)` yields (refused attempts included, import batches not). */
export function estimateCommands(options: HistoryOptions): number {
  return commandBudget(options).total;
}

export function lateImportCount(options: HistoryOptions): number {
  return options.lateImports ?? 4 + Math.floor(estimateCommands(options) / 100_000);
}

export function checkOptions(o: HistoryOptions): void {
  const whole = (name: keyof HistoryOptions, min: number) => {
    const v = o[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new RangeError(`${name} must be an integer ≥ ${min}, got ${String(v)}`);
  };
  whole('seed', 0);
  whole('users', 20);
  // Each organization's founders (primary owner, owners, admins) are among the users.
  if (o.users < 10 * o.orgs) throw new RangeError(`users must be at least 10 per organization (${10 * o.orgs} for ${o.orgs}), got ${o.users}`);
  whole('orgs', 1);
  whole('groups', 3);
  whole('customRoles', 1);
  whole('connectors', 1);
  whole('toolsPerConnector', 3);
  if (!(o.years > 0)) throw new RangeError(`years must be > 0, got ${o.years}`);
  if (Number.isNaN(Date.parse(o.start))) throw new RangeError(`start must be an ISO instant, got ${o.start}`);
  if (o.lateImports !== undefined) whole('lateImports', 0);
}
