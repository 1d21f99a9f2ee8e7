import type { ClickHouseClient } from '@clickhouse/client';
import { z } from 'zod';
import { effectiveIntervals } from './effective-intervals.js';
import { durationMs, overPeriod } from './report-inputs.js';

/**
 * Segregation-of-duties violations over time: for each configured pair of permissions, every member who held
 * both at once, with the overlap clipped to [from, to). A side is written `permission` or `permission=level|level`
 * (e.g. `admin:billing=manage`); without levels, any level counts.
 */
const Side = z
  .string()
  .min(1)
  .max(300)
  .transform((text) => {
    const [permission, levels] = text.split('=', 2) as [string, string | undefined];
    return { permission, levels: levels ? levels.split('|').filter((l) => l.length > 0) : [] };
  });

export const SodPair = z.union([
  z.tuple([Side, Side]),
  z.string().transform((text, ctx) => {
    const sides = text.split('+');
    if (sides.length !== 2) {
      ctx.addIssue({ code: 'custom', message: 'a pair is written "permission[=levels]+permission[=levels]"' });
      return z.NEVER;
    }
    return [Side.parse(sides[0]), Side.parse(sides[1])] as const;
  }),
]);

export const DEFAULT_SOD_PAIRS = ['admin:billing=manage+admin:identity_access=manage', 'admin:identity_access=manage+admin:user_management=manage'];

export const SodViolationsQuery = overPeriod({
  pairs: z.union([z.array(SodPair).min(1).max(20), SodPair.transform((p) => [p])]).default(() => DEFAULT_SOD_PAIRS.map((p) => SodPair.parse(p))),
});
export type SodViolationsQuery = z.output<typeof SodViolationsQuery>;

export interface SodViolation {
  readonly userId: string;
  readonly pair: string;
  readonly permissionA: string;
  readonly levelA: string;
  readonly permissionB: string;
  readonly levelB: string;
  readonly from: string;
  /** End of the overlap, clipped to the period. */
  readonly to: string;
  readonly durationMs: number;
  readonly openedByA: string;
  readonly openedByB: string;
}

export async function sodViolations(client: ClickHouseClient, tenantId: string, orgId: string, query: SodViolationsQuery): Promise<SodViolation[]> {
  const violations: SodViolation[] = [];
  for (const [a, b] of query.pairs) {
    const pair = `${a.permission}${a.levels.length ? '=' + a.levels.join('|') : ''}+${b.permission}${b.levels.length ? '=' + b.levels.join('|') : ''}`;
    const result = await client.query({
      query: `
        WITH parseDateTime64BestEffort({from:String}, 3, 'UTC') AS p_from, parseDateTime64BestEffort({to:String}, 3, 'UTC') AS p_to
        SELECT a.user_id AS userId, a.permission AS permissionA, a.level AS levelA, b.permission AS permissionB, b.level AS levelB,
               greatest(a.valid_from, b.valid_from, p_from) AS from, least(a.valid_to, b.valid_to, p_to) AS to,
               a.opened_by AS openedByA, b.opened_by AS openedByB
        FROM (
          SELECT user_id, permission, level, valid_from, valid_to, opened_by FROM ${effectiveIntervals('permission = {pa:String}')}
          WHERE tenant_id = {tenantId:String} AND org_id = {orgId:String} AND permission = {pa:String} AND NOT is_deleted
            AND (empty({la:Array(String)}) OR has({la:Array(String)}, level)) AND valid_from < p_to AND valid_to > p_from
        ) AS a
        INNER JOIN (
          SELECT user_id, permission, level, valid_from, valid_to, opened_by FROM ${effectiveIntervals('permission = {pb:String}')}
          WHERE tenant_id = {tenantId:String} AND org_id = {orgId:String} AND permission = {pb:String} AND NOT is_deleted
            AND (empty({lb:Array(String)}) OR has({lb:Array(String)}, level)) AND valid_from < p_to AND valid_to > p_from
        ) AS b ON a.user_id = b.user_id
        WHERE a.valid_from < b.valid_to AND b.valid_from < a.valid_to AND greatest(a.valid_from, b.valid_from, p_from) < least(a.valid_to, b.valid_to, p_to)
        ORDER BY userId, from`,
      query_params: { tenantId, orgId, from: query.from, to: query.to, pa: a.permission, la: a.levels, pb: b.permission, lb: b.levels },
      format: 'JSONEachRow',
    });
    for (const row of await result.json<Omit<SodViolation, 'pair' | 'durationMs'>>()) {
      violations.push({ ...row, pair, durationMs: durationMs(row.from, row.to) });
    }
  }
  return violations.sort((x, y) => x.from.localeCompare(y.from) || x.userId.localeCompare(y.userId) || x.pair.localeCompare(y.pair));
}
