import type { AuthRecord, Principal } from '@access-ledger/access-model';

/**
 * The application's use cases as the HTTP app and the CLI see them. `Ledger` (ledger.ts) implements it
 * over the event store, the access-model deciders and the in-memory access projection.
 * Everything here takes raw, untrusted input and validates it (zod) before anything is stored.
 */

export interface FieldError {
  /** Dotted path of the failing field, e.g. `payload.roleId`, or `line 3: data.userId` for imports. */
  readonly path: string;
  readonly message: string;
}

export interface AppendedRef {
  readonly id: string;
  readonly type: string;
  readonly position: number;
}

/**
 * One import line already built as an object (by a source's mapper) rather than written as NDJSON text: the same
 * fields as a line of `events:import`, checked at run time against the same schemas and limits (`Ledger.importLines`).
 */
export interface ImportLineObject {
  readonly id: string;
  readonly type: string;
  readonly occurredAt: string;
  readonly actor: Readonly<Record<string, unknown>>;
  readonly source: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly correlationId?: string;
  readonly causationId?: string;
  readonly evidence?: Readonly<Record<string, unknown>>;
}

export type CommandOutcome =
  /**
   * 201: the command's events were appended. `replayed`: by an earlier request with the same idempotency key, whose
   * answer this is (the key is stored with the events); nothing was appended now.
   */
  | { readonly kind: 'appended'; readonly events: readonly AppendedRef[]; readonly replayed?: boolean }
  /** 403 (R22, R62): refused by the authorization rules; only the AccessChangeDenied event was appended. */
  | { readonly kind: 'refused'; readonly rule: string; readonly detail: string; readonly events: readonly AppendedRef[]; readonly replayed?: boolean }
  /** 409 (R62): an invariant would break; nothing was appended. */
  | { readonly kind: 'violation'; readonly rule: string; readonly detail: string }
  /** 409: another writer appended first (expected revision did not match); nothing was appended. */
  | { readonly kind: 'conflict'; readonly detail: string }
  /** 400: the body failed validation; every failing field is listed; nothing was appended. */
  | { readonly kind: 'invalid'; readonly errors: readonly FieldError[] }
  /** 403: the key may not act as the claimed actor; nothing was appended (not an R22 refusal). */
  | { readonly kind: 'actor-not-allowed'; readonly detail: string };

export type ImportOutcome =
  | { readonly kind: 'imported'; readonly appended: number; readonly skipped: number }
  /** Lines that fail the event schema: errors by line number; nothing of the batch was stored. */
  | { readonly kind: 'invalid'; readonly errors: readonly FieldError[] }
  /** Lines that refer to things that do not exist (reference validation): errors by line number; nothing was stored. */
  | { readonly kind: 'unknown-reference'; readonly errors: readonly FieldError[] };

export interface CommandOptions {
  /** Optimistic concurrency on the tenant stream (If-Match / `expectedRevision`); omitted = no check. */
  readonly expectedRevision?: number;
}

/**
 * Who is calling. Over HTTP, an API key: its id, principal and scopes; a command without `actor`
 * acts as the principal, one that names another actor needs the scope `ACT_AS_SCOPE` gives for that actor's kind.
 * In this process (`ledger import`, the demo, tests): trusted code that names its actors itself, recorded as
 * `{ via: 'cli' }`.
 */
export type AuthContext =
  | { readonly via: 'key'; readonly keyId: string; readonly principal: Principal; readonly scopes: readonly string[] }
  | { readonly via: 'cli' };

export const IN_PROCESS: AuthContext = { via: 'cli' };

/** The scope a key needs to act as an actor of each kind other than its own principal (http-api.md "Authentication"). */
export const ACT_AS_SCOPE: Readonly<Record<Principal['kind'], string>> = {
  system: 'admin',
  scim: 'scim',
  platform: 'platform',
  member: 'act-as-member',
};

/** What an event stored under this context records in `metadata.auth`. */
export function authRecordOf(auth: AuthContext): AuthRecord {
  return auth.via === 'key' ? { keyId: auth.keyId, principal: auth.principal } : { via: 'cli' };
}

/** A source the server syncs in the background (LEDGER_SOURCES_FILE, docs/sources.md § Operation), as /ready shows it. */
export interface SourceRunStatus {
  readonly kind: string;
  readonly tenantId: string;
  /** `syncing` a pass, `waiting` for the next, `stopped` (the server stops, or the API refused the key: see lastError). */
  readonly state: 'syncing' | 'waiting' | 'stopped';
  readonly phase: 'backfill' | 'follow';
  /** Passes completed since the server started. */
  readonly passes: number;
  readonly lastSyncAt: string | null;
  readonly lastError: string | null;
}

