import type { PublicCheckpointKey, SignedCheckpoint } from '@access-ledger/event-store';
import type { AuditRange } from '../audit-row.js';
import type { ClickHouseAuditTable } from '../clickhouse-audit-table.js';
import type { ExportFormat, S3SinkConfig } from '../config.js';
import {
  GENESIS_DIGEST,
  dataObjectKey,
  dayWindow,
  digestKey,
  exportsPrefix,
  manifestKey,
  parseChainKey,
  parseS3Uri,
  positionalObjectKey,
  tenantPrefix,
  type S3Location,
} from './layout.js';
import { digestRecord, serializeManifest, sha256Hex, type DigestRecord, type ExportManifest, type ManifestObject } from './manifest.js';
import type { S3ObjectStore } from './s3-store.js';
import { ObjectExistsError } from '../errors.js';

/** Day objects one ClickHouse query writes at most (each is an open Parquet writer until the query ends). */
const DAYS_PER_QUERY = 64;

/** The Content-Type of a data object, whichever writer wrote it. */
export const CONTENT_TYPE: Record<ExportFormat, string> = {
  parquet: 'application/vnd.apache.parquet',
  jsonl: 'application/x-ndjson',
  csv: 'text/csv',
};

export interface S3ExportProgress {
  readonly rowsTotal: number;
  readonly rowsDone: number;
  readonly objectsTotal: number;
  readonly objectsDone: number;
}

export interface S3ExportResult {
  readonly location: string;
  readonly manifestKey: string;
  readonly digestKey: string;
  readonly digest: string;
  readonly previousDigest: string;
  readonly objects: readonly ManifestObject[];
  readonly rows: number;
  readonly upToPosition: number;
}

export interface S3ExportInput {
  readonly exportId: string;
  readonly tenantId: string;
  readonly from: string;
  readonly to: string;
  /** Defaults to the tenant's head position when the export starts. */
  readonly upToPosition?: number;
  /** Continuous sinks: only rows after this position; objects are then named by position range. */
  readonly afterPosition?: number;
}

/**
 * One export to S3: one object per UTC day of [from, to) (by occurredAt), then the manifest, then the
 * digest that chains it to the previous export under the same prefix. Objects first, manifest last:
 * an interrupted export leaves no manifest. Every object is written create-only (with the sink's Object Lock
 * retention, if any): running the same export again finds its earlier objects under the same keys, checks they hold
 * the same bytes and takes them (layout.ts).
 *
 * Exports to the same prefix and tenant must not run concurrently (the job runner serializes them):
 * the chain's sequence number is read, then written.
 */
