import type { ClickHouseClient } from '@clickhouse/client';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Actor, EventType, LedgerEvent } from '../../access-model/src/index.js';
import type { RecordedEvent } from '../../event-store/src/port.js';
import { migrate, openClickHouse } from '../../read-model/src/index.js';
import type { AccessIntervalRow } from '../../read-model/src/ingestion/access-intervals.js';

/**
 * Fixtures of the access-interval specs: generated histories folded through the real deciders (as in
 * libs/access-model/test/time-travel/time-travel.property.spec.ts), events as the store records them, and a
 * fresh migrated chDB in a temporary directory (one per spec file: chDB allows one data directory per process).
 */

export { generatedHistory, type History } from '../../access-model/test/time-travel/generated-history.js';

const ADMIN: Actor = { kind: 'system' } as Actor;

/** A hand-written event (the unit specs), folded by the projection like a stored one. */
export function event(position: number, type: EventType, at: string, data: Record<string, unknown>, tenantId = 't'): LedgerEvent {
  return { id: `ev-${position}`, type, data: data as never, position, meta: { tenantId, occurredAt: at, recordedAt: at, actor: ADMIN, source: 'api', schemaVersion: 1 } };
}

export function recorded(e: LedgerEvent): RecordedEvent {
  return {
    id: e.id, type: e.type, data: e.data as never, metadata: e.meta as never, streamId: `tenant-${e.meta.tenantId}`,
    revision: e.position, position: e.position, prevHash: '', hash: '',
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
            WHERE tenant_id = {tenantId:String} ORDER BY org_id, user_id, permission, valid_from, opened_by`,
    query_params: { tenantId },
    format: 'JSONEachRow',
  });
  return result.json<IntervalRow>();
}

/** What the table says a member held at T: the rows with valid_from ≤ T < valid_to. */
export async function heldAt(client: ClickHouseClient, tenantId: string, orgId: string, userId: string, at: number): Promise<Map<string, string>> {
  const result = await client.query({
    query: `SELECT permission, level FROM access_intervals FINAL
            WHERE tenant_id = {tenantId:String} AND org_id = {orgId:String} AND user_id = {userId:String}
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
