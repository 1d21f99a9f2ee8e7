import { z } from 'zod';
import {
  AdminArea,
  AdminLevel,
  INSTANT_RANGE_MESSAGE,
  ToolLevel,
  accessAt,
  instantInRange,
  changesOf,
  diffOf,
  holdersOf,
  memberKnown,
  orgExists,
  timelineOf,
  viewAt,
  type FactStore,
  type HoldersQuery,
  type Link,
  type MemberAccess,
} from '@access-ledger/access-model';
import { InvalidInputError, NotFoundError } from './ledger.port.js';
import { issuesOf } from './validation.js';

/**
 * The access questions of http-api.md § Access queries: read the tenant's facts once the projection has caught up,
 * answer at `at` as known at `knownAt` (R60; both default to now). The query strings are parsed at the edge with
 * `ACCESS_QUERY_SCHEMAS` (the route's pipe, the CLI's options); the methods take the parsed, typed values.
 */

/** An ISO-8601 instant; `Z` or an offset, with or without milliseconds, or a date (midnight UTC). */
const QueryInstant = z
  .string()
  .max(40)
  .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/, 'must be an ISO-8601 instant, e.g. 2026-03-01T00:00:00.000Z')
  .transform((s, ctx) => {
    const ms = Date.parse(s.length === 10 ? `${s}T00:00:00.000Z` : s);
    if (Number.isNaN(ms)) {
      ctx.addIssue({ code: 'custom', message: 'is not a real calendar instant' });
      return z.NEVER;
    }
    if (!instantInRange(ms)) {
      ctx.addIssue({ code: 'custom', message: INSTANT_RANGE_MESSAGE });
      return z.NEVER;
    }
    return ms;
  });

const Explain = z
  .enum(['true', 'false'])
  .optional()
  .transform((v) => v === 'true');

const AccessQuery = z.object({ at: QueryInstant.optional(), knownAt: QueryInstant.optional(), explain: Explain });
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
  .refine((q) => q.to === undefined || q.to >= q.from, { path: ['to'], message: 'must not be before from' });

/** A timeline defaults to the whole history. */
const TimelineQuery = z
  .object({ from: QueryInstant.optional(), to: QueryInstant.optional(), knownAt: QueryInstant.optional() })
  .refine((q) => q.to === undefined || q.from === undefined || q.to >= q.from, { path: ['to'], message: 'must not be before from' });

/** A query string parsed with its schema; a failure lists every failing field (400 at the route). */
export function parseAccessQuery<T extends z.ZodType>(schema: T, query: unknown): z.output<T> {
  const parsed = schema.safeParse(query ?? {});
  if (!parsed.success) throw new InvalidInputError(issuesOf(parsed.error));
  return parsed.data;
}

/** The parsed query of each access question (`explain` defaults to false). */
export type MemberAccessQuery = Omit<z.output<typeof AccessQuery>, 'explain'> & { readonly explain?: boolean };
export type HoldersAccessQuery = z.output<typeof HoldersQuerySchema>;
export type WindowAccessQuery = z.output<typeof WindowQuery>;
export type TimelineAccessQuery = z.output<typeof TimelineQuery>;

const iso = (ms: number) => new Date(ms).toISOString();

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

  private async orgFacts(tenantId: string, orgId: string, knownAt: number): Promise<FactStore> {
    const facts = await this.factsFor(tenantId);
    if (!orgExists(facts, viewAt(Number.POSITIVE_INFINITY, knownAt), orgId)) throw new NotFoundError(`no organization ${orgId}`);
    return facts;
  }

  private async memberFacts(tenantId: string, orgId: string, userId: string, knownAt: number): Promise<FactStore> {
    const facts = await this.orgFacts(tenantId, orgId, knownAt);
    if (!memberKnown(facts, knownAt, orgId, userId)) throw new NotFoundError(`no member ${userId} in organization ${orgId}`);
    return facts;
  }

  async memberAccess(tenantId: string, orgId: string, userId: string, q: MemberAccessQuery) {
    const at = q.at ?? this.now();
    const knownAt = q.knownAt ?? this.now();
    const facts = await this.memberFacts(tenantId, orgId, userId, knownAt);
    const access = accessAt(facts, viewAt(at, knownAt), orgId, userId);
    if (!access) throw new NotFoundError(`${userId} was not a member of ${orgId} at ${iso(at)}`);
    return present(access, at, q.explain ?? false);
  }

  async holders(tenantId: string, orgId: string, q: HoldersAccessQuery) {
    const at = q.at ?? this.now();
    const knownAt = q.knownAt ?? this.now();
    const facts = await this.orgFacts(tenantId, orgId, knownAt);
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
    const facts = await this.memberFacts(tenantId, orgId, userId, knownAt);
    return { orgId, userId, from: iso(q.from), to: iso(to), ...diffOf(facts, orgId, userId, q.from, to, knownAt) };
  }

  async changes(tenantId: string, orgId: string, q: WindowAccessQuery) {
    const to = q.to ?? this.now();
    const knownAt = q.knownAt ?? this.now();
    const facts = await this.orgFacts(tenantId, orgId, knownAt);
    return { orgId, from: iso(q.from), to: iso(to), changes: changesOf(facts, orgId, q.from, to, knownAt) };
  }

  async timeline(tenantId: string, orgId: string, userId: string, q: TimelineAccessQuery) {
    const to = q.to ?? this.now();
    const knownAt = q.knownAt ?? this.now();
    const facts = await this.memberFacts(tenantId, orgId, userId, knownAt);
    const from = q.from ?? 0;
    return { orgId, userId, from: iso(from), to: iso(to), intervals: timelineOf(facts, orgId, userId, from, to, knownAt) };
  }
}

/** The query-string schemas of the access routes: the route parses with them and the OpenAPI document is generated from them. */
export const ACCESS_QUERY_SCHEMAS = { access: AccessQuery, holders: HoldersQuerySchema, window: WindowQuery, timeline: TimelineQuery } as const;

/** Injection token for NestJS. */
export const ACCESS_QUERIES = Symbol('ACCESS_QUERIES');