export async function exportToS3(
  deps: {
    readonly table: ClickHouseAuditTable;
    readonly store: S3ObjectStore;
    readonly config: S3SinkConfig;
    readonly now?: () => Date;
    /** `false` when the caller has just checked the bucket itself (ExportJobs.start does): one preflight per export. */
    readonly preflight?: boolean;
    /** The signed checkpoint covering the event at this global position (ManifestObject.checkpoint). */
    readonly checkpointFor?: (tenantId: string, position: number) => Promise<SignedCheckpoint | undefined>;
    /** The public keys written into the manifest beside those checkpoints. */
    readonly checkpointKeys?: () => readonly PublicCheckpointKey[];
  },
  input: S3ExportInput,
  onProgress: (p: S3ExportProgress) => void = () => {},
): Promise<S3ExportResult> {
  const { table, store, config } = deps;
  const loc = parseS3Uri(config.uri);
  if (deps.preflight ?? true) await store.preflight(loc);
  const credentials = config.writer === 'clickhouse' ? await store.resolvedCredentials() : undefined;

  const upToPosition = input.upToPosition ?? (await table.headPosition(input.tenantId));
  const range: AuditRange = {
    tenantId: input.tenantId,
    from: input.from,
    to: input.to,
    upToPosition,
    ...(input.afterPosition === undefined ? {} : { afterPosition: input.afterPosition }),
  };
  const days = await table.planDays(range);
  const rowsTotal = days.reduce((n, d) => n + d.rows, 0);
  let rowsDone = 0;
  onProgress({ rowsTotal, rowsDone, objectsTotal: days.length, objectsDone: 0 });

  const planned = days.map((day) => {
    const window = dayWindow(day.day, input.from, input.to);
    const key =
      input.afterPosition === undefined
        ? dataObjectKey(loc, input.tenantId, day.day, window, upToPosition, config.format)
        : positionalObjectKey(loc, input.tenantId, day.day, { first: input.afterPosition + 1, last: upToPosition }, config.format);
    return { day, window, key };
  });
  const objects: ManifestObject[] = [];
  const root = tenantPrefix(loc, input.tenantId) + '/';
  // Chunks of days: one ClickHouse query writes a chunk's objects (one open writer per object, so
  // chunks bound the memory), then the objects are read back a few at a time to hash them.
  for (let c = 0; c < planned.length; c += DAYS_PER_QUERY) {
    const chunk = planned.slice(c, c + DAYS_PER_QUERY);
    let stored: ({ sha256: string; bytes: number } | null)[];
    if (credentials) {
      // Create-only: ClickHouse writes only the objects not there yet (and fails, s3_truncate_on_insert off, on one
      // that appears meanwhile); one already there (this export's earlier run) is rendered again and must hold the
      // same bytes.
      const there = await mapConcurrently(chunk, config.concurrency, (p) => store.hash(loc.bucket, p.key));
      const missing = chunk.filter((_, i) => there[i] === null);
      if (missing.length > 0)
        await table.writeDaysToS3(
          range,
          config.format,
          { url: `${store.objectUrl(loc.bucket, root)}{_partition_id}`, ...credentials },
          missing.map((p) => ({ day: p.day.day, name: p.key.slice(root.length) })),
        );
      // ClickHouse sends no Content-Type (S3 then says binary/octet-stream): set the format's, then hash what the
      // bucket holds, since ClickHouse wrote bytes we never saw.
      stored = await mapConcurrently(chunk, config.concurrency, async (p, i) => {
        const earlier = there[i];
        if (earlier) {
          const body = await table.render({ ...range, ...p.window }, config.format);
          const sha256 = sha256Hex(body);
          if (sha256 !== earlier.sha256) throw ObjectExistsError.withOtherBytes(loc.bucket, p.key, earlier.sha256, sha256);
          return earlier;
        }
        await store.setContentType(loc.bucket, p.key, CONTENT_TYPE[config.format]);
        return store.hash(loc.bucket, p.key);
      });
    } else {
      stored = await mapConcurrently(chunk, config.concurrency, async (p) => {
        const body = await table.render({ ...range, ...p.window }, config.format);
        await store.putCreateOnlyOrSame(loc.bucket, p.key, body, CONTENT_TYPE[config.format], config.objectLock);
        return { sha256: sha256Hex(body), bytes: body.length };
      });
    }
    chunk.forEach((p, i) => {
      const s = stored[i];
      if (!s) throw new Error(`object ${p.key} was written but cannot be read back from bucket ${loc.bucket}`);
      objects.push({
        key: p.key,
        day: p.day.day,
        ...p.window,
        rows: p.day.rows,
        bytes: s.bytes,
        sha256: s.sha256,
        minPosition: p.day.minPosition,
        maxPosition: p.day.maxPosition,
      });
      rowsDone += p.day.rows;
    });
    onProgress({ rowsTotal, rowsDone, objectsTotal: days.length, objectsDone: objects.length });
  }

  if (deps.checkpointFor !== undefined) {
    for (let i = 0; i < objects.length; i++) {
      const checkpoint = await deps.checkpointFor(input.tenantId, objects[i]!.maxPosition);
      if (checkpoint !== undefined) objects[i] = { ...objects[i]!, checkpoint };
    }
  }
  const previous = await latestDigest(store, loc, input.tenantId);
  const seq = (previous?.seq ?? 0) + 1;
  const mKey = manifestKey(loc, input.tenantId, seq, input.exportId);
  const dKey = digestKey(loc, input.tenantId, seq, input.exportId);
  // A run of this export that stopped between its manifest and its digest left the manifest: taken as it is when it
  // lists the same objects (only its time of making differs), so the chain goes on from it; otherwise an error.
  const earlier = await store.get(loc.bucket, mKey);
  let bytes: Uint8Array;
  let manifest: ExportManifest;
  if (earlier !== null) {
    manifest = JSON.parse(earlier.toString('utf8')) as ExportManifest;
    // (The checkpoint named beside each object may be a newer one now: the objects are compared without it.)
    const bare = (list: readonly ManifestObject[]) => JSON.stringify(list.map(({ checkpoint: _, ...o }) => o));
    if (bare(manifest.objects) !== bare(objects))
      throw new ObjectExistsError(loc.bucket, mKey, { detail: 'listing other objects than this run of the same export wrote' });
    bytes = earlier;
  } else {
    manifest = {
      version: 1,
      exportId: input.exportId,
      seq,
      tenantId: input.tenantId,
      format: config.format,
      range: { from: input.from, to: input.to, upToPosition, ...(input.afterPosition === undefined ? {} : { afterPosition: input.afterPosition }) },
      created: (deps.now ?? (() => new Date()))().toISOString(),
      objects,
      rows: rowsDone,
      previousDigest: previous?.digest ?? GENESIS_DIGEST,
      ...(deps.checkpointKeys !== undefined ? { checkpointKeys: deps.checkpointKeys() } : {}),
    };
    bytes = serializeManifest(manifest);
    await store.putCreateOnlyOrSame(loc.bucket, mKey, bytes, 'application/json', config.objectLock);
  }
  const record = digestRecord(manifest, mKey, bytes);
  await store.putCreateOnlyOrSame(loc.bucket, dKey, Buffer.from(JSON.stringify(record, null, 2) + '\n'), 'application/json', config.objectLock);

  return {
    location: `s3://${loc.bucket}/${loc.prefix}`,
    manifestKey: mKey,
    digestKey: dKey,
    digest: record.digest,
    previousDigest: record.previousDigest,
    objects,
    rows: rowsDone,
    upToPosition,
  };
}

/** The newest digest record of the tenant's chain under this prefix, or null for the first export. */
export async function latestDigest(store: S3ObjectStore, loc: S3Location, tenantId: string): Promise<DigestRecord | null> {
  const keys = (await store.list(loc.bucket, exportsPrefix(loc, tenantId))).filter((k) => parseChainKey(k)?.kind === 'digest').sort();
  const last = keys.at(-1);
  if (!last) return null;
  const body = await store.get(loc.bucket, last);
  if (!body) return null;
  return JSON.parse(body.toString('utf8')) as DigestRecord;
}

async function mapConcurrently<T, R>(items: readonly T[], concurrency: number, f: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}
