import { z } from 'zod';
import {
  AdminArea,
  AdminLevel,
  BuiltInRole,
  ConsoleRole,
  InstantParam,
  Seat,
  ToolLevel,
  accessAt,
  baselineOf,
  changesOf,
  diffOf,
  holdersOf,
  memberKnown,
  orgExists,
  organizationsAt,
  capabilityCatalog,
  FactReader,
  lookupKey,
  timelineOf,
  viewAt,
  type FactStore,
  type HoldersQuery,
  type Link,
  type View,
  type MemberAccess,
} from '@access-ledger/access-model';
import { BeforeBaselineError, InvalidInputError, NotFoundError } from './ledger.port.js';
import { acceptedKeys, issuesOf } from './validation.js';

/**
 * The access questions of http-api.md § Access queries: read the tenant's facts once the projection has caught up,
 * answer at `at` as known at `knownAt` (R60; both default to now). The query strings are parsed at the edge with
 * `ACCESS_QUERY_SCHEMAS` (the route's pipe, the CLI's options); the methods take the parsed, typed values.
 */

/** An instant in the one grammar (libs/access-model instant.ts), as UTC milliseconds. */
const QueryInstant = InstantParam.transform((iso) => Date.parse(iso));

const Explain = z
  .enum(['true', 'false'])
  .optional()
  .transform((v) => v === 'true');

const AccessQuery = z.object({ at: QueryInstant.optional(), knownAt: QueryInstant.optional(), explain: Explain }).strict();
const HoldersQuerySchema = z
  .object({
    at: QueryInstant.optional(),
    knownAt: QueryInstant.optional(),
    capability: z.string().min(1).max(64).optional(),
    tool: z
      .string()
      .regex(/^[A-Za-z0-9._:@-]{1,128}\/[A-Za-z0-9._:@-]{1,128}$/, 'must be connectorId/toolName')
      .optional(),
    adminArea: AdminArea.optional(),
    minLevel: z.string().optional(),
  })
  .strict()
  .superRefine((q, ctx) => {
    const asked = [q.capability, q.tool, q.adminArea].filter((x) => x !== undefined).length;
    if (asked !== 1) ctx.addIssue({ code: 'custom', path: ['capability'], message: 'give exactly one of capability, tool or adminArea' });
    if (q.tool !== undefined && q.minLevel !== undefined && !ToolLevel.safeParse(q.minLevel).success) {
      ctx.addIssue({ code: 'custom', path: ['minLevel'], message: 'must be blocked, needs_approval or always_allow' });
    }
    if (q.adminArea !== undefined && q.minLevel !== undefined && !AdminLevel.safeParse(q.minLevel).success) {
      ctx.addIssue({ code: 'custom', path: ['minLevel'], message: 'must be none, view or manage' });
    }
  });
const WindowQuery = z
  .object({ from: QueryInstant, to: QueryInstant.optional(), knownAt: QueryInstant.optional() })
  .strict()
  .refine((q) => q.to === undefined || q.to >= q.from, { path: ['to'], message: 'must not be before from' });

/** A timeline defaults to the whole history. */
const TimelineQuery = z
  .object({ from: QueryInstant.optional(), to: QueryInstant.optional(), knownAt: QueryInstant.optional() })
  .strict()
  .refine((q) => q.to === undefined || q.from === undefined || q.to >= q.from, { path: ['to'], message: 'must not be before from' });

/** A query string parsed with its schema; a failure lists every failing field (400 at the route). */
export function parseAccessQuery<T extends z.ZodType>(schema: T, query: unknown): z.output<T> {
  const parsed = schema.safeParse(query ?? {});
  if (!parsed.success) throw new InvalidInputError(issuesOf(parsed.error, acceptedKeys(schema)));
  return parsed.data;
}

/** The parsed query of each access question (`explain` defaults to false). */
export type MemberAccessQuery = Omit<z.output<typeof AccessQuery>, 'explain'> & { readonly explain?: boolean };
export type HoldersAccessQuery = z.output<typeof HoldersQuerySchema>;
export type WindowAccessQuery = z.output<typeof WindowQuery>;
export type TimelineAccessQuery = z.output<typeof TimelineQuery>;

const iso = (ms: number) => new Date(ms).toISOString();

