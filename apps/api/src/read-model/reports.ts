import type { ClickHouseClient } from '@clickhouse/client';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { Id } from '@access-ledger/access-model';
import { InvalidInputError, acceptedKeys, issuesOf } from '@access-ledger/ledger';
import { takeMinPosition } from './freshness.js';
import {
  AccessChangesQuery,
  ACCESS_REVIEW_COLUMNS,
  AccessReviewQuery,
  AuditSearchQuery,
  accessChanges,
  accessReviewCsv,
  accessReviewPage,
  CustomMembersWithoutGroupQuery,
  customMembersWithoutGroup,
  OrphanedApiKeysQuery,
  orphanedApiKeys,
  PermissionHoldersQuery,
  permissionHolderIntervals,
  PrivilegedAccessQuery,
  privilegedAccess,
  SodViolationsQuery,
  sodViolations,
  toCsv,
  type ProjectedTable,
} from '@access-ledger/read-model';

/**
 * The compliance reports of one organization (`GET /v1/tenants/{t}/orgs/{o}/reports/{name}`, `ledger report <name>`):
 * one catalog, so the HTTP route, the CLI and the OpenAPI document cannot disagree on names or parameters. Each
 * report validates its query with the zod schema libs/read-model exports and answers JSON, or CSV rows for `toCsv`.
 */
export interface ReportAnswer {
  /** The JSON body. */
  readonly json: Record<string, unknown>;
  /** One flat row per line of the CSV form (reports without their own `csv`). */
  readonly rows: readonly object[];
}

export interface ReportDefinition {
  readonly name: string;
  readonly summary: string;
  readonly description: string;
  /** The library's query schema (without `format`, which every report takes). */
  readonly schema: z.ZodType;
  /** The CSV header (also when there are no rows). */
  readonly columns: readonly string[];
  /** The table it reads: whose projection `minPosition` waits for and `Ledger-Projected-Through` reports. */
  readonly reads: ProjectedTable;
  /** The first instant the report asks about (`at`, or the start of its period): none may be before the organization's baseline. */
  since(query: never, now: string): string;
  /** Parameters only the JSON form takes (paging): refused with `format=csv`, whose answer is always complete. */
  readonly jsonOnly?: readonly string[];
  run(client: ClickHouseClient, tenantId: string, orgId: string, query: never): Promise<ReportAnswer>;
  /** The CSV form as a stream, for a report too large to render in memory; otherwise `toCsv` of `run`'s rows. */
  csv?(client: ClickHouseClient, tenantId: string, orgId: string, query: never): Promise<Readable>;
}

export const ReportFormat = z.enum(['json', 'csv']).default('json');
export type ReportFormat = z.output<typeof ReportFormat>;

function report<S extends z.ZodType>(definition: {
  name: string;
  summary: string;
  description: string;
  schema: S;
  columns: readonly string[];
  reads: ProjectedTable;
  since(query: z.output<S>, now: string): string;
  jsonOnly?: readonly string[];
  run(client: ClickHouseClient, tenantId: string, orgId: string, query: z.output<S>): Promise<ReportAnswer>;
  csv?(client: ClickHouseClient, tenantId: string, orgId: string, query: z.output<S>): Promise<Readable>;
}): ReportDefinition {
  return definition as unknown as ReportDefinition;
}

