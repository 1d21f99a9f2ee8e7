/**
 * Access profiles in `access_intervals` (docs/access-intervals.md § Access profiles): what many members hold in the
 * same way is stored once per organization, as the rows of a pseudo-member, and each member who follows it holds one
 * row naming the profile while that is so — an organization-wide change is one change of the profile, not one per
 * member:
 *
 * - `tools:org-policy` → `*org-tools`: the organization's tool policy (R4, R16, R11), its `tool:*` rows;
 * - `capabilities:org` → `*org-capabilities`: an active full member's capabilities, every available one (R4, R1, R2);
 * - `capabilities:org-chat-seat` → `*org-capabilities-chat-seat`: the same on a chat seat of a dual-seat plan,
 *   without claude_code (R8);
 * - `spend:org-ceiling` → `*org-spend`: the spend limit of a member without a limit of their own or of a group, the
 *   organization's ceiling (R43), its `spend` row;
 * - `tools:role-set` (level: the set's role ids, sorted, comma-separated) → `*role-set:<that level>`: the tools of a
 *   custom member of an organization with connector permissions enabled, which follow their roles alone (R14–R16):
 *   one pseudo-member per set of roles some member (ever) held, its `tool:*` rows.
 *
 * Every report reads `effectiveIntervals()` instead of the table: the stored rows of real members and permissions,
 * plus the intersection of each member's profile intervals with the profile's intervals — exactly the rows the
 * table would hold without profiles.
 */
export const ORG_TOOLS_USER = '*org-tools';
export const ORG_TOOLS_PERMISSION = 'tools:org-policy';
export const ORG_CAPABILITIES_USER = '*org-capabilities';
export const ORG_CAPABILITIES_PERMISSION = 'capabilities:org';
export const ORG_CHAT_SEAT_CAPABILITIES_USER = '*org-capabilities-chat-seat';
export const ORG_CHAT_SEAT_CAPABILITIES_PERMISSION = 'capabilities:org-chat-seat';
export const ORG_SPEND_USER = '*org-spend';
export const ORG_SPEND_PERMISSION = 'spend:org-ceiling';

/** Each profile: the row a member who follows it holds, and the pseudo-member whose rows it stands for. */
export const ACCESS_PROFILES: readonly { readonly permission: string; readonly user: string }[] = [
  { permission: ORG_TOOLS_PERMISSION, user: ORG_TOOLS_USER },
  { permission: ORG_CAPABILITIES_PERMISSION, user: ORG_CAPABILITIES_USER },
  { permission: ORG_CHAT_SEAT_CAPABILITIES_PERMISSION, user: ORG_CHAT_SEAT_CAPABILITIES_USER },
  { permission: ORG_SPEND_PERMISSION, user: ORG_SPEND_USER },
];

/**
 * The role-set profile: unlike the others, one pseudo-member per set of roles, named by the member's row's level
 * (role ids never contain ',' or '*': [A-Za-z0-9._:@-]).
 */
export const ROLE_SET_PERMISSION = 'tools:role-set';
export const ROLE_SET_USER_PREFIX = '*role-set:';
/** The pseudo-member of a set of roles (sorted, distinct role ids; the level of its members' ROLE_SET_PERMISSION). */
export const roleSetUser = (roleSet: string): string => `${ROLE_SET_USER_PREFIX}${roleSet}`;
/** The set of roles as a member's row names it: distinct, sorted, comma-separated. */
export const roleSetOf = (roleIds: Iterable<string>): string => [...new Set(roleIds)].sort().join(',');

/** A pseudo-member's id starts with `*`, which no real id has ([A-Za-z0-9._:@-]). */
export const isProfileUser = (userId: string): boolean => userId.startsWith('*');
/** The same test in SQL, over a `user_id` column: a row of a pseudo-member. */
export const PROFILE_USER_SQL = "startsWith(user_id, '*')";

const sqlList = (values: readonly string[]) => `[${values.map((v) => `'${v}'`).join(', ')}]`;
/** Every permission of a member's profile rows (the fixed profiles and the role set). */
const PROFILE_PERMISSIONS = sqlList([...ACCESS_PROFILES.map((p) => p.permission), ROLE_SET_PERMISSION]);
const FIXED_PROFILE_PERMISSIONS = sqlList(ACCESS_PROFILES.map((p) => p.permission));
const PROFILE_USERS = sqlList(ACCESS_PROFILES.map((p) => p.user));

/** The pseudo-member a member's profile row follows (over `permission`, `level`); '' for any other row. */
const MEMBER_PROFILE_SQL = `if(permission = '${ROLE_SET_PERMISSION}', concat('${ROLE_SET_USER_PREFIX}', level), transform(permission, ${FIXED_PROFILE_PERMISSIONS}, ${PROFILE_USERS}, ''))`;

/**
 * The latest version of each interval of one organization among the stored rows matching `keyWhere` — what
 * `access_intervals FINAL` reads, with columns `user_id, permission, valid_from, opened_by, level, valid_to,
 * closed_by, is_deleted` — computed over those rows alone. `keyWhere` may name only columns of the table's key
 * (user_id, permission, valid_from, opened_by): every version of an interval has the same key, so it keeps all of an
 * interval's versions or none, and the latest among them is the one FINAL keeps (versions only grow; a repeated
 * version is a repeated insert of the same row). FINAL merges every part's rows of the organization whatever the
 * condition (the sort key puts the permission before the user, and an organization's rows fit in a few dozen
 * granules), so for a page of members this reads the same granules and merges ≈ 10× fewer rows.
 */
