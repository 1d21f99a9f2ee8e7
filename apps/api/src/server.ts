/**
 * The api app's heavy public face (NestJS, the stores, the read model), loaded on use by the CLI: the composition root
 * (`composeServer`), the signal handling of `main`, and the read model opened on a data directory for the offline
 * commands (`ledger report`, `ledger export`, `ledger quarantine`) with the report catalog they share with the routes.
 */
export { type ComposedServer, composeServer, type ReadSide, type ServerOverrides } from './compose.js';
export { closeOnSignals } from './main.js';
export {
  assertReadModelFree,
  purgeIntervalTombstones,
  ReadModelInUseError,
  readModelHolder,
  rebuildReadModelOnDisk,
  withReadModelOnDisk,
} from './read-model/read-model-on-disk.js';
export * as reports from './read-model/reports.js';
