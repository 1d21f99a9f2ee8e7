import type { ClickHouseClient } from '@clickhouse/client';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FactStore, evolve, type Actor, type EventType, type LedgerEvent } from '@access-ledger/access-model';
import type { RecordedEvent } from '@access-ledger/event-store';
import { effectiveIntervals, migrate, openClickHouse } from '@access-ledger/read-model';
import type { AccessIntervalRow } from '@access-ledger/read-model';

/**
 * Fixtures of the access-interval specs: generated histories folded through the real deciders (as in
 * libs/access-model/test/time-travel/time-travel.property.spec.ts), events as the store records them, and a
 * fresh migrated chDB in a temporary directory (one per spec file: chDB allows one data directory per process).
 */

import type { History } from '../../access-model/test/time-travel/generated-history.js';

export { generatedHistory, type History } from '../../access-model/test/time-travel/generated-history.js';

/** Types that change nobody's access (impactOf): moving them proves nothing. */
const INERT = new Set([
  'GroupRenamed',
  'RoleRenamed',
  'GroupRoleMappingSet',
  'GroupMappingsEnabledSet',
  'ApiKeyCreated',
  'ApiKeyRevoked',
  'AccessChangeDenied',
]);

/**
 * R61 on a generated history, beyond its own late imports (SCIM syncs of users whose groups did not change since,
 * which seldom change what anyone holds): the same events, but `blocks` instants' events — one of each type in turn,
 * organization toggles, role changes, member changes, group changes… — are stored 10 to 400 events later than
 * events that took effect after them, as a delayed delivery would store them. Which facts an event writes does not
 * depend on the order (evolve.ts), and each moved instant is one no other event shares, so the history as it
 * finally stands — and the evaluator's answer at every instant — is the generated one; only the store order, and so
 * what a live projection must correct, changes. Positions follow the new store order.
 */