/** An id from a path, for a message: at most 64 characters, JSON-quoted (a path segment may hold anything). */
const quoted = (id: string) => JSON.stringify(id.slice(0, 64));

/**
 * 404 for an organization the tenant never had (as known at `knownAt`), naming the ones it has: a typo must not read
 * as "nobody". At most 20 are named; `GET /v1/tenants/{t}/orgs` lists them all.
 */
export function unknownOrganization(orgId: string, facts: FactStore, knownAt: number): NotFoundError {
  const known = organizationsAt(facts, viewAt(Number.POSITIVE_INFINITY, knownAt)).map((o) => o.orgId);
  const named = known.length > 20 ? `${known.slice(0, 20).join(', ')}, … (GET /orgs lists all ${known.length})` : known.join(', ');
  return new NotFoundError(`organization ${quoted(orgId)} is not known in this tenant; ${known.length === 0 ? 'it has none' : `known: ${named}`}`);
}

/**
 * 409 before-baseline when `from` is before the organization's baseline as known at `knownAt` (docs/sources.md
 * § Baseline): the record before it is partial, so an answer would read as "nothing" where the truth is "unknown".
 * Organizations without a baseline (their whole history recorded) pass.
 */
export function requireRecordedFrom(facts: FactStore, orgId: string, from: number, knownAt: number): void {
  const baseline = baselineOf(facts, knownAt, orgId);
  if (baseline !== undefined && from < baseline.at) throw new BeforeBaselineError(orgId, iso(baseline.at), baseline.source, baseline.sourceKind, iso(from));
}

const listed = (names: readonly string[]) => (names.length === 0 ? 'there are none' : `known: ${[...names].sort().join(', ')}`);

/**
 * A holders question about something the tenant never had is a typo, not "nobody": the capability must be in the
 * catalog at `at` (R3: events add capabilities), the connector and the tool must have been added to the organization
 * (removed ones stay valid questions: R18 answers that nobody holds them).
 */
function requireKnownSubject(facts: FactStore, view: View, orgId: string, q: Pick<HoldersAccessQuery, 'capability' | 'tool'>, toolPath = 'tool'): void {
  const r = new FactReader(facts, view);
  if (q.capability !== undefined) {
    const catalog = capabilityCatalog(r);
    if (!catalog.includes(q.capability))
      throw new InvalidInputError([{ path: 'capability', message: `is not a capability of this tenant at ${iso(view.at)}; ${listed(catalog)}` }]);
  }
  if (q.tool !== undefined) {
    const [connectorId, toolName] = q.tool.split('/') as [string, string];
    const ever = new FactReader(facts, { at: Number.POSITIVE_INFINITY, knownAt: view.knownAt });
    const connectors = [...ever.items(lookupKey.connectors(orgId))];
    if (!connectors.includes(connectorId))
      throw new InvalidInputError([{ path: toolPath, message: `connector ${connectorId} is not known in organization ${orgId}; ${listed(connectors)}` }]);
    const tools = [...ever.items(lookupKey.tools(orgId, connectorId))];
    if (!tools.includes(toolName))
      throw new InvalidInputError([{ path: toolPath, message: `connector ${connectorId} has no tool ${toolName}; ${listed(tools)}` }]);
  }
}

/**
 * 400 unless every level is one a permission of that kind is held at in the access intervals (docs/access-intervals.md
 * § Permission names): `blocked` and `none` are not held, so a report filtered on them would be empty by construction.
 */
function requireHeldLevels(permission: string, levels: readonly string[], path: string): void {
  if (levels.length === 0) return;
  const kind = permission.split(':')[0]!;
  const held: Record<string, readonly string[]> = {
    capability: ['granted'],
    workspace: ['granted'],
    tool: ToolLevel.options.filter((l) => l !== 'blocked'),
    admin: AdminLevel.options.filter((l) => l !== 'none'),
    role: BuiltInRole.options,
    console: ConsoleRole.options,
    seat: Seat.options,
  };
  for (const level of levels) {
    if (kind === 'spend' ? /^\d+$/.test(level) : (held[kind] ?? []).includes(level)) continue;
    const choices = kind === 'spend' ? 'a spend level is a limit in cents' : `levels of ${kind}: ${(held[kind] ?? []).join(', ')}`;
    throw new InvalidInputError([{ path, message: `${JSON.stringify(level.slice(0, 64))} is not a level ${permission} is held at; ${choices}` }]);
  }
}

