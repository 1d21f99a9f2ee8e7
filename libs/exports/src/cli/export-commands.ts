import cliProgress from 'cli-progress';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { InstantParam } from '@access-ledger/access-model';
import type { ClickHouseAuditTable } from '../clickhouse-audit-table.js';
import { HecSinkConfig, S3SinkConfig, type ExportFormat } from '../config.js';
import { HecDelivery } from '../hec/hec-delivery.js';
import { exportToHec } from '../hec/hec-export.js';
import { exportToS3 } from '../s3/s3-export.js';
import { S3ObjectStore } from '../s3/s3-store.js';
import { SinkConfigurationError } from '../errors.js';
import { parseS3Uri } from '../s3/layout.js';
import { verifyExport, type ExportVerification } from '../s3/verify-export.js';

/**
 * What the CLI runs for `ledger export s3|splunk …` and `ledger verify-export s3://bucket/prefix`:
 * parsed options in, a progress bar on stderr, a summary on stdout, an exit code out
 * (0 done, 1 failed, 2 configuration refused). The CLI's commander program (apps/cli) maps flags to these options.
 */
export interface CliOutput {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Draw a progress bar (default: when stderr is a TTY). */
  readonly progress?: boolean;
}

const consoleOutput: CliOutput = { out: (l) => console.log(l), err: (l) => console.error(l) };

export interface S3ConnectionOptions {
  readonly endpoint?: string;
  readonly pathStyle?: boolean;
  readonly region?: string;
}

export interface ExportS3CommandOptions extends S3ConnectionOptions {
  readonly tenant: string;
  readonly from: string;
  readonly to: string;
  /** s3://bucket/prefix */
  readonly uri: string;
  readonly format?: ExportFormat;
  readonly writer?: 'clickhouse' | 'upload';
}

export interface ExportSplunkCommandOptions {
  readonly tenant: string;
  readonly from: string;
  readonly to: string;
  readonly url: string;
  readonly token: string;
  readonly index?: string;
  readonly source?: string;
  readonly sourcetype?: string;
  readonly ack?: boolean;
  readonly deadLetter?: string;
}

function bar(io: CliOutput, unit: string): { start(total: number): void; update(done: number): void; stop(): void } {
  if (!(io.progress ?? process.stderr.isTTY)) return { start() {}, update() {}, stop() {} };
  const b = new cliProgress.SingleBar(
    { format: `{bar} {percentage}% | {value}/{total} ${unit} | {duration_formatted}`, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    start(total) {
      if (!started) b.start(total, 0);
      started = true;
    },
    update(done) {
      b.update(done);
    },
    stop() {
      if (started) b.stop();
    },
  };
}

function exitCodeOf(e: unknown, io: CliOutput): number {
  const error = e as Error;
  io.err(`${error.name}: ${error.message}`);
  return error.name === 'SinkConfigurationError' || error.name === 'ZodError' ? 2 : 1;
}

/** `--from`/`--to` in the one instant grammar (normalised to UTC milliseconds), from before to. */
const ExportPeriod = z.object({ from: InstantParam, to: InstantParam }).refine((p) => p.from < p.to, { path: ['to'], message: 'must be after --from' });

/** The period, or undefined after printing every failing flag (exit 2, as any refused configuration). */
function periodOf(o: { from: string; to: string }, io: CliOutput): { from: string; to: string } | undefined {
  const parsed = ExportPeriod.safeParse({ from: o.from, to: o.to });
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) io.err(`--${issue.path.join('.')} ${JSON.stringify(o[issue.path[0] as 'from' | 'to'])}: ${issue.message}`);
  return undefined;
}

export async function exportS3Command(table: ClickHouseAuditTable, o: ExportS3CommandOptions, io: CliOutput = consoleOutput): Promise<number> {
  const period = periodOf(o, io);
  if (!period) return 2;
  const progress = bar(io, 'rows');
  let store: S3ObjectStore | null = null;
  try {
    const config = S3SinkConfig.parse({
      kind: 's3',
      uri: o.uri,
      ...(o.format ? { format: o.format } : {}),
      ...(o.endpoint ? { endpoint: o.endpoint } : {}),
      forcePathStyle: o.pathStyle ?? o.endpoint !== undefined,
      ...(o.region ? { region: o.region } : {}),
      ...(o.writer ? { writer: o.writer } : {}),
    });
    store = new S3ObjectStore(config);
    const result = await exportToS3({ table, store, config }, { exportId: `cli-${randomUUID()}`, tenantId: o.tenant, ...period }, (p) => {
      progress.start(p.rowsTotal);
      progress.update(p.rowsDone);
    });
    progress.stop();
    io.out(`exported ${result.rows} rows in ${result.objects.length} objects to ${result.location}`);
    io.out(`manifest ${result.manifestKey}`);
    io.out(`digest   ${result.digest} (previous ${result.previousDigest})`);
    return 0;
  } catch (e) {
    progress.stop();
    return exitCodeOf(e, io);
  } finally {
    store?.destroy();
  }
}