export function deliveredLate(h: History, blocks: number, seed: number): History {
  let state = seed >>> 0 || 1;
  const random = () => (state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32;
  const perInstant = new Map<string, number>();
  for (const e of h.events) perInstant.set(e.meta.occurredAt, (perInstant.get(e.meta.occurredAt) ?? 0) + 1);
  // Runs of consecutive events at one instant that no other event shares, by the type of their first event.
  const byType = new Map<string, { first: number; last: number }[]>();
  for (let i = 0; i < h.events.length; ) {
    let j = i;
    while (j + 1 < h.events.length && h.events[j + 1]!.meta.occurredAt === h.events[i]!.meta.occurredAt) j++;
    const types = h.events.slice(i, j + 1).map((e) => e.type);
    if (perInstant.get(h.events[i]!.meta.occurredAt) === j - i + 1 && types.some((t) => !INERT.has(t)) && j + 10 < h.events.length) {
      const list = byType.get(types[0]!) ?? [];
      list.push({ first: i, last: j });
      byType.set(types[0]!, list);
    }
    i = j + 1;
  }
  const moved = new Map<number, number>(); // index of a moved event → sort key (after the event it now follows)
  const types = [...byType.keys()]
    .sort()
    .map((t) => ({ t, r: random() }))
    .sort((a, b) => a.r - b.r)
    .map(({ t }) => t);
  for (let picked = 0, round = 0; picked < blocks && round < 50; round++) {
    for (const type of types) {
      const list = byType.get(type)!;
      if (picked >= blocks || list.length === 0) continue;
      const { first, last } = list.splice(Math.floor(random() * list.length), 1)[0]!;
      if ([...Array(last - first + 1).keys()].some((k) => moved.has(first + k))) continue;
      const after = Math.min(h.events.length - 1, last + 10 + Math.floor(random() * 390));
      for (let k = first; k <= last; k++) moved.set(k, after + 0.5 + (k - first) / 1000);
      picked++;
    }
  }
  const order = h.events.map((e, i) => ({ e, key: moved.get(i) ?? i })).sort((a, b) => a.key - b.key);
  const facts = new FactStore();
  const events = order.map(({ e }, i) => ({ ...e, position: i + 1 }));
  for (const e of events) evolve(facts, e);
  return { ...h, facts, events };
}

/** The events stored after one that took effect later (R61), with the frontier each arrived at. */
export function lateEventsOf(events: readonly LedgerEvent[]): { event: LedgerEvent; frontier: number }[] {
  const out: { event: LedgerEvent; frontier: number }[] = [];
  let frontier = Number.NEGATIVE_INFINITY;
  for (const e of events) {
    const at = Date.parse(e.meta.occurredAt);
    if (at < frontier) out.push({ event: e, frontier });
    frontier = Math.max(frontier, at);
  }
  return out;
}

const ADMIN: Actor = { kind: 'system' } as Actor;

/** A hand-written event (the unit specs), folded by the projection like a stored one. */
export function event(position: number, type: EventType, at: string, data: Record<string, unknown>, tenantId = 't'): LedgerEvent {
  return {
    id: `ev-${position}`,
    type,
    data: data as never,
    position,
    meta: { tenantId, occurredAt: at, recordedAt: at, actor: ADMIN, source: 'api', schemaVersion: 1 },
  };
}

export function recorded(e: LedgerEvent): RecordedEvent {
  return {
    id: e.id,
    type: e.type,
    data: e.data as never,
    metadata: e.meta as never,
    streamId: `tenant-${e.meta.tenantId}`,
    revision: e.position,
    position: e.position,
    prevHash: '',
    hash: '',
  };
}

/** A finite source over stored events, as `store.readAll({ after })` gives them. */
export function sourceOf(events: readonly LedgerEvent[]): (after: number) => AsyncIterable<RecordedEvent> {
  return async function* (after: number) {
    for (const e of events) if (e.position > after) yield recorded(e);
  };
}

/** A live source, as `store.subscribeToAll({ after })`: the events, then nothing until `close()`. */
export function liveSourceOf(events: readonly LedgerEvent[]): (after: number) => AsyncIterable<RecordedEvent> & { close(): Promise<void> } {
  return (after: number) => {
    let closed: () => void = () => undefined;
    const closing = new Promise<void>((resolve) => (closed = resolve));
    const iterator = (async function* () {
      for (const e of events) if (e.position > after) yield recorded(e);
      await closing;
    })();
    return Object.assign(iterator, { close: async () => closed() });
  };
}

export async function openDb(): Promise<{ client: ClickHouseClient; close(): Promise<void> }> {
  const dataPath = mkdtempSync(join(tmpdir(), 'access-intervals-'));
  const client = openClickHouse({ url: '', dataPath });
  await migrate(client);
  return {
    client,
    close: async () => {
      await client.close();
      rmSync(dataPath, { recursive: true, force: true });
    },
  };
}

/** An `access_intervals` row as the specs read it back (without tenant and version). */
export type IntervalRow = Omit<AccessIntervalRow, 'tenant_id' | 'version'>;

export async function intervalRows(client: ClickHouseClient, tenantId: string): Promise<IntervalRow[]> {
  const result = await client.query({
    query: `SELECT org_id, user_id, permission, level, valid_from, valid_to, opened_by, closed_by FROM access_intervals FINAL
            WHERE tenant_id = {tenantId:String} AND NOT is_deleted ORDER BY org_id, user_id, permission, valid_from, opened_by`,
    query_params: { tenantId },
    format: 'JSONEachRow',
  });
  return result.json<IntervalRow>();
}

/** An organization's intervals as the reports read them (`effectiveIntervals()`: the access profiles' rows derived). */
export async function effectiveRows(client: ClickHouseClient, tenantId: string, orgId: string): Promise<IntervalRow[]> {
  const result = await client.query({
    query: `SELECT org_id, user_id, permission, level, valid_from, valid_to, opened_by, closed_by FROM ${effectiveIntervals()}
            ORDER BY org_id, user_id, permission, valid_from, opened_by`,
    query_params: { tenantId, orgId },
    format: 'JSONEachRow',
  });
  return result.json<IntervalRow>();
}

/** What the table says a member held at T: the rows with valid_from ≤ T < valid_to. */
export async function heldAt(client: ClickHouseClient, tenantId: string, orgId: string, userId: string, at: number): Promise<Map<string, string>> {
  const result = await client.query({
    // Through the reports' view: a member following the organization's tool profile holds its tools then.
    query: `SELECT permission, level FROM ${effectiveIntervals()}
            WHERE tenant_id = {tenantId:String} AND org_id = {orgId:String} AND user_id = {userId:String} AND NOT is_deleted
              AND valid_from <= parseDateTime64BestEffort({at:String}, 3, 'UTC') AND valid_to > parseDateTime64BestEffort({at:String}, 3, 'UTC')`,
    query_params: { tenantId, orgId, userId, at: new Date(at).toISOString() },
    format: 'JSONEachRow',
  });
  const held = new Map<string, string>();
  for (const row of await result.json<{ permission: string; level: string }>()) {
    if (held.has(row.permission)) throw new Error(`two intervals of ${row.permission} contain ${new Date(at).toISOString()}`);
    held.set(row.permission, row.level);
  }
  return held;
}

/** How many intervals of a tenant a late event made disappear (their latest version is a tombstone). */
export async function tombstones(client: ClickHouseClient, tenantId: string): Promise<number> {
  const result = await client.query({
    query: 'SELECT count() AS n FROM access_intervals FINAL WHERE tenant_id = {tenantId:String} AND is_deleted',
    query_params: { tenantId },
    format: 'JSONEachRow',
  });
  const [row] = await result.json<{ n: number | string }>();
  return Number(row?.n ?? 0);
}

/** Rows of two tenants compared as one history: event ids lose their tenant prefix (`<tenant>-e12` → `e12`). */
export function withoutTenant(rows: readonly IntervalRow[], tenantId: string): IntervalRow[] {
  const strip = (id: string) => (id.startsWith(`${tenantId}-`) ? id.slice(tenantId.length + 1) : id);
  return rows.map((r) => ({ ...r, opened_by: strip(r.opened_by), closed_by: strip(r.closed_by) }));
}
