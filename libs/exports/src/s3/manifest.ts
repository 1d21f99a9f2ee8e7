import { createHash } from 'node:crypto';
import type { PublicCheckpointKey, SignedCheckpoint } from '@access-ledger/event-store';
import type { ExportFormat } from '../config.js';

/**
 * The manifest of one export and the digest chain over all exports of a tenant under a prefix (pure).
 *
 * digest(n) = sha256( manifest bytes of export n ‖ digest(n-1) ), digest(0) = 64 zeros.
 * Each manifest lists every object with its sha256, so re-hashing the objects and re-walking the chain
 * proves no listed object was removed or altered and no manifest was changed. Anchor the newest digest
 * somewhere else (the export job keeps it) to also catch the removal of the newest exports themselves.
 */

export interface ManifestObject {
  readonly key: string;
  readonly day: string;
  readonly from: string;
  readonly to: string;
  readonly rows: number;
  readonly bytes: number;
  readonly sha256: string;
  readonly minPosition: number;
  readonly maxPosition: number;
  /**
   * A signed checkpoint whose tree covers this object's last event (maxPosition), so an exported day can be
   * proven part of the log (docs/proofs.md); absent when the export ran without the event store's trees.
   */
  readonly checkpoint?: SignedCheckpoint;
}

export interface ExportManifest {
  readonly version: 1;
  readonly exportId: string;
  readonly seq: number;
  readonly tenantId: string;
  readonly format: ExportFormat;
  readonly range: { readonly from: string; readonly to: string; readonly upToPosition: number; readonly afterPosition?: number };
  readonly created: string;
  readonly objects: readonly ManifestObject[];
  readonly rows: number;
  readonly previousDigest: string;
  /** The public keys that verify the objects' checkpoints (retired ones included), as GET /checkpoints/keys. */
  readonly checkpointKeys?: readonly PublicCheckpointKey[];
}

export interface DigestRecord {
  readonly seq: number;
  readonly exportId: string;
  readonly manifestKey: string;
  readonly manifestSha256: string;
  readonly previousDigest: string;
  readonly digest: string;
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function serializeManifest(manifest: ExportManifest): Buffer {
  return Buffer.from(JSON.stringify(manifest, null, 2) + '\n', 'utf8');
}

export function chainDigest(manifestBytes: Uint8Array, previousDigest: string): string {
  return createHash('sha256').update(manifestBytes).update(previousDigest, 'utf8').digest('hex');
}

export function digestRecord(manifest: ExportManifest, manifestKey: string, manifestBytes: Uint8Array): DigestRecord {
  return {
    seq: manifest.seq,
    exportId: manifest.exportId,
    manifestKey,
    manifestSha256: sha256Hex(manifestBytes),
    previousDigest: manifest.previousDigest,
    digest: chainDigest(manifestBytes, manifest.previousDigest),
  };
}
