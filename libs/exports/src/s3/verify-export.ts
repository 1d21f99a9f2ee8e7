import { GENESIS_DIGEST, parseChainKey, parseS3Uri } from './layout.js';
import { chainDigest, sha256Hex, type DigestRecord, type ExportManifest, type ManifestObject } from './manifest.js';
import type { S3ObjectStore } from './s3-store.js';

export type ExportProblemKind =
  | 'object-missing'
  | 'object-altered'
  | 'manifest-missing'
  | 'manifest-altered'
  | 'digest-missing'
  | 'digest-altered'
  | 'chain-broken'
  | 'head-mismatch';

export interface ExportProblem {
  readonly kind: ExportProblemKind;
  readonly tenantId: string;
  /** The object (or manifest/digest) concerned. */
  readonly key: string;
  readonly detail: string;
}

export interface TenantVerification {
  readonly tenantId: string;
  readonly exports: number;
  readonly objects: number;
  readonly rows: number;
  /** The newest digest of the chain as recomputed, or null when the tenant has no export. */
  readonly headDigest: string | null;
}

export interface ExportVerification {
  readonly location: string;
  /** Every listed object verifies, and there was something to verify (a prefix holding no export is not OK). */
  readonly ok: boolean;
  /** No tenant's export was found under the prefix (a typo, the wrong bucket, or everything deleted). */
  readonly empty: boolean;
  readonly tenants: readonly TenantVerification[];
  readonly problems: readonly ExportProblem[];
  /** Data objects that no manifest lists (an export interrupted before its manifest, or an addition). */
  readonly unlisted: readonly string[];
}

/**
 * `ledger verify-export s3://bucket/prefix`: walks every tenant's digest chain under the prefix,
 * re-hashes every manifest and every object the manifests list, and names each object that is missing
 * or whose bytes changed. An object listed by several exports (the same export run again) is checked
 * against the newest manifest that lists it. With `expectHead` (a digest kept elsewhere, e.g. the
 * export job's), removing the newest exports altogether is caught too.
 */
