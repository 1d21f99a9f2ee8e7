import type { ClickHouseClient } from '@clickhouse/client';
import { insertRows } from '../clickhouse.js';
import { OPEN_END } from '../schema/migrations.js';
import { ROLE_SET_PERMISSION } from '../queries/effective-intervals.js';

/**
 * A change in what a member holds, as the evaluator reports it: at `at` (occurredAt of `eventId`) the member
 * started (`open`) or stopped (`close`) holding `permission` at `level`.
 * Permissions: 'capability:<c>', 'tool:<connectorId>/<toolName>', 'admin:<area>', 'role:<builtInRole>',
 * 'console:<role>', 'workspace:<workspaceId>:<role>' — any string; reports match them exactly.
 */
export interface AccessIntervalChange {
  readonly tenantId: string;
  readonly orgId: string;
  readonly userId: string;
  readonly permission: string;
  readonly level: string;
  readonly at: string;
  readonly eventId: string;
  readonly kind: 'open' | 'close';
}

export interface AccessIntervalRow {
  readonly tenant_id: string;
  readonly org_id: string;
  readonly user_id: string;
  readonly permission: string;
  readonly level: string;
  readonly valid_from: string;
  readonly valid_to: string;
  readonly opened_by: string;
  readonly closed_by: string;
  readonly version: number;
}

/** As stored: a tombstone (is_deleted = 1) is the latest version of an interval that must no longer exist. */
type StoredRow = AccessIntervalRow & { readonly is_deleted: 0 | 1 };

/**
 * Which permissions a rewrite covers: those named exactly, and those starting with one of the prefixes
 * (`tool:jira/` for a connector's tools; `''` for every permission).
 */
export interface PermissionScope {
  readonly names: readonly string[];
  readonly prefixes: readonly string[];
}

/**
 * The exact intervals of some members' permissions from a late event on (R61), as the evaluator gives them over the
 * corrected history. `changes` start at the late event (`from`, its occurredAt) and run to the present, in
 * (occurredAt, position) order, as if every event from it on were projected again for those members; what they held
 * just before it is what the table holds then.
 */
export interface IntervalRewrite {
  readonly tenantId: string;
  readonly members: readonly (readonly [orgId: string, userId: string])[];
  readonly scope: PermissionScope;
  /** The late event's occurredAt (ISO-8601 UTC, ms). */
  readonly from: string;
  /** The events at `from` that precede the late event (lower positions): intervals they opened or closed are before it. */
  readonly eventsBefore: readonly string[];
  readonly changes: readonly AccessIntervalChange[];
}

interface OpenInterval {
  readonly level: string;
  readonly validFrom: string;
  readonly openedBy: string;
}

const keyOf = (c: { tenantId: string; orgId: string; userId: string; permission: string }) => JSON.stringify([c.tenantId, c.orgId, c.userId, c.permission]);

const memberOf = (orgId: string, userId: string) => JSON.stringify([orgId, userId]);

const iso = (instant: string) => new Date(Date.parse(instant)).toISOString();

/** An interval's identity in the table (its ORDER BY key): a row with the same key and a higher version replaces it. */
const rowKeyOf = (r: AccessIntervalRow) => JSON.stringify([r.org_id, r.user_id, r.permission, r.valid_from, r.opened_by]);

/** Members with at most this many user ids are read by id; more (an organization-wide event) by organization. */
const USERS_BY_ID = 200;

/**
 * Writes access intervals. Closing an interval inserts its row again with valid_to/closed_by and a higher version
 * (ReplacingMergeTree keeps the latest), so the writer must know each open interval's key: it loads them once
 * and keeps them in memory (one entry per member × permission currently held).
 *
 * Rules: opening a permission that is already open at the same level is a no-op; at another level it closes the
 * old interval at the same instant (a level change is a close plus an open caused by the same event); closing
 * a permission that is not open is a no-op.
 *
 * A late event (R61) changes the past: `rewrite` replaces some members' intervals from its instant on (rows that
 * must no longer exist get a tombstone, is_deleted = 1, with a higher version). Readers use FINAL and NOT is_deleted.
 */
export class AccessIntervalWriter {
  private open: Map<string, OpenInterval> | undefined;
  private version = 0;

  constructor(private readonly client: ClickHouseClient) {}

  private async load(): Promise<Map<string, OpenInterval>> {
    if (this.open) return this.open;
    const result = await this.client.query({
      query: `SELECT tenant_id, org_id, user_id, permission, level, valid_from, opened_by, version
              FROM access_intervals FINAL WHERE valid_to = parseDateTime64BestEffort({openEnd:String}, 3, 'UTC') AND NOT is_deleted`,
      query_params: { openEnd: OPEN_END },
      format: 'JSONEachRow',
    });
    const open = new Map<string, OpenInterval>();
    for (const row of await result.json<AccessIntervalRow>()) {
      open.set(keyOf({ tenantId: row.tenant_id, orgId: row.org_id, userId: row.user_id, permission: row.permission }), {
        level: row.level,
        validFrom: row.valid_from,
        openedBy: row.opened_by,
      });
      this.version = Math.max(this.version, Number(row.version));
    }
    const [max] = await (await this.client.query({ query: 'SELECT max(version) AS v FROM access_intervals', format: 'JSONEachRow' })).json<{
      v: number | string;
    }>();
    this.version = Math.max(this.version, Number(max?.v ?? 0));
    return (this.open = open);
  }

