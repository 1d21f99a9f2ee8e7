/**
 * The exported unit: one row of the ClickHouse audit trail (`audit_events`, owned by the read model), i.e. one stored
 * event, flattened; instants are ISO-8601 UTC with milliseconds. Its type and column order are the read model's.
 */
export { AUDIT_COLUMNS, type AuditRow } from '@access-ledger/read-model';
import type { AuditRow } from '@access-ledger/read-model';

/**
 * The columns an event may have no value for. The audit table stores '' for "none" (ClickHouse `String`, not
 * `Nullable`); every export writes NULL instead (Parquet optional columns, JSON null, an unquoted empty CSV field), as
 * the audit API answers null: an organization-less event has `org_id IS NULL`, not `org_id = ''`.
 */
export const NULLABLE_AUDIT_COLUMNS: readonly (keyof AuditRow)[] = [
  'org_id',
  'actor_org_id',
  'actor_user_id',
  'subject',
  'correlation_id',
  'causation_id',
  'auth',
];

/** What one export or one delivery step covers: the tenant's events with occurredAt in [from, to) and position ≤ upToPosition. */
export interface AuditRange {
  readonly tenantId: string;
  readonly from: string;
  readonly to: string;
  /** The head position when the export started: later appends wait for the next export. */
  readonly upToPosition: number;
  /** Only rows with position > afterPosition (continuous exports); default: all. */
  readonly afterPosition?: number;
}

/** A day (UTC, by occurredAt) of a range that holds rows. */
export interface DaySlice {
  readonly day: string; // YYYY-MM-DD
  readonly rows: number;
  readonly minPosition: number;
  readonly maxPosition: number;
}

export interface PageQuery {
  readonly tenantId: string;
  /** Rows with position > afterPosition (-1 for all)… */
  readonly afterPosition: number;
  /** …and ≤ upToPosition, if given. */
  readonly upToPosition?: number;
  /** …and occurredAt in [from, to), if given. */
  readonly from?: string;
  readonly to?: string;
  readonly limit: number;
}

/** A place in the (occurredAt, position) order of a tenant's rows — the order of time-range exports. */
export interface RowCursor {
  readonly occurredAt: string;
  readonly position: number;
}

export interface RangePageQuery {
  readonly tenantId: string;
  readonly from: string;
  readonly to: string;
  readonly upToPosition: number;
  /** Rows after this cursor; null for the first page. */
  readonly after: RowCursor | null;
  readonly limit: number;
}

/** Time-range reads in the table's own order (occurredAt, position): every page is a primary-key range. */
export interface AuditRangeReader {
  readRangePage(query: RangePageQuery): Promise<AuditRow[]>;
}

/**
 * The port the exports read through. Adapters: the ClickHouse table (`ClickHouseAuditTable`) and
 * the event store (`EventStoreAuditSource`, for sinks that follow the log ahead of the read model).
 */
export interface AuditRowSource {
  /** Highest position of the tenant's rows, or -1. */
  headPosition(tenantId: string): Promise<number>;
  /** Rows in ascending position order. */
  readPage(query: PageQuery): Promise<AuditRow[]>;
}
