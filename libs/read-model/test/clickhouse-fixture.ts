import type { ClickHouseClient } from '@clickhouse/client';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openClickHouse } from '../src/clickhouse.js';
import { migrate } from '../src/schema/migrations.js';

/**
 * A fresh, migrated read model for one test file: embedded chDB in a temporary directory, or a fresh database on
 * the ClickHouse server at `CLICKHOUSE_URL`. Every read-model spec runs `describe.each(BACKENDS)`, so the same
 * tests run against both when the variable is set (the server suite) and against chDB alone otherwise.
 */
export interface ClickHouseFixture {
  readonly client: ClickHouseClient;
  readonly dataPath: string;
  close(): Promise<void>;
}

export type Backend = 'chdb' | 'server';

export const SERVER_URL = process.env.CLICKHOUSE_URL || undefined;
export const BACKENDS: Backend[] = SERVER_URL ? ['chdb', 'server'] : ['chdb'];

export async function openFixture(backend: Backend = 'chdb'): Promise<ClickHouseFixture> {
  const url = SERVER_URL;
  if (backend === 'server' && url) {
    const database = `ledger_test_${process.pid}_${Date.now()}`;
    const admin = openClickHouse({ url });
    await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
    const client = openClickHouse({ url, database });
    await migrate(client);
    return {
      client,
      dataPath: '',
      close: async () => {
        await client.close();
        await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
        await admin.close();
      },
    };
  }
  const dataPath = mkdtempSync(join(tmpdir(), 'read-model-'));
  // Embedded tests never use a server, even when CLICKHOUSE_URL is set for the server suite.
  const client = openClickHouse({ url: '', dataPath });
  await migrate(client);
  return {
    client,
    dataPath,
    close: async () => {
      await client.close();
      rmSync(dataPath, { recursive: true, force: true });
    },
  };
}

export async function rows<T>(client: ClickHouseClient, query: string, query_params: Record<string, unknown> = {}): Promise<T[]> {
  const result = await client.query({ query, query_params, format: 'JSONEachRow' });
  return result.json<T>();
}
