export * from './activity-source.js';
export { ComplianceApiClient, FEED_SCOPE, ORG_SCOPE, USER_SCOPE, retryAfterMs, type ComplianceApiOptions } from './compliance-api/client.js';
export { observeRoleUpdate } from './compliance-api/observe.js';
export { MAPPINGS, OBSERVED_TYPES, envelopeOf, eventIdOf, mapActivity, type Disposition, type MappedLine } from './compliance-api/mapping.js';
export { startFakeComplianceApi, type FakeComplianceApi, type FakeComplianceApiOptions } from './compliance-api/fake-server.js';
export {
  SourcesStore,
  activityDigest,
  readSourceCounts,
  syncOnce,
  type ImportPort,
  type SourceDefinition,
  type SourceStatus,
  type SyncOptions,
  type SyncReport,
} from './sync.js';
export { baselineOf, detectDrift, openDrift, recordBaseline, syncWithBaseline, type DriftItem, type DriftReport, type LedgerView } from './drift.js';
export { readSourceStates } from './source-states.js';