export async function exportSplunkCommand(table: ClickHouseAuditTable, o: ExportSplunkCommandOptions, io: CliOutput = consoleOutput): Promise<number> {
  const period = periodOf(o, io);
  if (!period) return 2;
  const progress = bar(io, 'events');
  let delivery: HecDelivery | null = null;
  try {
    const config = HecSinkConfig.parse({
      kind: 'splunk',
      url: o.url,
      token: o.token,
      ...(o.index ? { index: o.index } : {}),
      ...(o.source ? { source: o.source } : {}),
      ...(o.sourcetype ? { sourcetype: o.sourcetype } : {}),
      ack: o.ack ?? false,
      deadLetterPath: o.deadLetter ?? `splunk-dead-letter-${new Date().toISOString().replace(/[:.]/g, '')}.ndjson`,
    });
    const upToPosition = await table.headPosition(o.tenant);
    const total = await table.countRange({ tenantId: o.tenant, ...period, upToPosition });
    delivery = new HecDelivery(config, { onCheckpoint: (_p, stats) => progress.update(stats.delivered) });
    progress.start(total);
    const done = await exportToHec(table, delivery, { tenantId: o.tenant, ...period, upToPosition, after: null });
    progress.stop();
    const s = delivery.stats;
    io.out(
      `delivered ${done.delivered} events to ${o.url} (${s.requests} requests, ${s.retries} retries, ${s.deadLettered} dead-lettered${s.deadLettered ? ` → ${config.deadLetterPath}` : ''})`,
    );
    const resent = s.resentAfterAckTimeout + s.resentAroundBadData;
    if (resent > 0) io.out(`${resent} events were sent more than once (at-least-once): deduplicate in Splunk by event_id`);
    return 0;
  } catch (e) {
    progress.stop();
    return exitCodeOf(e, io);
  } finally {
    delivery?.close();
  }
}

export async function verifyExportCommand(
  uri: string,
  o: S3ConnectionOptions & { readonly expectHead?: Readonly<Record<string, string>> } = {},
  io: CliOutput = consoleOutput,
): Promise<number> {
  const config = { region: o.region ?? 'us-east-1', forcePathStyle: o.pathStyle ?? o.endpoint !== undefined, ...(o.endpoint ? { endpoint: o.endpoint } : {}) };
  const store = new S3ObjectStore(config);
  const progress = bar(io, 'objects');
  try {
    let loc: ReturnType<typeof parseS3Uri>;
    try {
      loc = parseS3Uri(uri);
    } catch (e) {
      throw new SinkConfigurationError('s3', (e as Error).message, { cause: e });
    }
    // Configuration first (exit 2): credentials the chain can find, a bucket that exists and lets us in.
    await store.resolvedCredentials();
    await store.preflight(loc);
    const result = await verifyExport(store, uri, {
      ...(o.expectHead ? { expectHead: o.expectHead } : {}),
      onProgress: (checked, total) => {
        progress.start(total);
        progress.update(checked);
      },
    });
    progress.stop();
    for (const line of describeVerification(result)) io.out(line);
    return result.ok ? 0 : 1;
  } catch (e) {
    progress.stop();
    return exitCodeOf(e, io);
  } finally {
    store.destroy();
  }
}

/** Human lines for a verification: one per tenant, then one per problem naming the object. */
export function describeVerification(v: ExportVerification): string[] {
  const lines = v.tenants.map(
    (t) => `tenant ${t.tenantId}: ${t.exports} exports, ${t.objects} objects, ${t.rows} rows, head digest ${t.headDigest ?? '(none)'}`,
  );
  for (const p of v.problems) lines.push(`FAIL ${p.kind} ${p.key}: ${p.detail}`);
  for (const key of v.unlisted) lines.push(`note: ${key} is listed by no manifest (an interrupted export, or an addition)`);
  if (v.empty) lines.push(`FAILED: nothing to verify under ${v.location} (no tenant=<id>/ export there: check the bucket and prefix)`);
  else lines.push(v.ok ? `OK: ${v.location} verifies` : `FAILED: ${v.problems.length} problem(s) in ${v.location}`);
  return lines;
}
