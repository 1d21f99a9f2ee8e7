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

export type CommandOutcome =
  /** 201: the command's events were appended. */
  | { readonly kind: 'appended'; readonly events: readonly AppendedRef[] }
  /** 403 (R22, R62): refused by the authorization rules; only the AccessChangeDenied event was appended. */
  | { readonly kind: 'refused'; readonly rule: string; readonly detail: string; readonly events: readonly AppendedRef[] }
  /** 409 (R62): an invariant would break; nothing was appended. */
  | { readonly kind: 'violation'; readonly rule: string; readonly detail: string }
  /** 409: another writer appended first (expected revision did not match); nothing was appended. */
  | { readonly kind: 'conflict'; readonly detail: string }
  /** 400: the body failed validation; every failing field is listed; nothing was appended. */
  | { readonly kind: 'invalid'; readonly errors: readonly FieldError[] };

export type ImportOutcome =
  | { readonly kind: 'imported'; readonly appended: number; readonly skipped: number }
  /** 400 (schema) or 409 (reference validation): errors by line number; nothing of the batch was stored. */
  | { readonly kind: 'invalid'; readonly status: 400 | 409; readonly errors: readonly FieldError[] };

export interface CommandOptions {
  /** Optimistic concurrency on the tenant stream (If-Match / `expectedRevision`); omitted = no check. */
  readonly expectedRevision?: number;
}

export interface LedgerHealth {
  readonly eventStore: boolean;
  readonly readModel: boolean;
  /** Events appended but not yet applied by the access projection. */
  readonly projectionLag: number;
  readonly detail?: string;
}

export interface LedgerUseCases {
  executeCommand(tenantId: string, body: unknown, options?: CommandOptions): Promise<CommandOutcome>;
  importEvents(tenantId: string, ndjson: string): Promise<ImportOutcome>;
  integrity(tenantId: string): Promise<{ events: number; head: string | null; valid: boolean; firstBadPosition?: number }>;
  health(): Promise<LedgerHealth>;
}

/** Thrown by queries for an unknown organization or member (404 problem+json). */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
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
