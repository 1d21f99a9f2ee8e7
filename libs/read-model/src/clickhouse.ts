import { createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import { drainPending } from 'chdb';
import { createChdbConnection, type ChdbConnection } from 'chdb/connection';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';

/**
 * One code path for both read-model backends: the official `@clickhouse/client`, talking either to a
 * ClickHouse server over HTTP (`CLICKHOUSE_URL`) or to embedded chDB through chdb's connection hook.
 *
 * What we found about chdb 3.4 (see docs/read-model.md):
 * - libchdb binds ONE data directory per process. Any number of sessions may share that directory,
 *   but a session at another path is refused until every session at the first path is closed and
 *   `drainPending()` has resolved — so `close()` below drains.
 * - `queryAsync`/`queryBindAsync` (what the connection hook uses) run on a libuv thread; they do not
 *   block the event loop. Only JSON (de)serialisation of rows happens on the loop, which is why the
 *   projection keeps batches to a few thousand rows.
 * - The hook turns `clickhouse_settings` into `SET k = v; <sql>` on the session, and a SET sticks to
 *   the session. A per-insert `insert_deduplication_token` would therefore leak into the next insert
 *   and silently drop it. The defaults below are sent with every call, so each call resets the token.
 */
export interface OpenClickHouseOptions {
  /** ClickHouse server URL (http[s]://user:pass@host:8123). The CLICKHOUSE_URL setting, read by @access-ledger/config; absent: chDB. */
  readonly url?: string;
  /** Embedded chDB data directory; used when no URL is given. */
  readonly dataPath?: string;
  /** Server database (ignored by chDB, whose session has its own default database). */
  readonly database?: string;
}

export type ReadModelBackend = 'server' | 'chdb';

const DEFAULT_SETTINGS: ClickHouseSettings = {
  // Reset on every call: see the note above on settings sticking to a chDB session.
  insert_deduplication_token: '',
  // Instants cross the boundary as ISO-8601 UTC with milliseconds (http-api.md).
  date_time_input_format: 'best_effort',
  // A JSON object given for a String column is stored as its text (the audit payload: see auditLineOf).
  input_format_json_read_objects_as_strings: 1,
  date_time_output_format: 'iso',
  output_format_json_quote_64bit_integers: 0,
};

type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

const backends = new WeakMap<ClickHouseClient, ReadModelBackend>();
const chdbExtensions = new WeakMap<ClickHouseClient, ChdbConnection['chdb']>();

export function openClickHouse(options: OpenClickHouseOptions = {}): ClickHouseClient {
  const url = options.url;
  if (url) {
    const client = createClient({
      url,
      ...(options.database ? { database: options.database } : {}),
      clickhouse_settings: DEFAULT_SETTINGS,
      request_timeout: 120_000,
    });
    backends.set(client, 'server');
    return client;
  }
  const dataPath = resolve(options.dataPath ?? 'data/clickhouse');
  mkdirSync(dataPath, { recursive: true });
  // chdb types its connection against its own copy of @clickhouse/client-common; the contract is the same.
  const chdbConnection = createChdbConnection({ path: dataPath });
  const client = createClient({ connection: chdbConnection as unknown as ClientConnection, clickhouse_settings: DEFAULT_SETTINGS });
  chdbExtensions.set(client, chdbConnection.chdb);
  const closeConnection = client.close.bind(client);
  // Draining lets the same process open chDB at another path afterwards (tests, rebuild tools).
  client.close = async () => {
    await closeConnection();
    await drainPending();
  };
  backends.set(client, 'chdb');
  return client;
}

/** chDB's raw escape hatches (rawInsert, queryStream) when the client is embedded; undefined for a server. */
export function chdbOf(client: ClickHouseClient): ChdbConnection['chdb'] | undefined {
  return chdbExtensions.get(client);
}

export function backendOf(client: ClickHouseClient): ReadModelBackend {
  return backends.get(client) ?? 'server';
}

/**
 * Rows as JSONCompactEachRow bytes (one JSON array per line, in `columns` order): the one payload both backends
 * take. Arrays, not objects: V8 serialises our 17-field audit rows several times faster as arrays, and the body
 * is a third smaller.
 */
export interface EncodedRows {
  readonly columns: readonly string[];
  readonly body: Buffer;
  readonly rows: number;
}

export function encodeRows<Row extends object>(
  rows: readonly Row[],
  columns: readonly (keyof Row & string)[] = Object.keys(rows[0] ?? {}) as (keyof Row & string)[],
): EncodedRows {
  const lines = new LineBuffer();
  for (const row of rows) lines.add(JSON.stringify(columns.map((column) => row[column])));
  return { columns, body: lines.take(), rows: rows.length };
}

/**
 * Lines encoded into one growing buffer as they are added, so that cutting a batch of many thousand lines costs
 * no join of them into one string and no second copy of it into bytes.
 */
export class LineBuffer {
  private bytes: Buffer;
  private length = 0;
  private count = 0;

  constructor(private readonly initialBytes = 1 << 20) {
    this.bytes = Buffer.allocUnsafe(initialBytes);
  }

  get lines(): number {
    return this.count;
  }

  add(line: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit, plus the newline.
    const worst = line.length * 3 + 1;
    if (this.length + worst > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.length + worst));
      this.bytes.copy(grown, 0, 0, this.length);
      this.bytes = grown;
    }
    if (this.count > 0) this.bytes[this.length++] = 0x0a;
    this.length += this.bytes.write(line, this.length, 'utf8');
    this.count++;
  }

  /** The lines so far, as bytes; the buffer starts empty again (with a fresh allocation: the bytes are handed off). */
  take(): Buffer {
    const taken = this.bytes.subarray(0, this.length);
    this.bytes = Buffer.allocUnsafe(Math.max(this.initialBytes, this.bytes.length));
    this.length = 0;
    this.count = 0;
    return taken;
  }
}

