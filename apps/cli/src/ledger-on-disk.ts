import { join } from 'node:path';
import type { LedgerConfig } from '@access-ledger/config';
import { openEventStore, type EventStore } from '@access-ledger/event-store';
import { createLedger } from '@access-ledger/ledger';

export type OpenedLedger = Awaited<ReturnType<typeof createLedger>>;

/** The Ledger on the data directory, directly (not over HTTP), with the stores the configuration names. */
export async function withLedger<T>(config: LedgerConfig, work: (ledger: OpenedLedger) => Promise<T>): Promise<T> {
  const ledger = await createLedger({
    dataDir: config.dataDir,
    // A one-shot command checks the tails it could extend; the whole walk is the server's (and `ledger verify`'s).
    verifyWholeChains: false,
    ...(config.KURRENTDB_URL ? { kurrentdbUrl: config.KURRENTDB_URL } : {}),
    ...(config.CLICKHOUSE_URL ? { clickhouseUrl: config.CLICKHOUSE_URL } : {}),
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
export async function withEventStore<T>(config: LedgerConfig, work: (store: EventStore) => Promise<T>): Promise<T> {
  const store = openEventStore({
    sqlitePath: join(config.dataDir, 'events.sqlite'),
    ...(config.KURRENTDB_URL ? { kurrentdbUrl: config.KURRENTDB_URL } : {}),
  });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}
