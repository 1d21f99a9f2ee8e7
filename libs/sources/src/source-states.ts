import { existsSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';

/**
 * Per source, when its last pass ended without error and whether its last pass failed, read from `sources.sqlite`
 * without writing to it (for /metrics, whichever process syncs: the server or `ledger sources sync`); empty when the
 * file does not exist.
 */
export function readSourceStates(path: string): { source: string; lastSyncAt: string | null; failing: boolean }[] {
  if (!existsSync(path)) return [];
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sources'").get()) return [];
    return (
      db.prepare('SELECT name, last_sync_at, last_error FROM sources ORDER BY name').all() as {
        name: string;
        last_sync_at: string | null;
        last_error: string | null;
      }[]
    ).map((r) => ({ source: r.name, lastSyncAt: r.last_sync_at, failing: r.last_error !== null }));
  } finally {
    db.close();
  }
}
