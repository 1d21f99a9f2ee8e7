import { z } from 'zod';
import { Id, InstantParam } from '@access-ledger/access-model';

/**
 * Sink configuration and export requests: validated once at the edge (HTTP, CLI, config file),
 * trusted inside. The TypeScript types are derived from these schemas.
 */

export const ExportFormat = z.enum(['parquet', 'jsonl', 'csv']);
export type ExportFormat = z.infer<typeof ExportFormat>;

/** `s3://bucket/optional/prefix` — the prefix may be empty. */
export const S3Uri = z
  .string()
  .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, 'must look like s3://bucket/prefix (bucket: 3–63 characters a-z 0-9 . -)');

export const S3SinkConfig = z
  .object({
    kind: z.literal('s3'),
    /** Where objects go: `s3://bucket/prefix`. */
    uri: S3Uri,
    format: ExportFormat.default('parquet'),
    region: z.string().min(1).default('us-east-1'),
    /** For S3-compatible stores (MinIO, Ceph, s3rver): their URL, e.g. http://127.0.0.1:9000 */
    endpoint: z.url().optional(),
    /** Path-style addressing (`endpoint/bucket/key`); most S3-compatible stores need it. */
    forcePathStyle: z.boolean().default(false),
    /**
     * Explicit credentials are for S3-compatible stores only; leave them out to use the standard AWS
     * chain (environment, shared config/credentials files, SSO, web identity, container/instance roles).
     */
    credentials: z
      .object({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1), sessionToken: z.string().min(1).optional() })
      .strict()
      .optional(),
    /**
     * `clickhouse`: ClickHouse's `s3` table function writes each object straight from the table to S3
     * (no row passes through Node). `upload`: ClickHouse renders the object, Node uploads it with the
     * AWS SDK — for a ClickHouse server that cannot reach the bucket.
     */
    writer: z.enum(['clickhouse', 'upload']).default('clickhouse'),
    /** Objects hashed (clickhouse writer) or rendered and uploaded (upload writer) at once. */
    concurrency: z.number().int().min(1).max(32).default(4),
    /**
     * S3 Object Lock retention for the create-only objects written to this sink (anchored checkpoints, export
     * manifests and digests, and the upload writer's data objects — ClickHouse's `s3` function sends no such headers):
     * `x-amz-object-lock-mode` and a retain-until date `days` ahead. The bucket must have Object Lock enabled.
     */
    objectLock: z
      .object({ mode: z.enum(['GOVERNANCE', 'COMPLIANCE']), days: z.number().int().min(1).max(36_500) })
      .strict()
      .optional(),
  })
  .strict();
export type S3SinkConfig = z.infer<typeof S3SinkConfig>;

export const HecSinkConfig = z
  .object({
    kind: z.literal('splunk'),
    /** Base URL of the HEC endpoint, e.g. https://splunk.example.com:8088 */
    url: z.url(),
    token: z.string().min(1),
    index: z.string().min(1).optional(),
    source: z.string().min(1).default('access-ledger'),
    sourcetype: z.string().min(1).default('access-ledger:audit'),
    host: z.string().min(1).optional(),
    /** Indexer acknowledgement: the checkpoint moves only once Splunk says the batch is indexed. */
    ack: z.boolean().default(false),
    /** A batch is sent when it reaches this many (uncompressed) bytes… */
    maxBatchBytes: z
      .number()
      .int()
      .min(1024)
      .max(100 * 1024 * 1024)
      .default(512 * 1024),
    /** …or when its oldest event has waited this long (continuous sinks). */
    maxBatchDelayMs: z.number().int().min(1).default(1000),
    /** Batches sent and not yet acknowledged at once. */
    maxInFlight: z.number().int().min(1).max(64).default(4),
    requestTimeoutMs: z.number().int().min(10).default(30_000),
    /** An unacknowledged batch is sent again after this long (Splunk's recommendation: resend on lost ack). */
    ackTimeoutMs: z.number().int().min(10).default(120_000),
    ackPollIntervalMs: z.number().int().min(1).default(1000),
    retry: z
      .object({
        baseDelayMs: z.number().int().min(1).default(200),
        maxDelayMs: z.number().int().min(1).default(30_000),
        /** Consecutive failed attempts before the delivery gives up (the checkpoint stays where it was). */
        maxAttempts: z.number().int().min(1).default(10),
      })
      .strict()
      .default({ baseDelayMs: 200, maxDelayMs: 30_000, maxAttempts: 10 }),
    /** NDJSON file for events Splunk rejects as bad data (one line each, with the reason). */
    deadLetterPath: z.string().min(1).optional(),
    /** Accept a self-signed certificate (test or lab indexers only). */
    insecureSkipVerify: z.boolean().default(false),
  })
  .strict();
export type HecSinkConfig = z.infer<typeof HecSinkConfig>;
export type HecSinkConfigInput = z.input<typeof HecSinkConfig>;

export const SinkConfig = z.discriminatedUnion('kind', [S3SinkConfig, HecSinkConfig]);
export type SinkConfig = z.infer<typeof SinkConfig>;

/**
 * Body of `POST /v1/tenants/{t}/exports` (http-api.md): a one-shot export of the events whose
 * `occurredAt` lies in [from, to). The sink's settings come with the request or, by `sinkName`,
 * from the configured sinks.
 */
export const ExportRequest = z
  .object({
    sink: z.enum(['s3', 'splunk']),
    from: InstantParam,
    to: InstantParam,
    format: ExportFormat.optional(),
    /** A configured sink to use (its settings), instead of inline `s3`/`splunk` settings. */
    sinkName: Id.optional(),
    s3: S3SinkConfig.omit({ kind: true, format: true }).partial().optional(),
    splunk: HecSinkConfig.omit({ kind: true }).partial().optional(),
  })
  .strict()
  .refine((r) => Date.parse(r.from) < Date.parse(r.to), { message: 'from must be before to', path: ['to'] })
  .refine((r) => r.format === undefined || r.sink === 's3', { message: 'format applies to s3 exports only', path: ['format'] });
export type ExportRequest = z.infer<typeof ExportRequest>;

/** A sink that follows the event log live (configured, not requested). */
export const ContinuousSinkConfig = z
  .object({
    name: Id,
    tenantId: Id,
    sink: SinkConfig,
    /** How often the follower looks for new rows when it has caught up. */
    pollIntervalMs: z.number().int().min(10).default(1000),
  })
  .strict();
export type ContinuousSinkConfig = z.infer<typeof ContinuousSinkConfig>;
