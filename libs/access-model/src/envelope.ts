import { z } from 'zod';
import { Instant } from './instant.js';

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

export * from './instant.js';

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

/** `compliance-api`: ingested from Anthropic's Compliance API by libs/sources (docs/sources.md). */
export const Source = z.enum(['api', 'scim', 'console_import', 'admin_api_import', 'seed', 'compliance-api']);
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
  /** The source record an imported fact was derived from, kept verbatim as evidence (libs/sources: the Compliance API activity). */
  evidence: z.unknown().optional(),
  /** Version of the event's data schema when it was written (see catalog upcasters). */
  schemaVersion: z.number().int().positive(),
});
export type EventMetadata = z.infer<typeof EventMetadata>;

export function describeActor(actor: Actor): string {
  return actor.kind === 'member' ? `member ${actor.userId} of ${actor.orgId}` : actor.kind;
}
