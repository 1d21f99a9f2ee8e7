import type { ExportFormat } from '../config.js';

/**
 * Where everything of an export lives in the bucket (pure):
 *
 *   <prefix>/tenant=<t>/dt=<YYYY-MM-DD>/events-<from>-<to>-upto<N>.<ext>  data, one object per day of a range
 *   <prefix>/tenant=<t>/dt=<YYYY-MM-DD>/events-p<first>-<last>.<ext>  data of a continuous sink's step (positions)
 *   <prefix>/tenant=<t>/_exports/<seq>-<exportId>.manifest.json       what an export wrote (objects, rows, sha256)
 *   <prefix>/tenant=<t>/_exports/<seq>-<exportId>.digest.json         sha256(manifest bytes + previous digest)
 *
 * Every object is written create-only (never overwritten). A data object's name says everything its bytes depend on
 * (tenant, time window or positions, the last position included, format), so running the same export again — a job
 * resumed after a crash keeps its last position — finds the same keys holding the same bytes and takes them as they
 * are, instead of adding duplicates; an object of that name with other bytes is an error.
 */

export interface S3Location {
  readonly bucket: string;
  /** No leading or trailing slash; '' for the bucket root. */
  readonly prefix: string;
}

export const GENESIS_DIGEST = '0'.repeat(64);

const EXTENSION: Record<ExportFormat, string> = { parquet: 'parquet', jsonl: 'jsonl', csv: 'csv' };

export function parseS3Uri(uri: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new Error(`not an s3:// URI: ${uri}`);
  const prefix = m[2]!.replace(/\/+$/, '');
  // ClickHouse's s3 function reads * ? { } in a URL as globs: such a prefix would write elsewhere.
  if (/[*?{}\\]/.test(prefix)) throw new Error(`s3 prefix must not contain * ? { } or \\: ${prefix}`);
  return { bucket: m[1]!, prefix };
}

function join(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/');
}

export function tenantPrefix(loc: S3Location, tenantId: string): string {
  return join(loc.prefix, `tenant=${tenantId}`);
}

/** `2026-03-01T09:30:00.000Z` → `20260301T093000000Z` (sortable, no characters S3 or URLs treat specially). */
export function compactInstant(iso: string): string {
  return iso.replace(/[-:.]/g, '');
}

export function dataObjectKey(
  loc: S3Location,
  tenantId: string,
  day: string,
  window: { from: string; to: string },
  upToPosition: number,
  format: ExportFormat,
): string {
  const name = `events-${compactInstant(window.from)}-${compactInstant(window.to)}-upto${upToPosition}.${EXTENSION[format]}`;
  return join(tenantPrefix(loc, tenantId), `dt=${day}`, name);
}

/** For continuous exports: named by the position range, `events-p<first>-<last>`, the same on a re-run after a crash. */
export function positionalObjectKey(loc: S3Location, tenantId: string, day: string, positions: { first: number; last: number }, format: ExportFormat): string {
  return join(tenantPrefix(loc, tenantId), `dt=${day}`, `events-p${positions.first}-${positions.last}.${EXTENSION[format]}`);
}

export function exportsPrefix(loc: S3Location, tenantId: string): string {
  return join(tenantPrefix(loc, tenantId), '_exports') + '/';
}

export function manifestKey(loc: S3Location, tenantId: string, seq: number, exportId: string): string {
  return `${exportsPrefix(loc, tenantId)}${String(seq).padStart(8, '0')}-${exportId}.manifest.json`;
}

export function digestKey(loc: S3Location, tenantId: string, seq: number, exportId: string): string {
  return `${exportsPrefix(loc, tenantId)}${String(seq).padStart(8, '0')}-${exportId}.digest.json`;
}

/** `…/_exports/00000012-<id>.digest.json` → { seq: 12, exportId } */
export function parseChainKey(key: string): { seq: number; exportId: string; kind: 'manifest' | 'digest' } | null {
  const m = /\/(\d{8})-(.+)\.(manifest|digest)\.json$/.exec(`/${key}`);
  return m ? { seq: Number(m[1]), exportId: m[2]!, kind: m[3] as 'manifest' | 'digest' } : null;
}

/** The part of [from, to) that falls on one UTC day. */
export function dayWindow(day: string, from: string, to: string): { from: string; to: string } {
  const dayStart = `${day}T00:00:00.000Z`;
  const dayEnd = new Date(Date.parse(dayStart) + 86_400_000).toISOString();
  return { from: from > dayStart ? from : dayStart, to: to < dayEnd ? to : dayEnd };
}
