import { createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import { drainPending } from 'chdb';
import { createChdbConnection } from 'chdb/connection';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

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
  /** ClickHouse server URL (http[s]://user:pass@host:8123). Defaults to `CLICKHOUSE_URL`. */
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
  date_time_output_format: 'iso',
  output_format_json_quote_64bit_integers: 0,
};

type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

const backends = new WeakMap<ClickHouseClient, ReadModelBackend>();

export function openClickHouse(options: OpenClickHouseOptions = {}): ClickHouseClient {
  const url = options.url ?? process.env.CLICKHOUSE_URL;
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
  const connection = createChdbConnection({ path: dataPath }) as unknown as ClientConnection;
  const client = createClient({ connection, clickhouse_settings: DEFAULT_SETTINGS });
  const closeConnection = client.close.bind(client);
  // Draining lets the same process open chDB at another path afterwards (tests, rebuild tools).
  client.close = async () => {
    await closeConnection();
    await drainPending();
  };
  backends.set(client, 'chdb');
  return client;
}

export function backendOf(client: ClickHouseClient): ReadModelBackend {
  return backends.get(client) ?? 'server';
}
