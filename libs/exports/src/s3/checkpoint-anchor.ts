import type { SignedCheckpoint } from '@access-ledger/event-store';
import { tenantPrefix, type S3Location } from './layout.js';
import type { ObjectLockRetention, S3ObjectStore } from './s3-store.js';

/**
 * Anchoring: a signed checkpoint shipped to the tenant's S3 prefix, create-only, as
 * `<prefix>/tenant=<t>/_checkpoints/<treeSize, 12 digits>.json`. Once there it is never overwritten (an existing key is
 * `ObjectExistsError`), and with Object Lock in compliance mode nobody can delete it before its retention ends: a
 * later rewrite of the store's tail is then caught by `ledger verify --against` that object.
 */
export function checkpointObjectKey(loc: S3Location, checkpoint: SignedCheckpoint): string {
  return `${tenantPrefix(loc, checkpoint.tenantId)}/_checkpoints/${String(checkpoint.treeSize).padStart(12, '0')}.json`;
}

export async function anchorCheckpointToS3(store: S3ObjectStore, loc: S3Location, checkpoint: SignedCheckpoint, lock?: ObjectLockRetention): Promise<string> {
  const key = checkpointObjectKey(loc, checkpoint);
  await store.putCreateOnly(loc.bucket, key, Buffer.from(`${JSON.stringify(checkpoint, null, 2)}\n`), 'application/json', lock);
  return key;
}
