import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * The one reader of `process.env` for the server and the CLI (after Immich's config.repository.ts): the environment is
 * read and validated here, once, into a typed object; libraries take their settings as arguments and never look at the
 * environment themselves (test/architecture.spec.ts keeps it so). CLI flags (`--data-dir`, `--port`, `--url`…)
 * override a variable by passing it to `loadConfig` as an override, so a flag and its variable are validated alike.
 * The S3 sink's credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION…) are the one exception: the AWS SDK
 * reads them itself, as its documentation prescribes.
 */

const Port = z.coerce.number().int().min(0).max(65535);
const Bytes = z.coerce.number().int().positive();
const Optional = z
  .string()
  .optional()
  .transform((s) => (s === undefined || s.trim() === '' ? undefined : s));

/** How long `minPosition` on the audit and report routes waits unless `READ_MODEL_WAIT_MS` says otherwise. */
export const DEFAULT_READ_WAIT_MS = 10_000;

/** Every variable the server and the CLI read (README "Configuration" has the table). */
export const LedgerEnvironment = z
  .object({
    PORT: Port.default(8080),
    HOST: z.string().min(1).default('127.0.0.1'),
    LEDGER_DATA_DIR: z.string().min(1).default('./data'),
    KURRENTDB_URL: Optional,
    CLICKHOUSE_URL: Optional,
    /** JSON file of named sinks for one-shot exports and live sinks followed from start (apps/api/src/exports/sinks-file.ts). */
    LEDGER_SINKS_FILE: Optional,
    /** JSON file of Compliance API sources the server syncs in the background from its start (apps/api/src/sources/sources-file.ts). */
    LEDGER_SOURCES_FILE: Optional,
    COMMAND_BODY_LIMIT: Bytes.default(1024 * 1024),
    IMPORT_BODY_LIMIT: Bytes.default(64 * 1024 * 1024),
    RATE_LIMIT_PER_SECOND: z.coerce.number().min(0).default(1000),
    RATE_LIMIT_BURST: z.coerce.number().min(1).default(2000),
    /** Requests without an API key (docs, metrics, unknown paths), per client address; /health and /ready are never limited. 0 disables. */
    RATE_LIMIT_ANON_PER_SECOND: z.coerce.number().min(0).default(20),
    RATE_LIMIT_ANON_BURST: z.coerce.number().min(1).default(100),
    /** apps/api/src/http-limits.ts has the reasons for the defaults. */
    HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(300_000),
    HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
    HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().positive().default(65_000),
    /** Lowered at start to `ulimit -n` minus 256 when that is smaller (Linux). */
    HTTP_MAX_CONNECTIONS: z.coerce.number().int().positive().default(10_000),
    /** Unanswered pipelined requests one connection may have before it is closed. */
    HTTP_MAX_PIPELINED: z.coerce.number().int().positive().default(32),
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
    /** `text` (readable) or `json` (one object a line, for a log shipper): the access log's lines. */
    LOG_FORMAT: z.enum(['text', 'json']).default('text'),
    /** One line per HTTP request (`false` turns them off; X-Request-Id is set either way). */
    ACCESS_LOG: z
      .enum(['true', 'false'])
      .default('true')
      .transform((v) => v === 'true'),
    /** How long an audit or report request with `minPosition` waits for the read model to hold it (then 503). */
    READ_MODEL_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(DEFAULT_READ_WAIT_MS),
    /** The server signs a checkpoint of a tenant's Merkle tree after this many new events… */
    CHECKPOINT_EVERY_EVENTS: z.coerce.number().int().min(1).default(10_000),
    /** …or this many seconds after its last one, if anything was appended (0: no checkpoints by the server). */
    CHECKPOINT_EVERY_SECONDS: z.coerce.number().int().min(0).default(60),
    /** CLI only: `ledger report --url` asks this running server instead of opening the data directory. */
    LEDGER_URL: Optional,
    /** CLI only: the API key for `--url`. */
    LEDGER_KEY: Optional,
    /** CLI only: the HEC token of `ledger export --to splunk`. */
    SPLUNK_HEC_TOKEN: Optional,
  })
  .refine((c) => c.HTTP_HEADERS_TIMEOUT_MS <= c.HTTP_REQUEST_TIMEOUT_MS, {
    path: ['HTTP_HEADERS_TIMEOUT_MS'],
    message: 'must not exceed HTTP_REQUEST_TIMEOUT_MS (the request timeout includes the headers)',
  });

/** The validated configuration, with `dataDir` the absolute LEDGER_DATA_DIR. */
export type LedgerConfig = z.infer<typeof LedgerEnvironment> & { readonly dataDir: string };

/** A variable's value as a flag gives it (undefined: the flag was not given, the environment decides). */
export type ConfigOverrides = { readonly [K in keyof z.input<typeof LedgerEnvironment>]?: string | undefined };

/**
 * The configuration from `env` (the process's environment unless given) with `overrides` on top; an override that is
 * undefined leaves the variable to the environment. Throws one error listing every invalid variable.
 */
export function loadConfig(overrides: ConfigOverrides = {}, env: Readonly<Record<string, string | undefined>> = process.env): LedgerConfig {
  const given = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const parsed = LedgerEnvironment.safeParse({ ...env, ...given });
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`invalid configuration:\n${lines}`);
  }
  return { ...parsed.data, dataDir: resolve(parsed.data.LEDGER_DATA_DIR) };
}