export const REPORTS: readonly ReportDefinition[] = [
  report({
    name: 'access-review',
    summary: "Every member's effective access at an instant",
    description:
      'Each permission whose interval contains `at` (default now), with the instant it was granted (`since`), the granting event and, for a review of the past, when it ended. ' +
      'The JSON form is paged by member: `limit` members (in userId order) after `cursor`, and `nextCursor` for the next page (null on the last). ' +
      'The CSV form is the complete review, one row per permission, streamed (`limit` and `cursor` are refused with it).',
    schema: AccessReviewQuery.omit({ format: true }),
    columns: ACCESS_REVIEW_COLUMNS,
    reads: 'access_intervals',
    since: (query, now) => query.at ?? now,
    jsonOnly: ['limit', 'cursor'],
    async run(client, tenantId, orgId, query) {
      const page = await accessReviewPage(client, tenantId, orgId, query);
      return { json: { orgId, at: page.at, members: page.members, nextCursor: page.nextCursor }, rows: [] };
    },
    csv: (client, tenantId, orgId, query) => accessReviewCsv(client, tenantId, orgId, query),
  }),
  report({
    name: 'holders-during',
    summary: 'Who held a permission during a period, and for how long',
    description:
      'Every interval of `permission` (e.g. `capability:claude_code`, `admin:billing`, `role:owner`) overlapping [from, to), clipped to the period, per member with the total time.',
    schema: PermissionHoldersQuery,
    columns: ['userId', 'level', 'from', 'to', 'durationMs', 'validFrom', 'validTo', 'openedBy', 'closedBy'],
    reads: 'access_intervals',
    since: (query) => query.from,
    async run(client, tenantId, orgId, query) {
      const rows = await permissionHolderIntervals(client, tenantId, orgId, query);
      const holders = groupBy(
        rows,
        (r) => r.userId,
        (userId, intervals) => ({ userId, totalMs: intervals.reduce((sum, i) => sum + i.durationMs, 0), intervals }),
      );
      return { json: { orgId, from: query.from, to: query.to, permission: query.permission, holders }, rows };
    },
  }),
  report({
    name: 'changes',
    summary: 'Access gained, lost and changed in a period (the quarterly review)',
    description: 'Every permission opened or closed in [from, to), each with the event that caused it; a level change is one `changed` row.',
    schema: AccessChangesQuery,
    columns: ['at', 'userId', 'permission', 'change', 'level', 'previousLevel', 'eventId'],
    reads: 'access_intervals',
    since: (query) => query.from,
    async run(client, tenantId, orgId, query) {
      const changes = await accessChanges(client, tenantId, orgId, query);
      return { json: { orgId, from: query.from, to: query.to, changes }, rows: changes };
    },
  }),
  report({
    name: 'privileged',
    summary: 'Privileged access over time (R21)',
    description: 'Per day, week or month of [from, to): holders of owner/admin roles, Console admin, and `manage` on any admin area.',
    schema: PrivilegedAccessQuery,
    columns: ['bucketStart', 'permission', 'level', 'holders', 'userIds'],
    reads: 'access_intervals',
    since: (query) => query.from,
    async run(client, tenantId, orgId, query) {
      const buckets = await privilegedAccess(client, tenantId, orgId, query);
      return { json: { orgId, from: query.from, to: query.to, bucket: query.bucket, buckets }, rows: buckets };
    },
  }),
  report({
    name: 'sod-violations',
    summary: 'Segregation-of-duties violations in a period',
    description:
      'Members who held both permissions of a pair at once, with the overlap clipped to [from, to). `pairs` (repeatable) is written `permission[=level|level]+permission[=level]`; the default pairs are billing+identity_access and identity_access+user_management at `manage`.',
    schema: SodViolationsQuery,
    columns: ['userId', 'pair', 'permissionA', 'levelA', 'permissionB', 'levelB', 'from', 'to', 'durationMs', 'openedByA', 'openedByB'],
    reads: 'access_intervals',
    since: (query) => query.from,
    async run(client, tenantId, orgId, query) {
      const violations = await sodViolations(client, tenantId, orgId, query);
      return { json: { orgId, from: query.from, to: query.to, violations }, rows: violations };
    },
  }),
  report({
    name: 'orphaned-api-keys',
    summary: 'Active API keys whose creator has left (R53)',
    description: 'Keys created and not revoked by `at` (default now) whose creator was removed — or, with `includeSuspended=true`, suspended (R33).',
    schema: OrphanedApiKeysQuery.omit({ orgId: true }),
    columns: ['orgId', 'workspaceId', 'apiKeyId', 'name', 'createdBy', 'createdAt', 'createdByEvent', 'creatorStatus', 'creatorLeftAt', 'creatorLeftEvent'],
    reads: 'audit_events',
    since: (query, now) => query.at ?? now,
    async run(client, tenantId, orgId, query) {
      const at = query.at ?? new Date().toISOString();
      const keys = await orphanedApiKeys(client, tenantId, { ...query, at, orgId });
      return { json: { orgId, at, keys }, rows: keys };
    },
  }),
  report({
    name: 'custom-without-group',
    summary: '`custom` members in no group (R6)',
    description: 'Members with the `custom` role who belong to no (undeleted) group at `at` (default now): they have no capability at all.',
    schema: CustomMembersWithoutGroupQuery.omit({ orgId: true }),
    columns: ['orgId', 'userId', 'status', 'customSince', 'roleEvent'],
    reads: 'audit_events',
    since: (query, now) => query.at ?? now,
    async run(client, tenantId, orgId, query) {
      const at = query.at ?? new Date().toISOString();
      const members = await customMembersWithoutGroup(client, tenantId, { ...query, at, orgId });
      return { json: { orgId, at, members }, rows: members };
    },
  }),
];

/** Rows sorted by key (as the queries return them) grouped into one entry per key, in order. */
function groupBy<R, K, G>(rows: readonly R[], key: (row: R) => K, group: (key: K, rows: R[]) => G): G[] {
  const groups: G[] = [];
  let current: { key: K; rows: R[] } | undefined;
  for (const row of rows) {
    if (!current || current.key !== key(row)) {
      if (current) groups.push(group(current.key, current.rows));
      current = { key: key(row), rows: [] };
    }
    current.rows.push(row);
  }
  if (current) groups.push(group(current.key, current.rows));
  return groups;
}