/** Drop the `why` arrays unless an explanation was asked for. */
function present(a: MemberAccess, at: number, explain: boolean) {
  const strip = <T extends { why: readonly Link[] }>(x: T) => {
    if (explain) return x;
    const { why: _why, ...rest } = x;
    return rest;
  };
  const mapValues = <V, W>(o: Record<string, V>, f: (v: V) => W) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
  return {
    orgId: a.orgId,
    userId: a.userId,
    at: iso(at),
    builtInRole: a.builtInRole,
    seat: a.seat,
    status: a.status,
    capabilities: mapValues(a.capabilities, strip),
    tools: mapValues(a.tools, (tools) => mapValues(tools, strip)),
    connectorMenu: a.connectorMenu,
    adminAreas: mapValues(a.adminAreas, strip),
    spendLimitCents: a.spendLimitCents,
    ...(explain ? { spendLimitWhy: a.spendLimitWhy } : {}),
    console: explain ? a.console : { role: a.console.role, permissions: a.console.permissions, workspaces: a.console.workspaces },
  };
}

export class AccessQueries {
  constructor(
    private readonly factsFor: (tenantId: string) => Promise<FactStore>,
    private readonly now: () => number = Date.now,
  ) {}

  /** The tenant's facts, or 404 for an organization never created, or 409 when `from` is before its baseline. */
  private async orgFacts(tenantId: string, orgId: string, knownAt: number, from?: number): Promise<FactStore> {
    const facts = await this.factsFor(tenantId);
    if (!orgExists(facts, viewAt(Number.POSITIVE_INFINITY, knownAt), orgId)) throw unknownOrganization(orgId, facts, knownAt);
    if (from !== undefined) requireRecordedFrom(facts, orgId, from, knownAt);
    return facts;
  }

  /** As orgFacts, and 404 for a member never known (a typo is named as such at any instant, before the baseline too). */
  private async memberFacts(tenantId: string, orgId: string, userId: string, knownAt: number, from?: number): Promise<FactStore> {
    const facts = await this.orgFacts(tenantId, orgId, knownAt);
    if (!memberKnown(facts, knownAt, orgId, userId))
      throw new NotFoundError(`member ${quoted(userId)} is not known in organization ${orgId}; GET /orgs/${orgId}/members?q=… finds members`);
    if (from !== undefined) requireRecordedFrom(facts, orgId, from, knownAt);
    return facts;
  }

  /**
   * 404 unless the organization was ever created in the tenant (as known now), and 409 before-baseline when `from`
   * (ISO-8601, the first instant a report asks about) is before its baseline: the read-model routes ask this before
   * reading ClickHouse, where an unknown organization or an unrecorded period would be an empty answer.
   */
  async requireOrganization(tenantId: string, orgId: string, from?: string): Promise<void> {
    await this.orgFacts(tenantId, orgId, this.now(), from === undefined ? undefined : Date.parse(from));
  }

  /**
   * 400 unless `permission` names something the organization can hold, as the access intervals name it
   * (`capability:C` in the catalog, `tool:conn/tool` ever added, `admin:A`, `role:R`, `console:R`, `seat`, `spend`,
   * `workspace:W:perm`): a report on a misspelt permission would be an empty answer. `path` is the parameter's name.
   */
  async requirePermission(tenantId: string, orgId: string, permission: string, path = 'permission', levels: readonly string[] = []): Promise<void> {
    const facts = await this.orgFacts(tenantId, orgId, this.now());
    const fail = (message: string) => new InvalidInputError([{ path, message }]);
    requireHeldLevels(permission, levels, path);
    const [kind, ...rest] = permission.split(':');
    const name = rest.join(':');
    const ever = viewAt(Number.POSITIVE_INFINITY, this.now());
    const oneOf = (values: readonly string[], what: string) => {
      if (!values.includes(name)) throw fail(`${quoted(name)} is not ${what}; ${listed(values)}`);
    };
    switch (permission.includes(':') ? kind : permission) {
      case 'seat':
      case 'spend':
        if (permission.includes(':')) throw fail(`${kind} takes no name (the level is the ${kind})`);
        return;
      case 'capability':
        return oneOf(capabilityCatalog(new FactReader(facts, ever)), 'a capability of this tenant');
      case 'admin':
        return oneOf(AdminArea.options, 'an admin area');
      case 'role':
        return oneOf(BuiltInRole.options, 'a built-in role');
      case 'console':
        return oneOf(ConsoleRole.options, 'a Console role');
      case 'tool':
        if (!/^[^/]+\/[^/]+$/.test(name)) throw fail('must be tool:<connector>/<tool>');
        requireKnownSubject(facts, ever, orgId, { tool: name }, path);
        return;
      case 'workspace':
        return;
      default:
        throw fail(`must be capability:<name>, tool:<connector>/<tool>, admin:<area>, role:<role>, console:<role>, workspace:<id>:<permission>, seat or spend`);
    }
  }