/**
 * Inserts encoded rows. On a server this is `client.insert` with the bytes as a stream. On chDB the connection
 * hook's insert pastes the body into the SQL text, which chDB parses several times slower than its raw insert
 * (measured: 20 000 audit rows ≈ 3× faster raw), so the same bytes go through `rawInsert`, whose per-insert
 * settings also cannot leak into the session. Same bytes, same settings, same table, either way.
 */
export async function insertEncodedRows(
  client: ClickHouseClient,
  options: { table: string; encoded: EncodedRows; deduplicationToken?: string },
): Promise<void> {
  const { table, encoded } = options;
  if (encoded.rows === 0) return;
  const chdb = chdbExtensions.get(client);
  if (chdb) {
    await chdb.rawInsert({
      table,
      values: encoded.body,
      format: 'JSONCompactEachRow',
      columns: encoded.columns,
      // Always explicit, '' included: a token SET by an earlier client call may still stick to the session.
      settings: {
        insert_deduplication_token: options.deduplicationToken ?? '',
        date_time_input_format: 'best_effort',
        input_format_json_read_objects_as_strings: 1,
      },
    });
    return;
  }
  await insertThroughClient(client, options);
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The server path: the bytes as the body of `INSERT … FORMAT JSONCompactEachRow` through `client.exec` (the
 * client's `insert` would re-serialise a stream of objects; `exec` sends bytes as they are). Exported so that
 * the embedded suite exercises it too (chdb's hook accepts the same call).
 */
export async function insertThroughClient(
  client: ClickHouseClient,
  options: { table: string; encoded: EncodedRows; deduplicationToken?: string },
): Promise<void> {
  const { table, encoded } = options;
  // Table and columns come from our code, never from a request; checked anyway since they are spliced.
  for (const name of [table, ...encoded.columns]) if (!IDENTIFIER.test(name)) throw new Error(`not an identifier: ${name}`);
  const result = await client.exec({
    query: `INSERT INTO ${table} (${encoded.columns.join(', ')}) FORMAT JSONCompactEachRow`,
    values: Readable.from([encoded.body], { objectMode: false }),
    clickhouse_settings: options.deduplicationToken ? { insert_deduplication_token: options.deduplicationToken } : {},
  });
  for await (const chunk of result.stream) void chunk;
}

export interface InsertRowsOptions {
  readonly table: string;
  readonly rows: readonly object[];
  /** Makes a re-insert of the same batch a no-op (tables with a deduplication window, see migrations.ts). */
  readonly deduplicationToken?: string;
}

export async function insertRows(client: ClickHouseClient, options: InsertRowsOptions): Promise<void> {
  if (options.rows.length === 0) return;
  await insertEncodedRows(client, {
    table: options.table,
    encoded: encodeRows(options.rows),
    ...(options.deduplicationToken ? { deduplicationToken: options.deduplicationToken } : {}),
  });
}