function latestIntervals(keyWhere: string): string {
  return `(
    SELECT user_id, permission, valid_from, opened_by, latest.1 AS level, latest.2 AS valid_to, latest.3 AS closed_by, latest.4 AS is_deleted
    FROM (
      SELECT user_id, permission, valid_from, opened_by, argMax((level, valid_to, closed_by, is_deleted), version) AS latest
      FROM access_intervals
      WHERE tenant_id = {tenantId:String} AND org_id = {orgId:String} AND (${keyWhere})
      GROUP BY user_id, permission, valid_from, opened_by
    )
  )`;
}

/**
 * What `{members:Array(String)}` of one organization held at the instant `at` (SQL of a DateTime64), as
 * `effectiveIntervals()` answers it — `user_id, permission, level, valid_from, valid_to, opened_by` — read through
 * `latestIntervals`: the members' stored rows, and their profile rows joined with the profiles' rows at `at`.
 */
export function effectiveIntervalsOfMembersAt(at: string): string {
  const of = (keyWhere: string) => `${latestIntervals(`valid_from <= ${at} AND ${keyWhere}`)} WHERE NOT is_deleted AND valid_to > ${at}`;
  return `(
    SELECT user_id, permission, level, valid_from, valid_to, opened_by
    FROM ${of(`user_id IN {members:Array(String)} AND NOT has(${PROFILE_PERMISSIONS}, permission)`)}
    UNION ALL
    SELECT mi_user, ti_permission, ti_level, greatest(mi_from, ti_from), least(mi_to, ti_to), if(ti_from > mi_from, ti_opened, mi_opened)
    FROM (
      SELECT user_id AS mi_user, ${MEMBER_PROFILE_SQL} AS mi_profile, valid_from AS mi_from, valid_to AS mi_to, opened_by AS mi_opened
      FROM ${of(`user_id IN {members:Array(String)} AND has(${PROFILE_PERMISSIONS}, permission)`)}
    ) AS mi
    INNER JOIN (
      SELECT user_id AS ti_user, permission AS ti_permission, level AS ti_level, valid_from AS ti_from, valid_to AS ti_to, opened_by AS ti_opened
      FROM ${of(PROFILE_USER_SQL)}
    ) AS ti ON mi.mi_profile = ti.ti_user
  )`;
}

/**
 * Which of the users `ids` (SQL of an Array(String)) hold a stored row of one organization at the instant `at` (SQL of
 * a DateTime64), judged by the rows' latest versions (`latestIntervals`); the profiles' pseudo-members never.
 */
export function membersHoldingAt(at: string, ids: string): string {
  return `(
    SELECT DISTINCT user_id
    FROM ${latestIntervals(`valid_from <= ${at} AND user_id IN ${ids} AND NOT ${PROFILE_USER_SQL}`)}
    WHERE NOT is_deleted AND valid_to > ${at}
  )`;
}

/**
 * A subquery (use it where `access_intervals FINAL` stood) with the columns `tenant_id, org_id, user_id, permission,
 * level, valid_from, valid_to, opened_by, closed_by, is_deleted` (is_deleted always 0) of one organization
 * (`{tenantId:String}`, `{orgId:String}` parameters). `toolFilter` (SQL over `permission`, `level`, `valid_from`,
 * `valid_to`) narrows the profiles' rows (tools, capabilities, the ceiling) before the join, e.g. to one permission
 * or to a period. An interval derived from both is opened by whichever of the two started later and closed by
 * whichever ended first.
 */
export function effectiveIntervals(toolFilter = '1'): string {
  const of = `tenant_id = {tenantId:String} AND org_id = {orgId:String} AND NOT is_deleted`;
  return `(
    SELECT tenant_id, org_id, user_id, permission, level, valid_from, valid_to, opened_by, closed_by, is_deleted
    FROM access_intervals FINAL
    WHERE ${of} AND NOT ${PROFILE_USER_SQL} AND NOT has(${PROFILE_PERMISSIONS}, permission)
    UNION ALL
    SELECT mi_tenant, mi_org, mi_user, ti_permission, ti_level,
           greatest(mi_from, ti_from), least(mi_to, ti_to),
           if(ti_from > mi_from, ti_opened, mi_opened), if(ti_to < mi_to, ti_closed, mi_closed), toUInt8(0)
    FROM (
      SELECT tenant_id AS mi_tenant, org_id AS mi_org, user_id AS mi_user, ${MEMBER_PROFILE_SQL} AS mi_profile,
             valid_from AS mi_from, valid_to AS mi_to, opened_by AS mi_opened, closed_by AS mi_closed
      FROM access_intervals FINAL
      WHERE ${of} AND has(${PROFILE_PERMISSIONS}, permission)
    ) AS mi
    INNER JOIN (
      SELECT org_id AS ti_org, user_id AS ti_user, permission AS ti_permission, level AS ti_level, valid_from AS ti_from, valid_to AS ti_to,
             opened_by AS ti_opened, closed_by AS ti_closed
      FROM access_intervals FINAL
      WHERE ${of} AND (has(${PROFILE_USERS}, user_id) OR startsWith(user_id, '${ROLE_SET_USER_PREFIX}')) AND (${toolFilter})
    ) AS ti ON mi.mi_org = ti.ti_org AND mi.mi_profile = ti.ti_user
    WHERE ti_from < mi_to AND mi_from < ti_to
  )`;
}
