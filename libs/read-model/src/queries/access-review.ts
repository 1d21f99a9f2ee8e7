import type { ClickHouseClient } from '@clickhouse/client';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { OPEN_END } from '../schema/migrations.js';
import { csvHeader, csvLineSql, isoInstantSql } from './csv.js';
import { effectiveIntervals, effectiveIntervalsOfMembersAt, membersHoldingAt, PROFILE_USER_SQL } from './effective-intervals.js';
import { Id, InstantParam, openEndToNull } from './report-inputs.js';

/**
 * Access review at an instant (GET /v1/tenants/{t}/orgs/{o}/reports/access-review?at=): every member's
 * permissions whose interval contains `at` (valid_from <= at < valid_to), with the event that granted each.
 *
 * An organization's review is every member × every permission they hold — on the benchmark history ≈ 1.8 million
 * rows for one organization, most of them tools derived from the organization's tool profile at query time. So the
 * JSON form is paged by member (`limit` members after `cursor`): the page's members are chosen first, and only
 * their intervals are read and joined with the profile. The CSV form is the complete review, streamed page after
 * page of members as ClickHouse formats it, never held whole in memory.
 */
const CursorPayload = z.object({ u: z.string().min(1).max(512) }).strict();

export function encodeReviewCursor(lastUserId: string): string {
  return Buffer.from(JSON.stringify({ u: lastUserId })).toString('base64url');
}

function decodeReviewCursor(text: string): string | undefined {
  try {
    const parsed = CursorPayload.safeParse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data.u : undefined;
  } catch {
    return undefined; // not base64url JSON: the schema answers "is not a cursor this API returned"
  }
}

export const REVIEW_PAGE_DEFAULT = 200;
export const REVIEW_PAGE_MAX = 1000;

export const AccessReviewQuery = z
  .object({
    at: InstantParam.optional(),
    userId: Id.optional(),
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(REVIEW_PAGE_MAX)
      .default(REVIEW_PAGE_DEFAULT)
      .describe(`Members per page of the JSON form (1–${REVIEW_PAGE_MAX}, default ${REVIEW_PAGE_DEFAULT}); the CSV form is always complete`),
    cursor: z
      .string()
      .max(1024)
      .transform((text, ctx) => {
        const userId = decodeReviewCursor(text);
        if (userId === undefined) ctx.addIssue({ code: 'custom', message: 'is not a cursor this API returned' });
        return userId ?? z.NEVER;
      })
      .optional()
      .describe('The `nextCursor` of the previous page (JSON form): the members after it'),
    format: z.enum(['json', 'csv']).default('json'),
  })
  .strict();
export type AccessReviewQuery = z.output<typeof AccessReviewQuery>;

/** What selects the rows of a review: the instant (default now) and, optionally, one member. */
export interface AccessReviewScope {
  readonly at?: string | undefined;
  readonly userId?: string | undefined;
}

export interface AccessReviewRow {
  readonly userId: string;
  readonly permission: string;
  readonly level: string;
  readonly since: string;
  readonly grantedBy: string;
  /** When the interval ends, if it already ended after `at` (a review of the past); null if still open. */
  readonly until: string | null;
}

export interface AccessReviewPermission {
  readonly permission: string;
  readonly level: string;
  readonly since: string;
  readonly grantedBy: string;
  readonly until: string | null;
}

export interface AccessReviewMember {
  readonly userId: string;
  readonly permissions: AccessReviewPermission[];
}

export interface AccessReviewPage {
  readonly at: string;
  readonly members: AccessReviewMember[];
  /** Pass as `cursor` for the members after this page; null on the last page. */
  readonly nextCursor: string | null;
}

export const ACCESS_REVIEW_COLUMNS = ['userId', 'permission', 'level', 'since', 'grantedBy', 'until'] as const;

const AT = "parseDateTime64BestEffort({at:String}, 3, 'UTC')";
/** The rows a page's members (`{members:Array(String)}`) hold at `{at:String}`, the profiles' tools derived. */
const HELD_AT = effectiveIntervalsOfMembersAt(AT);

/** The page's rows, for a test that checks ClickHouse narrows both sides of the profile join to the page's members. */
export const HELD_AT_SQL_FOR_TESTS = HELD_AT;