export function reportNamed(name: string): ReportDefinition | undefined {
  return REPORTS.find((r) => r.name === name);
}

export interface ParsedReportRequest {
  readonly orgId: string;
  readonly format: ReportFormat;
  readonly query: unknown;
  /** Read your writes: the store position the report's table must hold first (freshness.ts). */
  readonly minPosition: number | undefined;
}

/**
 * Validates the organization, `format` and the report's own parameters together, so a 400 lists every failing
 * field at once (InvalidInputError → problem+json).
 */
export function parseReportRequest(definition: ReportDefinition, orgId: string, raw: Record<string, unknown>): ParsedReportRequest {
  const { format, ...others } = raw;
  const { minPosition, rest, errors: positionErrors } = takeMinPosition(others);
  const org = Id.safeParse(orgId);
  const fmt = ReportFormat.safeParse(format);
  const query = definition.schema.safeParse(rest);
  const jsonOnly = fmt.success && fmt.data === 'csv' ? (definition.jsonOnly ?? []).filter((name) => rest[name] !== undefined) : [];
  const errors = [
    ...(org.success ? [] : issuesOf(org.error).map((e) => ({ ...e, path: 'orgId' }))),
    ...(fmt.success ? [] : issuesOf(fmt.error).map((e) => ({ ...e, path: 'format' }))),
    ...jsonOnly.map((name) => ({ path: name, message: `pages the JSON form only; the CSV form is always the complete report (leave out ${name})` })),
    ...(query.success ? [] : issuesOf(query.error, [...acceptedKeys(definition.schema), 'format', 'minPosition'])),
    ...positionErrors,
  ];
  if (errors.length > 0 || !org.success || !fmt.success || !query.success) throw new InvalidInputError(errors);
  return { orgId: org.data, format: fmt.data, query: query.data, minPosition };
}

/** The audit search's query (`GET …/audit/events`, `ledger report audit`) and its `minPosition`, every failing field listed. */
export function parseAuditSearchRequest(raw: Record<string, unknown>): { query: z.output<typeof AuditSearchQuery>; minPosition: number | undefined } {
  const { minPosition, rest, errors } = takeMinPosition(raw);
  const parsed = AuditSearchQuery.safeParse(rest);
  if (!parsed.success || errors.length > 0)
    throw new InvalidInputError([...(parsed.success ? [] : issuesOf(parsed.error, [...acceptedKeys(AuditSearchQuery), 'minPosition'])), ...errors]);
  return { query: parsed.data, minPosition };
}

export interface RenderedReport {
  readonly contentType: string;
  /** JSON, CSV text, or a CSV stream (`csv` of the definition). */
  readonly body: string | Record<string, unknown> | Readable;
}

export async function runReport(
  client: ClickHouseClient,
  tenantId: string,
  definition: ReportDefinition,
  request: ParsedReportRequest,
): Promise<RenderedReport> {
  if (request.format === 'csv' && definition.csv)
    return { contentType: 'text/csv; charset=utf-8', body: await definition.csv(client, tenantId, request.orgId, request.query as never) };
  const answer = await definition.run(client, tenantId, request.orgId, request.query as never);
  if (request.format === 'csv')
    return { contentType: 'text/csv; charset=utf-8', body: toCsv(answer.rows as readonly Record<string, unknown>[], definition.columns) };
  return { contentType: 'application/json; charset=utf-8', body: answer.json };
}

/**
 * The permissions and levels a report names must be ones the organization can hold: `permission` (+ `levels`) of
 * holders-during, and both sides of every SoD pair (`pairs`) — a misspelt one would be an empty, reassuring report.
 */
/** The first instant a parsed report request asks about (`now` for a report at the default instant). */
export function reportSince(definition: ReportDefinition, request: ParsedReportRequest, now = new Date().toISOString()): string {
  return definition.since(request.query as never, now);
}

/** What answers which organizations and permissions exist (the access projection: KNOWN_ORGANIZATIONS). */
export interface KnownOrganizationsLike {
  requirePermission(tenantId: string, orgId: string, permission: string, path?: string, levels?: readonly string[]): Promise<void>;
}

export async function requireKnownPermissions(
  orgs: Pick<KnownOrganizationsLike, 'requirePermission'>,
  tenantId: string,
  request: ParsedReportRequest,
): Promise<void> {
  const query = request.query as {
    permission?: unknown;
    levels?: readonly string[];
    pairs?: readonly (readonly { permission: string; levels: readonly string[] }[])[];
  };
  if (typeof query.permission === 'string') await orgs.requirePermission(tenantId, request.orgId, query.permission, 'permission', query.levels ?? []);
  for (const pair of query.pairs ?? []) for (const side of pair) await orgs.requirePermission(tenantId, request.orgId, side.permission, 'pairs', side.levels);
}
