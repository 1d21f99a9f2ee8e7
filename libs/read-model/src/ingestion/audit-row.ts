import type { JsonValue, RecordedEvent } from '@access-ledger/event-store';

/** One `audit_events` row (the table of schema/migrations.ts, described in docs/read-model.md), as sent to ClickHouse in JSONEachRow. */
export interface AuditRow {
  readonly tenant_id: string;
  readonly org_id: string;
  readonly event_id: string;
  readonly position: number;
  readonly revision: number;
  readonly type: string;
  readonly actor_kind: string;
  readonly actor_org_id: string;
  readonly actor_user_id: string;
  readonly subject: string;
  readonly occurred_at: string;
  readonly recorded_at: string;
  readonly source: string;
  readonly correlation_id: string;
  readonly causation_id: string;
  readonly payload: string;
  readonly hash: string;
  /** JSON of `metadata.auth` (the authenticated key and its principal), '' for older events. */
  readonly auth: string;
}

export const AUDIT_COLUMNS: readonly (keyof AuditRow)[] = [
  'tenant_id',
  'org_id',
  'event_id',
  'position',
  'revision',
  'type',
  'actor_kind',
  'actor_org_id',
  'actor_user_id',
  'subject',
  'occurred_at',
  'recorded_at',
  'source',
  'correlation_id',
  'causation_id',
  'payload',
  'hash',
  'auth',
];

type JsonObject = { readonly [key: string]: JsonValue };

function objectOf(value: JsonValue | undefined): JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : {};
}

function text(value: JsonValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The thing an event is about, in the order the brief fixes: the most specific id the data carries. */
export function subjectOf(data: JsonValue): string {
  const d = objectOf(data);
  return (
    text(d.userId) ??
    text(d.toUserId) ??
    text(d.groupId) ??
    text(d.roleId) ??
    text(d.connectorId) ??
    text(d.apiKeyId) ??
    text(d.workspaceId) ??
    text(d.capability) ??
    ''
  );
}

/**
 * The row's values in `AUDIT_COLUMNS` order, with the payload as the event's data itself (an object, or the JSON
 * text of anything else): the one place an event is flattened.
 */
function auditValuesOf(event: RecordedEvent): unknown[] {
  const data = objectOf(event.data);
  const metadata = event.metadata;
  const actor = objectOf(metadata.actor);
  const payload = event.data !== null && typeof event.data === 'object' && !Array.isArray(event.data) ? event.data : JSON.stringify(event.data);
  return [
    text(metadata.tenantId) ?? '',
    orgOf(event.type, data, actor),
    event.id,
    event.position,
    event.revision,
    event.type,
    text(actor.kind) ?? '',
    text(actor.orgId) ?? '',
    text(actor.userId) ?? '',
    subjectOf(event.data),
    text(metadata.occurredAt) ?? '',
    text(metadata.recordedAt) ?? '',
    text(metadata.source) ?? '',
    text(metadata.correlationId) ?? '',
    text(metadata.causationId) ?? '',
    payload,
    event.hash,
    metadata.auth === undefined ? '' : JSON.stringify(metadata.auth),
  ];
}

/**
 * The organization an event is about. An AccessChangeDenied (R62) names the organization the refused command
 * targeted in `data.orgId`; older ones lack it and get it the same way the Ledger derives it now: the refused
 * payload's orgId, else a member actor's organization.
 */
function orgOf(type: string, data: JsonObject, actor: JsonObject): string {
  const own = text(data.orgId);
  if (own !== undefined || type !== 'AccessChangeDenied') return own ?? '';
  return text(objectOf(objectOf(data.command).payload).orgId) ?? (actor.kind === 'member' ? text(actor.orgId) : undefined) ?? '';
}

export function auditRowOf(event: RecordedEvent): AuditRow {
  const values = auditValuesOf(event);
  const row: Record<string, unknown> = {};
  AUDIT_COLUMNS.forEach((column, i) => {
    row[column] = values[i];
  });
  row.payload = JSON.stringify(event.data);
  return row as unknown as AuditRow;
}

/**
 * The row as one JSONCompactEachRow line (`AUDIT_COLUMNS` order): what the projection inserts. Built in one
 * `JSON.stringify`, with the payload as the event's data object itself rather than a string of it: ClickHouse reads
 * an object into a String column as its text (`input_format_json_read_objects_as_strings`), which is byte for byte
 * `JSON.stringify(data)`, and the payload is not escaped a second time.
 */
export function auditLineOf(event: RecordedEvent): string {
  return JSON.stringify(auditValuesOf(event));
}