/**
 * The members of a page: up to `count` user ids (all when 0) after `after`, in order, among those holding a stored row at `at`
 * (the access profiles' pseudo-members, whose ids start with `*`, excluded). A member whose rows all turn out to derive nothing (a profile
 * row while the organization's profile holds no tool) is in the page but has no row in the answer, as in the
 * unpaged review.
 *
 * In two steps, each cheaper than one read with FINAL (which merges every row of the organization): the users with a
 * stored version of a row open at `at`, in order — a superset, since the latest version of a row is one of its
 * versions — then which of them the rows' latest versions confirm (`membersHoldingAt`); again after the last
 * candidate while the page is not full.
 */
async function membersAt(
  client: ClickHouseClient,
  tenantId: string,
  orgId: string,
  scope: { at: string; userId: string; after: string },
  count: number,
): Promise<string[]> {
  const found: string[] = [];
  for (let after = scope.after; ; ) {
    // Twice what is missing (on the benchmark history about one candidate in five is a member no longer); for every
    // member, rounds of a few thousand, each checked in one query.
    const want = count > 0 ? 2 * (count - found.length) : 4000;
    const candidates = await client.query({
      query: `
        SELECT DISTINCT user_id AS userId
        FROM access_intervals
        WHERE tenant_id = {tenantId:String} AND org_id = {orgId:String} AND NOT is_deleted AND NOT ${PROFILE_USER_SQL}
          AND ({userId:String} = '' OR user_id = {userId:String}) AND user_id > {after:String}
          AND valid_from <= ${AT} AND valid_to > ${AT}
        ORDER BY userId
        LIMIT {want:UInt32}`,
      query_params: { tenantId, orgId, at: scope.at, userId: scope.userId, after, want },
      format: 'JSONCompactEachRow',
    });
    const ids = (await candidates.json<[string]>()).map((row) => row[0]);
    if (ids.length === 0) return found;
    const confirmed = await client.query({
      query: `SELECT user_id FROM ${membersHoldingAt(AT, '{ids:Array(String)}')} ORDER BY user_id`,
      query_params: { tenantId, orgId, at: scope.at, ids },
      format: 'JSONCompactEachRow',
    });
    for (const [userId] of await confirmed.json<[string]>()) found.push(userId);
    if (count > 0 && found.length >= count) return found.slice(0, count);
    if (ids.length < want) return found;
    after = ids[ids.length - 1]!;
  }
}

/**
 * One page of the review, grouped per member by ClickHouse: `query.limit` members after `query.cursor`, each with
 * every permission held at `at` (sorted by permission, then since).
 */
export async function accessReviewPage(
  client: ClickHouseClient,
  tenantId: string,
  orgId: string,
  query: AccessReviewScope & { readonly limit: number; readonly cursor?: string | undefined },
): Promise<AccessReviewPage> {
  const at = query.at ?? new Date().toISOString();
  const found = await membersAt(client, tenantId, orgId, { at, userId: query.userId ?? '', after: query.cursor ?? '' }, query.limit + 1);
  const members = found.slice(0, query.limit);
  const nextCursor = found.length > query.limit ? encodeReviewCursor(members[members.length - 1]!) : null;
  if (members.length === 0) return { at, members: [], nextCursor };
  // Each member's permissions as the answer's objects (named tuples), `until` null while open, sorted by permission
  // then since: nothing is reshaped in Node.
  const result = await client.query({
    query: `
      SELECT user_id AS userId,
             arraySort(p -> (p.1, p.3), groupArray(CAST(
               (permission, level, valid_from, opened_by, if(valid_to = parseDateTime64BestEffort('${OPEN_END}', 3, 'UTC'), NULL, valid_to)),
               'Tuple(permission String, level String, since DateTime64(3, \\'UTC\\'), grantedBy String, until Nullable(DateTime64(3, \\'UTC\\')))'
             ))) AS permissions
      FROM ${HELD_AT}
      GROUP BY user_id
      ORDER BY userId`,
    query_params: { tenantId, orgId, at, members },
    format: 'JSONEachRow',
    clickhouse_settings: { output_format_json_named_tuples_as_objects: 1 },
  });
  return {
    at,
    members: await result.json<AccessReviewMember>(),
    nextCursor,
  };
}