  /**
   * Applies changes in order and inserts the resulting rows in one insert. Pass `deduplicationToken` (e.g. derived
   * from the event positions the changes came from) to make a replay after a crash a no-op.
   */
  async write(changes: readonly AccessIntervalChange[], options: { deduplicationToken?: string } = {}): Promise<number> {
    const open = await this.load();
    const rows: StoredRow[] = [];
    const nextVersion = () => this.nextVersion();
    const close = (change: AccessIntervalChange, key: string, current: OpenInterval) => {
      rows.push({
        tenant_id: change.tenantId,
        org_id: change.orgId,
        user_id: change.userId,
        permission: change.permission,
        level: current.level,
        valid_from: current.validFrom,
        valid_to: change.at,
        opened_by: current.openedBy,
        closed_by: change.eventId,
        version: nextVersion(),
        is_deleted: 0,
      });
      open.delete(key);
    };
    for (const change of changes) {
      const key = keyOf(change);
      const current = open.get(key);
      if (change.kind === 'close') {
        if (current) close(change, key, current);
        continue;
      }
      if (current?.level === change.level) continue;
      if (current) close(change, key, current);
      rows.push({
        tenant_id: change.tenantId,
        org_id: change.orgId,
        user_id: change.userId,
        permission: change.permission,
        level: change.level,
        valid_from: change.at,
        valid_to: OPEN_END,
        opened_by: change.eventId,
        closed_by: '',
        version: nextVersion(),
        is_deleted: 0,
      });
      open.set(key, { level: change.level, validFrom: change.at, openedBy: change.eventId });
    }
    if (rows.length === 0) return 0;
    try {
      await insertRows(this.client, {
        table: 'access_intervals',
        rows,
        ...(options.deduplicationToken ? { deduplicationToken: options.deduplicationToken } : {}),
      });
    } catch (error) {
      // The in-memory view already moved on; reload it from the table next time.
      this.open = undefined;
      throw error;
    }
    return rows.length;
  }