export async function verifyExport(
  store: S3ObjectStore,
  uri: string,
  options: { expectHead?: Record<string, string>; onProgress?: (checked: number, total: number) => void } = {},
): Promise<ExportVerification> {
  const loc = parseS3Uri(uri);
  const keys = await store.list(loc.bucket, loc.prefix === '' ? '' : `${loc.prefix}/`);
  const rootLength = loc.prefix === '' ? 0 : loc.prefix.length + 1;
  const byTenant = new Map<string, string[]>();
  for (const key of keys) {
    const m = /^tenant=([^/]+)\//.exec(key.slice(rootLength));
    if (!m) continue;
    const list = byTenant.get(m[1]!) ?? [];
    list.push(key);
    byTenant.set(m[1]!, list);
  }
  for (const tenantId of Object.keys(options.expectHead ?? {})) if (!byTenant.has(tenantId)) byTenant.set(tenantId, []);

  const problems: ExportProblem[] = [];
  const unlisted: string[] = [];
  const tenants: TenantVerification[] = [];
  for (const [tenantId, tenantKeys] of [...byTenant].sort(([a], [b]) => a.localeCompare(b))) {
    const report = (kind: ExportProblemKind, key: string, detail: string) => problems.push({ kind, tenantId, key, detail });
    const chainKeys = new Map<number, { manifest?: string; digest?: string }>();
    const dataKeys: string[] = [];
    for (const key of tenantKeys) {
      const chain = key.includes('/_exports/') ? parseChainKey(key) : null;
      if (!chain) {
        if (!key.includes('/_exports/')) dataKeys.push(key);
        continue;
      }
      const entry = chainKeys.get(chain.seq) ?? {};
      entry[chain.kind] = key;
      chainKeys.set(chain.seq, entry);
    }

    // The chain, oldest first. Sequence numbers are 1, 2, 3…; a gap is an export removed.
    const latest = new Map<string, ManifestObject>();
    const maxSeq = Math.max(0, ...chainKeys.keys());
    let previous = GENESIS_DIGEST;
    let head: string | null = null;
    for (let seq = 1; seq <= maxSeq; seq++) {
      const entry = chainKeys.get(seq);
      const label = `export #${seq}`;
      if (!entry?.manifest)
        report('manifest-missing', entry?.digest?.replace(/\.digest\.json$/, '.manifest.json') ?? `${label} manifest`, `the manifest of ${label} is missing`);
      if (!entry?.digest)
        report('digest-missing', entry?.manifest?.replace(/\.manifest\.json$/, '.digest.json') ?? `${label} digest`, `the digest of ${label} is missing`);
      if (!entry?.manifest) continue;
      const bytes = await store.get(loc.bucket, entry.manifest);
      if (!bytes) {
        report('manifest-missing', entry.manifest, `the manifest of ${label} is missing`);
        continue;
      }
      const record = entry.digest ? await readJson<DigestRecord>(store, loc.bucket, entry.digest) : null;
      if (entry.digest && !record) report('digest-altered', entry.digest, `the digest record of ${label} is unreadable`);
      const recomputed = chainDigest(bytes, previous);
      if (record) {
        if (record.manifestSha256 !== sha256Hex(bytes))
          report('manifest-altered', entry.manifest, `manifest bytes do not match the sha256 its digest records (${label})`);
        else if (record.previousDigest !== previous)
          report(
            'chain-broken',
            entry.digest!,
            `${label} chains to ${record.previousDigest.slice(0, 12)}…, but the previous digest is ${previous.slice(0, 12)}…`,
          );
        else if (record.digest !== recomputed)
          report('digest-altered', entry.digest!, `${label}: stored digest ${record.digest.slice(0, 12)}… ≠ recomputed ${recomputed.slice(0, 12)}…`);
      }
      let manifest: ExportManifest;
      try {
        manifest = JSON.parse(bytes.toString('utf8')) as ExportManifest;
      } catch {
        report('manifest-altered', entry.manifest, `manifest of ${label} is not valid JSON`);
        continue;
      }
      if (manifest.previousDigest !== previous && record?.previousDigest === previous)
        report('manifest-altered', entry.manifest, `manifest of ${label} names a different previous digest than its digest record`);
      for (const o of manifest.objects ?? []) latest.set(o.key, o);
      // Follow the stored chain when it is self-consistent, so one bad link is reported once, not for every later export.
      previous = record && record.previousDigest === previous ? record.digest : recomputed;
      head = previous;
    }
    const expected = options.expectHead?.[tenantId];
    if (expected !== undefined && expected !== head)
      report('head-mismatch', `tenant=${tenantId}`, `newest digest is ${head ?? 'absent'}, expected ${expected}: exports were removed or replaced`);

    let checked = 0;
    let rows = 0;
    for (const [key, object] of [...latest].sort(([a], [b]) => a.localeCompare(b))) {
      const stored = await store.hash(loc.bucket, key);
      if (!stored)
        report('object-missing', key, `listed in the manifest (${object.rows} rows, sha256 ${object.sha256.slice(0, 12)}…) but absent from the bucket`);
      else if (stored.sha256 !== object.sha256 || stored.bytes !== object.bytes)
        report(
          'object-altered',
          key,
          `sha256 ${stored.sha256.slice(0, 12)}… (${stored.bytes} bytes) ≠ manifest ${object.sha256.slice(0, 12)}… (${object.bytes} bytes)`,
        );
      rows += object.rows;
      options.onProgress?.(++checked, latest.size);
    }
    for (const key of dataKeys) if (!latest.has(key)) unlisted.push(key);
    tenants.push({ tenantId, exports: maxSeq, objects: latest.size, rows, headDigest: head });
  }
  const empty = tenants.length === 0;
  return { location: uri, ok: problems.length === 0 && !empty, empty, tenants, problems, unlisted };
}

async function readJson<T>(store: S3ObjectStore, bucket: string, key: string): Promise<T | null> {
  const body = await store.get(bucket, key);
  if (!body) return null;
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch {
    return null; // the caller reports an unparsable record as `digest-altered`, like a missing one
  }
}
