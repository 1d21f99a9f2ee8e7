export { openClickHouse, backendOf, type OpenClickHouseOptions, type ReadModelBackend } from './clickhouse.js';
export { migrate, appliedMigrations, MIGRATIONS, OPEN_END, type Migration } from './schema/migrations.js';
export { AuditProjection, type AuditProjectionOptions, type AuditProjectionMetrics } from './ingestion/audit-projection.js';
export { auditRowOf, subjectOf, type AuditRow } from './ingestion/audit-row.js';
export { CheckpointStore, type Checkpoint } from './ingestion/checkpoint.js';
export {
  AuditSearchQuery,
  searchAuditEvents,
  type AuditSearchFilters,
  type AuditEvent,
  type AuditSearchPage,
} from './queries/audit-search.js';
