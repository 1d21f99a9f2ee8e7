/**
 * The ClickHouse read model: the audit trail, access intervals and the compliance reports over them.
 * Routes and `ledger report …` commands parse their inputs with the zod schemas exported here and call the
 * query functions, which return plain rows (render with `toCsv` for CSV).
 */
export {
  openClickHouse,
  backendOf,
  chdbOf,
  encodeRows,
  insertEncodedRows,
  type EncodedRows,
  insertRows,
  type InsertRowsOptions,
  type OpenClickHouseOptions,
  type ReadModelBackend,
} from './clickhouse.js';
export { migrate, appliedMigrations, MIGRATIONS, OPEN_END, type Migration } from './schema/migrations.js';

// Ingestion
export { AuditProjection, type AuditProjectionOptions, type AuditProjectionMetrics } from './ingestion/audit-projection.js';
export { AUDIT_COLUMNS, auditLineOf, auditRowOf, subjectOf, type AuditRow } from './ingestion/audit-row.js';
export { CheckpointStore, TRUNCATION_PENDING, projectedThrough, untilProjected, type Checkpoint, type ProjectedTable } from './ingestion/checkpoint.js';
export { BatchSource, TIMEOUT, type BatchingProjectionOptions, type ProjectionProgress } from './ingestion/batch-source.js';
export { Quarantine, listQuarantined, isDataError, describeError, type QuarantinedEvent } from './ingestion/quarantine.js';
export {
  AccessIntervalWriter,
  ingestAccessIntervalChanges,
  roleSets,
  type AccessIntervalRow,
  type AccessIntervalChange,
  type IntervalRewrite,
  type PermissionScope,
} from './ingestion/access-intervals.js';

// Queries
export { AuditSearchQuery, searchAuditEvents, type AuditSearchFilters, type AuditEvent, type AuditSearchPage } from './queries/audit-search.js';
export { OrphanedApiKeysQuery, orphanedApiKeys, type OrphanedApiKey } from './queries/orphaned-api-keys.js';
export { CustomMembersWithoutGroupQuery, customMembersWithoutGroup, type CustomMemberWithoutGroup } from './queries/custom-members-without-group.js';
export {
  AccessReviewQuery,
  ACCESS_REVIEW_COLUMNS,
  accessReview,
  accessReviewCsv,
  accessReviewPage,
  accessReviewRows,
  REVIEW_CSV_MEMBERS_PER_QUERY,
  type AccessReviewMember,
  type AccessReviewPage,
  type AccessReviewPermission,
  type AccessReviewRow,
  type AccessReviewScope,
} from './queries/access-review.js';
export {
  PermissionHoldersQuery,
  permissionHolders,
  permissionHolderIntervals,
  type PermissionHolder,
  type HeldInterval,
} from './queries/permission-holders.js';
export { AccessChangesQuery, accessChanges, type AccessChange } from './queries/access-changes.js';
export { PrivilegedAccessQuery, privilegedAccess, bucketStarts, PRIVILEGED_ROLES, type PrivilegedBucket } from './queries/privileged-access.js';
export { SodViolationsQuery, sodViolations, DEFAULT_SOD_PAIRS, type SodViolation } from './queries/segregation-of-duties.js';
export { toCsv } from './queries/csv.js';
export {
  ACCESS_PROFILES,
  effectiveIntervals,
  isProfileUser,
  PROFILE_USER_SQL,
  ORG_CAPABILITIES_PERMISSION,
  ORG_CAPABILITIES_USER,
  ORG_CHAT_SEAT_CAPABILITIES_PERMISSION,
  ORG_CHAT_SEAT_CAPABILITIES_USER,
  ORG_SPEND_PERMISSION,
  ORG_SPEND_USER,
  ORG_TOOLS_PERMISSION,
  ORG_TOOLS_USER,
  ROLE_SET_PERMISSION,
  ROLE_SET_USER_PREFIX,
  roleSetOf,
  roleSetUser,
} from './queries/effective-intervals.js';
