import { KurrentDbEventStore } from './kurrentdb/kurrentdb-event-store.js';
import type { EventStore } from './port.js';
import { SqliteEventStore, type SqliteEventStoreOptions } from './sqlite/sqlite-event-store.js';

export * from './port.js';
export {
  canonicalJson,
  chainDefect,
  eventHash,
  eventHashOfCanonical,
  GENESIS_HASH,
  NonCanonicalJsonError,
  sha256Hex,
  verifyEvents,
  verifyStoredEvents,
} from './chain.js';
export type { ChainedContent, ChainLink, StoredChainLink } from './chain.js';
export {
  consistencyPath,
  EMPTY_TREE_HASH,
  inclusionPath,
  leafHashOfChainHash,
  MerkleFrontier,
  merkleLeafHash,
  merkleNodeHash,
  rootOfLeafHashes,
  splitPoint,
  verifyConsistency,
  verifyInclusion,
  type SubtreeHashes,
} from './merkle.js';
export {
  CheckpointFiles,
  CheckpointKeyring,
  startCheckpointer,
  type CheckpointerOptions,
  checkpointSignatureDefect,
  checkpointSigningBytes,
  consistencyProofFile,
  inclusionProofFile,
  keyIdOf,
  makeCheckpoint,
  proofFileDefect,
  verifyAgainstCheckpoint,
  type CheckpointBody,
  type CheckpointVerification,
  type ConsistencyProofFile,
  type InclusionProofFile,
  type ProofFile,
  type ProvenEvent,
  type PublicCheckpointKey,
  type SignedCheckpoint,
} from './checkpoints.js';
export { MerkleTreeError } from './sqlite/merkle-tree.js';
export { satisfiesExpectedRevision } from './expected-revision.js';
export { SqliteEventStore } from './sqlite/sqlite-event-store.js';
export { backupSqliteFile, copyFileDurably, sha256OfFile, type CopyProgress } from './sqlite/sqlite-backup.js';
export type { SqliteEventStoreOptions } from './sqlite/sqlite-event-store.js';
export { KurrentDbEventStore, kurrentEventUuid } from './kurrentdb/kurrentdb-event-store.js';

export interface EventStoreConfig {
  /** SQLite file used when no KurrentDB URL is configured (e.g. `$LEDGER_DATA_DIR/events.sqlite`). */
  readonly sqlitePath: string;
  /** KurrentDB connection string (the KURRENTDB_URL setting, read by @access-ledger/config); absent or empty: SQLite. */
  readonly kurrentdbUrl?: string;
  readonly sqlite?: SqliteEventStoreOptions;
}

/** KurrentDB when a connection string is configured (http-api.md, "Running"), else the embedded SQLite store. */
export function openEventStore(config: EventStoreConfig): EventStore {
  const url = config.kurrentdbUrl;
  if (url !== undefined && url !== '') return KurrentDbEventStore.connect(url);
  return SqliteEventStore.open(config.sqlitePath, config.sqlite);
}
