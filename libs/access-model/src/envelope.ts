import { z } from 'zod';

/**
 * What every stored event carries besides its data (R60): when it took effect, when it was stored,
 * who did it, through which source, and the correlation/causation ids that link derived events
 * (R12 seeding, R32 mapping syncs) to the event that caused them.
 */

/** Ids of things: 1–128 characters of [A-Za-z0-9._:@-] (http-api.md). */
export const Id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:@-]+$/, 'must be 1–128 characters of A-Z a-z 0-9 . _ : @ -');

/**
 * The instants every store and read model can represent: ClickHouse documents DateTime64 (and
 * Date32) from 1900-01-01 to 2299-12-31, and some versions read year 0000 as "no year" (the current one). An
 * instant outside this range is refused at the edge instead of being stored and reported as another instant.
 */
export const EARLIEST_INSTANT = '1900-01-01T00:00:00.000Z';
export const LATEST_INSTANT = '2299-12-31T23:59:59.999Z';
const EARLIEST_MS = Date.parse(EARLIEST_INSTANT);
const LATEST_MS = Date.parse(LATEST_INSTANT);
export const INSTANT_RANGE_MESSAGE = `must be between ${EARLIEST_INSTANT} and ${LATEST_INSTANT}`;

export function instantInRange(ms: number): boolean {
  return ms >= EARLIEST_MS && ms <= LATEST_MS;
}

/** ISO-8601 UTC with milliseconds, e.g. 2026-03-01T00:00:00.000Z */
export const Instant = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, 'must be an ISO-8601 UTC instant with milliseconds, e.g. 2026-03-01T00:00:00.000Z')
  .refine((s) => !Number.isNaN(Date.parse(s)) && new Date(s).toISOString() === s, 'is not a real calendar instant')
  .refine((s) => instantInRange(Date.parse(s)), INSTANT_RANGE_MESSAGE);

export const Actor = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('member'), orgId: Id, userId: Id }).strict(),
  z.object({ kind: z.literal('scim') }).strict(),
  z.object({ kind: z.literal('platform') }).strict(),
  z.object({ kind: z.literal('system') }).strict(),
  z.object({ kind: z.literal('import') }).strict(),
]);
export type Actor = z.infer<typeof Actor>;

/**
 * Who an API key speaks for: an operator integration (`system`), a SCIM connector, the platform
 * operator, or one member of one organization. A command's actor defaults to its key's principal.
 */
export const Principal = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('member'), orgId: Id, userId: Id }).strict(),
  z.object({ kind: z.literal('scim') }).strict(),
  z.object({ kind: z.literal('platform') }).strict(),
  z.object({ kind: z.literal('system') }).strict(),
]);
export type Principal = z.infer<typeof Principal>;

/**
 * Who was authenticated when an event was stored, beside the actor it claims: the API key and its principal, or
 * `{ via: 'cli' }` for `ledger import` run on the server's machine (no key). Events stored before this field
 * existed lack it.
 */
export const AuthRecord = z.union([
  z.object({ keyId: z.string().min(1).max(64), principal: Principal }).strict(),
  z.object({ via: z.literal('cli') }).strict(),
]);
export type AuthRecord = z.infer<typeof AuthRecord>;

export function samePrincipal(a: Principal | Actor, b: Principal | Actor): boolean {
  if (a.kind !== b.kind) return false;
  return a.kind !== 'member' || (b.kind === 'member' && a.orgId === b.orgId && a.userId === b.userId);
}

export const Source = z.enum(['api', 'scim', 'console_import', 'admin_api_import', 'seed']);
export type Source = z.infer<typeof Source>;

export const EventMetadata = z.object({
  tenantId: Id,
  occurredAt: Instant,
  recordedAt: Instant,
  actor: Actor,
  source: Source,
  correlationId: z.string().max(256).optional(),
  causationId: z.string().max(256).optional(),
  auth: AuthRecord.optional(),
  /** Version of the event's data schema when it was written (see catalog upcasters). */
  schemaVersion: z.number().int().positive(),
});
export type EventMetadata = z.infer<typeof EventMetadata>;

export function describeActor(actor: Actor): string {
  return actor.kind === 'member' ? `member ${actor.userId} of ${actor.orgId}` : actor.kind;
}
