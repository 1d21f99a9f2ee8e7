import { resolve } from 'node:path';
import { createLedger } from '../../../libs/projections/src/index.js';

export type OpenedLedger = Awaited<ReturnType<typeof createLedger>>;

/** The Ledger on the data directory, directly (not over HTTP), with the stores the environment names. */
export async function withLedger<T>(dataDir: string, work: (ledger: OpenedLedger) => Promise<T>): Promise<T> {
  const ledger = await createLedger({
    dataDir: resolve(dataDir),
    ...(process.env.KURRENTDB_URL ? { kurrentdbUrl: process.env.KURRENTDB_URL } : {}),
    ...(process.env.CLICKHOUSE_URL ? { clickhouseUrl: process.env.CLICKHOUSE_URL } : {}),
  });
  try {
    return await work(ledger);
  } finally {
    await ledger.close();
  }
}