/**
 * Every row of the review in one answer (userId, permission, since order). For a small organization or one member;
 * the routes answer pages (`accessReviewPage`) and stream the CSV (`accessReviewCsv`).
 */
export async function accessReviewRows(client: ClickHouseClient, tenantId: string, orgId: string, query: AccessReviewScope): Promise<AccessReviewRow[]> {
  const at = query.at ?? new Date().toISOString();
  const result = await client.query({
    query: `
      SELECT user_id AS userId, permission, level, valid_from AS since, opened_by AS grantedBy, valid_to AS until
      FROM ${effectiveIntervals(`valid_from <= ${AT} AND valid_to > ${AT}`)}
      WHERE tenant_id = {tenantId:String} AND org_id = {orgId:String} AND NOT is_deleted
        AND ({userId:String} = '' OR user_id = {userId:String})
        AND valid_from <= ${AT} AND valid_to > ${AT}
      ORDER BY userId, permission, since`,
    query_params: { tenantId, orgId, at, userId: query.userId ?? '' },
    format: 'JSONEachRow',
  });
  const rows = await result.json<AccessReviewRow & { until: string }>();
  return rows.map((row) => ({ ...row, until: openEndToNull(row.until) }));
}

/** The same rows grouped per member, in one answer (see `accessReviewRows`). */
export async function accessReview(client: ClickHouseClient, tenantId: string, orgId: string, query: AccessReviewScope): Promise<AccessReviewMember[]> {
  const members: AccessReviewMember[] = [];
  for (const row of await accessReviewRows(client, tenantId, orgId, query)) {
    let member = members[members.length - 1];
    if (member?.userId !== row.userId) members.push((member = { userId: row.userId, permissions: [] }));
    member.permissions.push({ permission: row.permission, level: row.level, since: row.since, grantedBy: row.grantedBy, until: row.until });
  }
  return members;
}

/** Members per query of the CSV stream: bounds what one query holds (on the benchmark history ≈ 290 rows, 33 KB of CSV per member). */
export const REVIEW_CSV_MEMBERS_PER_QUERY = 500;

/**
 * The complete review as CSV (RFC 4180, the same bytes `toCsv` writes for `accessReviewRows`), streamed: the
 * header, then for each run of `membersPerQuery` members the lines ClickHouse formats (cells quoted and formulas
 * guarded in SQL), passed on as they arrive. At most one run's answer is in memory at a time (with chDB, which
 * hands over a whole answer at once; a server streams it), plus the members' ids. The ids are read before this
 * returns, so a read model that cannot answer fails the request instead of a stream already under way.
 *
 * Each run is its own read: a row the projection rewrites between two runs (a late event, R61) is read as it is
 * when its run is read.
 */
export async function accessReviewCsv(
  client: ClickHouseClient,
  tenantId: string,
  orgId: string,
  query: AccessReviewScope,
  membersPerQuery = REVIEW_CSV_MEMBERS_PER_QUERY,
): Promise<Readable> {
  const at = query.at ?? new Date().toISOString();
  const userId = query.userId ?? '';
  const line = csvLineSql([
    { sql: 'user_id', text: true },
    { sql: 'permission', text: true },
    { sql: 'level', text: true },
    { sql: isoInstantSql('valid_from') },
    { sql: 'opened_by', text: true },
    { sql: `if(valid_to = parseDateTime64BestEffort('${OPEN_END}', 3, 'UTC'), '', ${isoInstantSql('valid_to')})` },
  ]);
  const sql = `SELECT ${line} FROM ${HELD_AT} ORDER BY user_id, permission, valid_from FORMAT TabSeparatedRaw`;
  // Every member's id first (one query; a few bytes each), then their rows run after run.
  const members = await membersAt(client, tenantId, orgId, { at, userId, after: '' }, 0);
  async function* lines(): AsyncGenerator<Buffer | string> {
    yield csvHeader(ACCESS_REVIEW_COLUMNS);
    for (let from = 0; from < members.length; from += membersPerQuery) {
      const run = members.slice(from, from + membersPerQuery);
      const { stream } = await client.exec({ query: sql, query_params: { tenantId, orgId, at, members: run } });
      for await (const chunk of stream) yield chunk as Buffer;
    }
  }
  return Readable.from(lines(), { objectMode: false });
}