export interface LedgerHealth {
  readonly eventStore: boolean;
  readonly readModel: boolean;
  /** Events appended but not yet applied by the access projection. */
  readonly projectionLag: number;
  readonly detail?: string;
  /** Where the last write failed for want of space, until a write succeeds again. */
  readonly storageFull?: string;
  /** Tenants whose chain failed verification; their writes are refused. */
  readonly integrityBroken?: readonly IntegrityBreak[];
  /** Whether the background walk of every tenant's whole chain has finished since start. */
  readonly integrityVerified?: boolean;
  /** Events the access projection could not fold and skipped, per tenant; absent when none. */
  readonly accessProjectionQuarantined?: Readonly<Record<string, number>>;
  /** Set when quarantined events before the snapshot fold with this build: what to run to take them. */
  readonly accessProjectionRebuild?: string;
  /** The read model's quarantined events, per projection and tenant (set by the server's read side). */
  readonly readModelLag?: Readonly<Record<string, number>>;
  readonly readModelQuarantined?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Every projection's checkpoint and lag (`access`, `audit_events`, `access_intervals`; set by the server's read side). */
  readonly projections?: Readonly<Record<string, { readonly checkpoint: number; readonly lag: number }>>;
  /** The event store's head when the server started (set by the server's read side). */
  readonly startHead?: number;
  /**
   * Projections still behind `startHead`, with the events they have left to reach it: /ready is 503 while any is
   * listed (set by the server's read side; absent or empty when every projection has reached it).
   */
  readonly catchingUp?: Readonly<Record<string, number>>;
  /** The sources the server syncs (set by the server when LEDGER_SOURCES_FILE names some); they do not make /ready 503. */
  readonly sources?: Readonly<Record<string, SourceRunStatus>>;
}

/** Retry-After for a full disk (507 storage-full): long enough for an operator or a cleanup job, short enough not to lose clients. */
export const STORAGE_FULL_RETRY_AFTER_S = 30;

export interface IntegrityBreak {
  readonly tenantId: string;
  readonly streamId: string;
  readonly firstBadRevision?: number;
  readonly firstBadPosition?: number;
  readonly reason: string;
}

/**
 * The tenant's chain does not verify (an edited or deleted row): its commands and imports are refused until an
 * operator restores a backup and restarts (503 integrity-broken).
 */
export class IntegrityBrokenError extends Error {
  override readonly name = 'IntegrityBrokenError';
  constructor(readonly integrityBreak: IntegrityBreak) {
    const b = integrityBreak;
    super(
      `The hash chain of stream ${b.streamId} does not verify at revision ${b.firstBadRevision ?? '?'} (position ${b.firstBadPosition ?? '?'}): ${b.reason}. ` +
        'Writes for this tenant are refused so that nothing is chained onto it. Inspect with `ledger verify`, restore the last good backup with `ledger restore`, then restart the server (it verifies again at start).',
    );
  }
}

/**
 * Another writer (`ledger import`, a second process) kept appending to the tenant's stream for longer than the
 * Ledger re-decides a command for (503 with Retry-After; nothing of the command was appended).
 */
export class WriteContentionError extends Error {
  override readonly name = 'WriteContentionError';
  constructor(
    readonly tenantId: string,
    readonly waitedMs: number,
  ) {
    super(
      `Another writer kept appending to tenant ${tenantId}'s stream; the command was decided again for ${Math.round(waitedMs)} ms without landing and nothing was appended. Retry later.`,
    );
  }
}

export interface LedgerUseCases {
  executeCommand(tenantId: string, body: unknown, options?: CommandOptions, auth?: AuthContext): Promise<CommandOutcome>;
  importEvents(tenantId: string, ndjson: string, auth?: AuthContext): Promise<ImportOutcome>;
  integrity(tenantId: string): Promise<{ events: number; head: string | null; valid: boolean; firstBadPosition?: number }>;
  health(): Promise<LedgerHealth>;
}

/** Thrown by queries for an unknown organization or member (404 problem+json). */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

/**
 * Thrown by queries about an organization at an instant before its baseline (409 before-baseline; the CLI exits 3):
 * the source that recorded it has no record of that time, so the answer is unknown — neither empty nor 404.
 */
export class BeforeBaselineError extends Error {
  override readonly name = 'BeforeBaselineError';
  constructor(
    readonly orgId: string,
    /** The first instant that can be asked about (ISO-8601 UTC). */
    readonly availableFrom: string,
    readonly source: string,
    readonly sourceKind: string,
    asked: string,
  ) {
    super(
      `organization ${orgId} is known only from ${availableFrom}: source ${source} (${sourceKind}) recorded it then from the directory, and its feed does not go back further, so access at ${asked} is unknown; ask at or after ${availableFrom}`,
    );
  }
}

/** Thrown by queries for a malformed parameter (400 problem+json listing every failing field). */
export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError';
  constructor(readonly errors: readonly FieldError[]) {
    super(errors.map((e) => `${e.path}: ${e.message}`).join('; '));
  }
}

/** Injection token for NestJS. */
export const LEDGER = Symbol('LEDGER');
