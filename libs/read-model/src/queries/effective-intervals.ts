/**
 * Access profiles in `access_intervals` (docs/access-intervals.md § Access profiles): a member whose tools are the
 * organization's policy (R4, R16, R11) holds one row `ORG_TOOLS_PERMISSION` while that is so, and the organization's
 * tool levels are stored once, as the rows of the pseudo-member `ORG_TOOLS_USER` — an organization-wide tool policy
 * change is one change of the profile, not one per member. Every report reads `effectiveIntervals()` instead of the
 * table: the stored rows of real permissions, plus the intersection of each member's profile intervals with the
 * profile's tool intervals — exactly the member × tool rows the table held before.
 */
export const ORG_TOOLS_USER = '*org-tools';
export const ORG_TOOLS_PERMISSION = 'tools:org-policy';

/**
 * A subquery (use it where `access_intervals FINAL` stood) with the columns `tenant_id, org_id, user_id, permission,
 * level, valid_from, valid_to, opened_by, closed_by, is_deleted` (is_deleted always 0) of one organization
 * (`{tenantId:String}`, `{orgId:String}` parameters). `toolFilter` (SQL over `permission`, `level`, `valid_from`,
 * `valid_to`) narrows the profile's tool rows before the join, e.g. to one tool or to a period. An interval derived
 * from both is opened by whichever of the two started later and closed by whichever ended first.
 */
export function effectiveIntervals(toolFilter = '1'): string {
  const of = `tenant_id = {tenantId:String} AND org_id = {orgId:String} AND NOT is_deleted`;
  return `(
    SELECT tenant_id, org_id, user_id, permission, level, valid_from, valid_to, opened_by, closed_by, is_deleted
    FROM access_intervals FINAL
    WHERE ${of} AND user_id != '${ORG_TOOLS_USER}' AND permission != '${ORG_TOOLS_PERMISSION}'
    UNION ALL
    SELECT mi_tenant, mi_org, mi_user, ti_permission, ti_level,
           greatest(mi_from, ti_from), least(mi_to, ti_to),
           if(ti_from > mi_from, ti_opened, mi_opened), if(ti_to < mi_to, ti_closed, mi_closed), toUInt8(0)
    FROM (
      SELECT tenant_id AS mi_tenant, org_id AS mi_org, user_id AS mi_user, valid_from AS mi_from, valid_to AS mi_to, opened_by AS mi_opened, closed_by AS mi_closed
      FROM access_intervals FINAL
      WHERE ${of} AND permission = '${ORG_TOOLS_PERMISSION}'
    ) AS mi
    INNER JOIN (
      SELECT org_id AS ti_org, permission AS ti_permission, level AS ti_level, valid_from AS ti_from, valid_to AS ti_to, opened_by AS ti_opened, closed_by AS ti_closed
      FROM access_intervals FINAL
      WHERE ${of} AND user_id = '${ORG_TOOLS_USER}' AND (${toolFilter})
    ) AS ti ON mi.mi_org = ti.ti_org
    WHERE ti_from < mi_to AND mi_from < ti_to
  )`;
}