  async memberAccess(tenantId: string, orgId: string, userId: string, q: MemberAccessQuery) {
    const at = q.at ?? this.now();
    const knownAt = q.knownAt ?? this.now();
    const facts = await this.memberFacts(tenantId, orgId, userId, knownAt, at);
    const access = accessAt(facts, viewAt(at, knownAt), orgId, userId);
    if (!access) throw new NotFoundError(`${userId} was not a member of ${orgId} at ${iso(at)}`);
    return present(access, at, q.explain ?? false);
  }

  async holders(tenantId: string, orgId: string, q: HoldersAccessQuery) {
    const at = q.at ?? this.now();
    const knownAt = q.knownAt ?? this.now();
    const facts = await this.orgFacts(tenantId, orgId, knownAt, at);
    requireKnownSubject(facts, viewAt(at, knownAt), orgId, q);
    let holdersQuery: HoldersQuery;
    if (q.capability !== undefined) holdersQuery = { capability: q.capability };
    else if (q.tool !== undefined) {
      const [connectorId, toolName] = q.tool.split('/') as [string, string];
      holdersQuery = { tool: { connectorId, toolName }, minLevel: (q.minLevel ?? 'needs_approval') as ToolLevel };
    } else holdersQuery = { adminArea: q.adminArea!, minLevel: (q.minLevel ?? 'view') as AdminLevel };
    return { orgId, at: iso(at), holders: holdersOf(facts, viewAt(at, knownAt), orgId, holdersQuery) };
  }

  async diff(tenantId: string, orgId: string, userId: string, q: WindowAccessQuery) {
    const to = q.to ?? this.now();
    const knownAt = q.knownAt ?? this.now();
    const facts = await this.memberFacts(tenantId, orgId, userId, knownAt, q.from);
    return { orgId, userId, from: iso(q.from), to: iso(to), ...diffOf(facts, orgId, userId, q.from, to, knownAt) };
  }

  async changes(tenantId: string, orgId: string, q: WindowAccessQuery) {
    const to = q.to ?? this.now();
    const knownAt = q.knownAt ?? this.now();
    const facts = await this.orgFacts(tenantId, orgId, knownAt, q.from);
    return { orgId, from: iso(q.from), to: iso(to), changes: changesOf(facts, orgId, q.from, to, knownAt) };
  }

  async timeline(tenantId: string, orgId: string, userId: string, q: TimelineAccessQuery) {
    const to = q.to ?? this.now();
    const knownAt = q.knownAt ?? this.now();
    const facts = await this.memberFacts(tenantId, orgId, userId, knownAt, q.from);
    // The whole history by default: from the baseline on when the organization has one.
    const from = q.from ?? baselineOf(facts, knownAt, orgId)?.at ?? 0;
    return { orgId, userId, from: iso(from), to: iso(to), intervals: timelineOf(facts, orgId, userId, from, to, knownAt) };
  }
}

/** The query-string schemas of the access routes: the route parses with them and the OpenAPI document is generated from them. */
export const ACCESS_QUERY_SCHEMAS = { access: AccessQuery, holders: HoldersQuerySchema, window: WindowQuery, timeline: TimelineQuery } as const;

/** Injection token for NestJS. */
export const ACCESS_QUERIES = Symbol('ACCESS_QUERIES');
