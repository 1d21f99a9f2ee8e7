export { AccessProjection, accessSnapshotPath, foldedFactsOf, type FoldedFacts, type TenantAccess } from './access-projection.js';
export { ProjectionRunner, type Projection, type RunnerOptions } from './projection-runner.js';
export { pauser } from './pauser.js';
export * from './access-intervals.js';
export { AccessQuarantine, accessQuarantinePath, type HeldEvent } from './access-quarantine.js';
