import type { ClickHouseClient } from '@clickhouse/client';
import { z } from 'zod';
import { EVENT_TYPES, Instant, InstantParam } from '@access-ledger/access-model';

/**
 * Audit search (GET /v1/tenants/{t}/audit/events): newest first, keyset pagination on (occurred_at, position),
 * which is the tail of audit_events' ORDER BY, so a page reads a few granules whatever its depth.
 * Every value reaches ClickHouse as a {name:Type} parameter; the SQL text is fixed per filter combination.
 */

/** Free text up to 256 characters: filters match stored values exactly, so nothing needs to be refused here. */
const FilterText = z.string().min(1).max(256);

const CursorPayload = z.object({ o: Instant, p: z.number().int().nonnegative() }).strict();
type CursorPayload = z.infer<typeof CursorPayload>;

export function encodeCursor(cursor: CursorPayload): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(text: string): CursorPayload | undefined {
  try {
    const parsed = CursorPayload.safeParse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined; // not base64url JSON: the schema answers "is not a cursor this API returned"
  }
}

const TypeList = z
  .union([FilterText, z.array(FilterText).min(1).max(50)])
  .transform((value) =>
    Array.isArray(value)
      ? value
      : value
          .split(',')
          .map((t) => t.trim())
          .filter((t) => t.length > 0),
  )
  .superRefine((types, ctx) => {
    // A misspelt type would match nothing and read as "no such events": name the event types instead.
    const unknown = types.filter((t) => !KNOWN_TYPES.has(t));
    if (unknown.length > 0)
      ctx.addIssue({
        code: 'custom',
        message: `${unknown.slice(0, 5).join(', ')} ${unknown.length === 1 ? 'is not an event type' : 'are not event types'}; event types: ${EVENT_TYPES.join(', ')}`,
      });
  });

const KNOWN_TYPES = new Set<string>(EVENT_TYPES);

export const AuditSearchQuery = z
  .object({
    orgId: FilterText.optional(),
    /** A member's userId, or an actor kind (scim, platform, system, import). */
    actor: FilterText.optional(),
    subject: FilterText.optional(),
    /** One type, a comma-separated list, or an array. */
    type: TypeList.optional(),
    /** Inclusive lower bound on occurredAt. */
    from: InstantParam.optional(),
    /** Exclusive upper bound on occurredAt. */
    to: InstantParam.optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    cursor: z
      .string()
      .max(512)
      .transform((text, ctx) => {
        const cursor = decodeCursor(text);
        if (!cursor) ctx.addIssue({ code: 'custom', message: 'is not a cursor this API returned' });
        return cursor ?? z.NEVER;
      })
      .optional(),
  })
  .strict()
  .refine((q) => q.from === undefined || q.to === undefined || q.from < q.to, { message: 'from must be before to', path: ['to'] });
export type AuditSearchQuery = z.input<typeof AuditSearchQuery>;
export type AuditSearchFilters = z.output<typeof AuditSearchQuery>;

export interface AuditEvent {
  readonly id: string;
  readonly position: number;
  readonly revision: number;
  readonly type: string;
  readonly tenantId: string;
  readonly orgId: string | null;
  readonly actor: { kind: string; orgId?: string; userId?: string };
  readonly subject: string | null;
  readonly occurredAt: string;
  readonly recordedAt: string;
  readonly source: string;
  readonly correlationId: string | null;
  readonly causationId: string | null;
  readonly data: unknown;
  readonly hash: string;
  /** Who was authenticated when it was stored (`metadata.auth`): an API key and its principal, or `{ via: 'cli' }`;
   *  null for events stored before it was recorded. */
  readonly auth: unknown;
}

export interface AuditSearchPage {
  readonly events: AuditEvent[];
  readonly nextCursor: string | null;
}

interface AuditEventRow {
  event_id: string;
  position: number | string;
  revision: number | string;
  type: string;
  tenant_id: string;
  org_id: string;
  actor_kind: string;
  actor_org_id: string;
  actor_user_id: string;
  subject: string;
  occurred_at: string;
  recorded_at: string;
  source: string;
  correlation_id: string;
  causation_id: string;
  payload: string;
  hash: string;
  auth: string;
}

export async function searchAuditEvents(client: ClickHouseClient, tenantId: string, filters: AuditSearchFilters): Promise<AuditSearchPage> {
  const where = ['tenant_id = {tenantId:String}'];
  const params: Record<string, unknown> = { tenantId, limit: filters.limit + 1 };
  if (filters.orgId !== undefined) {
    where.push('org_id = {orgId:String}');
    params.orgId = filters.orgId;
  }
  if (filters.actor !== undefined) {
    where.push('(actor_user_id = {actor:String} OR actor_kind = {actor:String})');
    params.actor = filters.actor;
  }
  if (filters.subject !== undefined) {
    where.push('subject = {subject:String}');
    params.subject = filters.subject;
  }
  if (filters.type !== undefined && filters.type.length > 0) {
    where.push('type IN {types:Array(String)}');
    params.types = filters.type;
  }
  if (filters.from !== undefined) {
    where.push("occurred_at >= parseDateTime64BestEffort({from:String}, 3, 'UTC')");
    params.from = filters.from;
  }
  if (filters.to !== undefined) {
    where.push("occurred_at < parseDateTime64BestEffort({to:String}, 3, 'UTC')");
    params.to = filters.to;
  }
  if (filters.cursor !== undefined) {
    // Written as two conditions (not a tuple comparison) so the primary key prunes on occurred_at.
    where.push(
      "occurred_at <= parseDateTime64BestEffort({cursorAt:String}, 3, 'UTC') AND (occurred_at < parseDateTime64BestEffort({cursorAt:String}, 3, 'UTC') OR position < {cursorPosition:UInt64})",
    );
    params.cursorAt = filters.cursor.o;
    params.cursorPosition = filters.cursor.p;
  }
  const result = await client.query({
    query: `SELECT event_id, position, revision, type, tenant_id, org_id, actor_kind, actor_org_id, actor_user_id, subject,
                   occurred_at, recorded_at, source, correlation_id, causation_id, payload, hash, auth
            FROM audit_events
            WHERE ${where.join(' AND ')}
            ORDER BY occurred_at DESC, position DESC
            LIMIT {limit:UInt32}`,
    query_params: params,
    format: 'JSONEachRow',
  });
  const found = await result.json<AuditEventRow>();
  const page = found.slice(0, filters.limit).map(auditEventOf);
  const last = page[page.length - 1];
  return {
    events: page,
    nextCursor: found.length > filters.limit && last ? encodeCursor({ o: last.occurredAt, p: last.position }) : null,
  };
}

function auditEventOf(row: AuditEventRow): AuditEvent {
  const actor: AuditEvent['actor'] =
    row.actor_kind === 'member' ? { kind: row.actor_kind, orgId: row.actor_org_id, userId: row.actor_user_id } : { kind: row.actor_kind };
  return {
    id: row.event_id,
    position: Number(row.position),
    revision: Number(row.revision),
    type: row.type,
    tenantId: row.tenant_id,
    orgId: row.org_id || null,
    actor,
    subject: row.subject || null,
    occurredAt: row.occurred_at,
    recordedAt: row.recorded_at,
    source: row.source,
    correlationId: row.correlation_id || null,
    causationId: row.causation_id || null,
    data: JSON.parse(row.payload),
    hash: row.hash,
    auth: row.auth === '' ? null : JSON.parse(row.auth),
  };
}