  /**
   * Rewrites some members' intervals from a late event on (R61), so that the table holds exactly what
   * `rewrite.changes` say from `rewrite.from` on, and leaves everything before it and every other member and
   * permission as it is. The intervals open just before the late event are read from the table (their start is
   * before the rewrite); from them the changes are applied as `write` applies changes, giving every interval that
   * is open then or opens later, with its end. Each of those that differs from its row in the table is written with
   * a higher version; each row of the table in the stretch that is not among them gets a tombstone. The open
   * intervals in memory follow.
   *
   * Idempotent: run again (a replay after a crash before the checkpoint) over a table it already rewrote, it finds
   * the same intervals open before the late event — an interval closed at `from` counts as closed before it only if
   * one of `eventsBefore` closed it — and writes nothing new.
   */
  async rewrite(rewrite: IntervalRewrite): Promise<number> {
    if (rewrite.members.length === 0) return 0;
    const open = await this.load();
    const { tenantId, scope } = rewrite;
    const from = iso(rewrite.from);
    const fromMs = Date.parse(from);
    const before = new Set(rewrite.eventsBefore);
    const members = new Set(rewrite.members.map(([o, u]) => memberOf(o, u)));
    const orgs = [...new Set(rewrite.members.map(([o]) => o))];
    const users = [...new Set(rewrite.members.map(([, u]) => u))];
    const result = await this.client.query({
      query: `SELECT tenant_id, org_id, user_id, permission, level, valid_from, valid_to, opened_by, closed_by, version
              FROM access_intervals FINAL
              WHERE tenant_id = {tenantId:String} AND org_id IN {orgs:Array(String)}
                AND (empty({users:Array(String)}) OR user_id IN {users:Array(String)})
                AND (has({names:Array(String)}, permission) OR arrayExists(p -> startsWith(permission, p), {prefixes:Array(String)}))
                AND valid_to >= parseDateTime64BestEffort({from:String}, 3, 'UTC') AND NOT is_deleted`,
      query_params: { tenantId, orgs, users: users.length <= USERS_BY_ID ? users : [], names: scope.names, prefixes: scope.prefixes, from },
      format: 'JSONEachRow',
    });
    const existing = new Map<string, AccessIntervalRow>();
    /** The intervals open just before the late event, by member × permission. */
    const current = new Map<string, OpenInterval>();
    for (const raw of await result.json<AccessIntervalRow>()) {
      if (!members.has(memberOf(raw.org_id, raw.user_id))) continue;
      const row: AccessIntervalRow = { ...raw, valid_from: iso(raw.valid_from), valid_to: iso(raw.valid_to), version: Number(raw.version) };
      const validFrom = Date.parse(row.valid_from);
      const validTo = Date.parse(row.valid_to);
      if (validTo === fromMs && before.has(row.closed_by)) continue; // closed before the late event
      const key = keyOf({ tenantId, orgId: row.org_id, userId: row.user_id, permission: row.permission });
      if (validFrom < fromMs || (validFrom === fromMs && before.has(row.opened_by))) {
        // Open just before the late event. One per member × permission in a consistent table; if not, the latest.
        const seen = current.get(key);
        if (!seen || seen.validFrom < row.valid_from) current.set(key, { level: row.level, validFrom: row.valid_from, openedBy: row.opened_by });
      }
      existing.set(rowKeyOf(row), row);
      if (row.valid_to === OPEN_END) open.delete(key);
    }

    // Every interval open before or opened after the late event, with its end as the changes give it.
    const wanted = new Map<string, Omit<AccessIntervalRow, 'version'>>();
    const put = (key: string, c: { orgId: string; userId: string; permission: string }, i: OpenInterval, validTo: string, closedBy: string) => {
      const row = {
        tenant_id: tenantId,
        org_id: c.orgId,
        user_id: c.userId,
        permission: c.permission,
        level: i.level,
        valid_from: i.validFrom,
        valid_to: validTo,
        opened_by: i.openedBy,
        closed_by: closedBy,
      };
      wanted.set(rowKeyOf(row as AccessIntervalRow), row);
      if (validTo === OPEN_END) open.set(key, i);
      else open.delete(key);
    };
    for (const [key, i] of current) {
      const [, orgId, userId, permission] = JSON.parse(key) as [string, string, string, string];
      put(key, { orgId, userId, permission }, i, OPEN_END, '');
    }
    for (const change of rewrite.changes) {
      const key = keyOf(change);
      const at = iso(change.at);
      const was = current.get(key);
      if (change.kind === 'close' || (was && was.level !== change.level)) {
        if (was) put(key, change, was, at, change.eventId);
        current.delete(key);
      }
      if (change.kind === 'open' && was?.level !== change.level) {
        const i = { level: change.level, validFrom: at, openedBy: change.eventId };
        current.set(key, i);
        put(key, change, i, OPEN_END, '');
      }
    }

    const rows: StoredRow[] = [];
    for (const [rowKey, row] of wanted) {
      const old = existing.get(rowKey);
      if (old && old.level === row.level && old.valid_to === row.valid_to && old.closed_by === row.closed_by) continue;
      rows.push({ ...row, version: this.nextVersion(), is_deleted: 0 });
    }
    for (const [rowKey, row] of existing) {
      if (!wanted.has(rowKey)) rows.push({ ...row, version: this.nextVersion(), is_deleted: 1 });
    }
    if (rows.length === 0) return 0;
    try {
      await insertRows(this.client, { table: 'access_intervals', rows });
    } catch (error) {
      this.open = undefined;
      throw error;
    }
    return rows.length;
  }

  private nextVersion(): number {
    return (this.version = Math.max(this.version + 1, Date.now() * 1000));
  }

  /** Forgets the cached open intervals (after a rebuild truncated the table). */
  reset(): void {
    this.open = undefined;
  }
}

/** One-shot convenience: applies changes with a fresh writer (loads the open intervals first). */
export async function ingestAccessIntervalChanges(client: ClickHouseClient, changes: readonly AccessIntervalChange[]): Promise<number> {
  return new AccessIntervalWriter(client).write(changes);
}

/**
 * The sets of roles whose tool profile the table holds (`tools:role-set` rows of members, `*role-set:<set>`
 * pseudo-members: docs/access-intervals.md § Access profiles), by tenant and organization: what the interval
 * producer must know again at a restart to keep every set's rows up to date. A member's row is written only after its
 * set's rows (the producer's order), so a set named here has them.
 */
export async function roleSets(client: ClickHouseClient): Promise<Map<string, Map<string, Set<string>>>> {
  const result = await client.query({
    query: `SELECT DISTINCT tenant_id, org_id, level FROM access_intervals WHERE permission = {permission:String} AND NOT is_deleted`,
    query_params: { permission: ROLE_SET_PERMISSION },
    format: 'JSONEachRow',
  });
  const out = new Map<string, Map<string, Set<string>>>();
  for (const row of await result.json<{ tenant_id: string; org_id: string; level: string }>()) {
    let byOrg = out.get(row.tenant_id);
    if (byOrg === undefined) out.set(row.tenant_id, (byOrg = new Map()));
    let sets = byOrg.get(row.org_id);
    if (sets === undefined) byOrg.set(row.org_id, (sets = new Set()));
    sets.add(row.level);
  }
  return out;
}
