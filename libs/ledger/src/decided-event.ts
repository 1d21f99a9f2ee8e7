import { SCHEMA_VERSION, type Actor, type AuthRecord, type EventMetadata, type NewEvent, type Source } from '@access-ledger/access-model';
import type { EventToAppend, JsonValue } from '@access-ledger/event-store';

/** A decided event as the store takes it: its data, and the metadata every event carries (R60). */
export function decidedEvent(
  tenantId: string,
  e: NewEvent,
  meta: { actor: Actor; source: Source; occurredAt: string; recordedAt: string; correlationId: string; auth?: AuthRecord; idempotencyKey?: string },
): EventToAppend {
  const metadata: EventMetadata = {
    tenantId,
    occurredAt: meta.occurredAt,
    recordedAt: meta.recordedAt,
    actor: meta.actor,
    source: meta.source,
    correlationId: meta.correlationId,
    // Evidence that two events came from one request, retried.
    ...(meta.idempotencyKey !== undefined ? { idempotencyKey: meta.idempotencyKey } : {}),
    ...(e.causationId ? { causationId: e.causationId } : {}),
    ...(meta.auth ? { auth: meta.auth } : {}),
    schemaVersion: SCHEMA_VERSION[e.type] ?? 1,
  };
  return { id: e.id, type: e.type, data: e.data as JsonValue, metadata: metadata as unknown as { [k: string]: JsonValue } };
}
