/**
 * Exports of the audit trail to S3 and Splunk HEC. What other libraries and apps may use:
 * - schemas: ExportRequest (POST /v1/tenants/{t}/exports), SinkConfig / S3SinkConfig / HecSinkConfig,
 *   ContinuousSinkConfig (configured live sinks);
 * - ExportJobs (one-shot jobs: start/get/list/resume) over SqliteExportStateStore;
 * - SinkFollower (live sinks), verifyExport (ledger verify-export), exportToS3 / exportToHec for the CLI;
 * - ports: AuditRowSource (adapters ClickHouseAuditTable, EventStoreAuditSource), ExportStateStore.
 */
export { ExportFormat, ExportRequest, S3SinkConfig, HecSinkConfig, SinkConfig, ContinuousSinkConfig, S3Uri } from './config.js';
export type { HecSinkConfigInput } from './config.js';
export { ObjectExistsError, SinkConfigurationError, SinkUnavailableError } from './errors.js';
export {
  AUDIT_COLUMNS,
  NULLABLE_AUDIT_COLUMNS,
  type AuditRow,
  type RowCursor,
  type AuditRowSource,
  type AuditRange,
  type DaySlice,
  type PageQuery,
} from './audit-row.js';
export { ClickHouseAuditTable } from './clickhouse-audit-table.js';
export { EventStoreAuditSource } from './event-store-audit-source.js';

export { S3ObjectStore, type ObjectLockRetention } from './s3/s3-store.js';
export { anchorCheckpointToS3, checkpointObjectKey } from './s3/checkpoint-anchor.js';
export { exportToS3, latestDigest, type S3ExportInput, type S3ExportProgress, type S3ExportResult } from './s3/s3-export.js';
export { verifyExport, type ExportVerification, type ExportProblem, type ExportProblemKind, type TenantVerification } from './s3/verify-export.js';
export { parseS3Uri, dataObjectKey, GENESIS_DIGEST, type S3Location } from './s3/layout.js';
export { chainDigest, type ExportManifest, type ManifestObject, type DigestRecord } from './s3/manifest.js';

export { HecDelivery, type HecDeliveryStats, type HecDeliveryOptions } from './hec/hec-delivery.js';
export { exportToHec, type HecExportInput, type HecExportProgress } from './hec/hec-export.js';
export { toHecEvent, type HecEvent } from './hec/hec-event.js';
export { anchorCheckpointToHec, CHECKPOINT_SOURCETYPE } from './hec/checkpoint-anchor.js';
export type { DeadLetter } from './hec/dead-letter.js';

export { ExportJobs, preflight, type ExportJobsDeps } from './jobs/export-jobs.js';
export { SqliteExportStateStore, redactSink, type ExportJob, type ExportStatus, type ExportStateStore } from './jobs/export-state.js';
export { SinkFollower, type FollowerStatus, type SinkFollowerDeps } from './jobs/sink-follower.js';
export {
  exportS3Command,
  exportSplunkCommand,
  verifyExportCommand,
  describeVerification,
  type CliOutput,
  type ExportS3CommandOptions,
  type ExportSplunkCommandOptions,
  type S3ConnectionOptions,
} from './cli/export-commands.js';
