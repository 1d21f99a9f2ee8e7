import { join, resolve } from 'node:path';
import { openEventStore, type EventStore } from '@access-ledger/event-store';
import { createLedger } from '@access-ledger/ledger';

export type OpenedLedger = Awaited<ReturnType<typeof createLedger>>;

/** The Ledger on the data directory, directly (not over HTTP), with the stores the environment names. */
export async function withLedger<T>(dataDir: string, work: (ledger: OpenedLedger) => Promise<T>): Promise<T> {
  const ledger = await createLedger({
    dataDir: resolve(dataDir),
    // A one-shot command checks the tails it could extend; the whole walk is the server's (and `ledger verify`'s).
    verifyWholeChains: false,
    ...(process.env.KURRENTDB_URL ? { kurrentdbUrl: process.env.KURRENTDB_URL } : {}),
    ...(process.env.CLICKHOUSE_URL ? { clickhouseUrl: process.env.CLICKHOUSE_URL } : {}),
  });
  try {
    return await work(ledger);
  } finally {
    await ledger.close();
  }
}

/**
 * The event store alone (`ledger verify`): no projection folded in the background, no snapshot written on close —
 * a check of a large store should not also rebuild the access state.
 */
export async function withEventStore<T>(dataDir: string, work: (store: EventStore) => Promise<T>): Promise<T> {
  const store = openEventStore({
    sqlitePath: join(resolve(dataDir), 'events.sqlite'),
    ...(process.env.KURRENTDB_URL ? { kurrentdbUrl: process.env.KURRENTDB_URL } : {}),
  });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}
