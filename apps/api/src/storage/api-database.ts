import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

/**
 * The HTTP app's own state (API keys, idempotency answers) in one SQLite file next to the event store.
 * WAL lets the CLI (`ledger keys create`) write while the server reads; busy_timeout makes the two wait
 * for each other instead of failing.
 */
export function openApiDatabase(dataDir: string): DatabaseSync {
  mkdirSync(dataDir, { recursive: true });
  const db = new DatabaseSync(join(dataDir, 'api.sqlite'));
  db.exec(`
    PRAGMA journal_mode = WAL;
    PRAGMA busy_timeout = 5000;
    PRAGMA synchronous = NORMAL;
    CREATE TABLE IF NOT EXISTS api_keys (
      id          TEXT PRIMARY KEY,
      tenant_id   TEXT NOT NULL,
      name        TEXT NOT NULL,
      scopes      TEXT NOT NULL,
      secret_hash BLOB NOT NULL,
      created_at  TEXT NOT NULL,
      revoked_at  TEXT
    );
    CREATE INDEX IF NOT EXISTS api_keys_by_tenant ON api_keys (tenant_id);
    CREATE TABLE IF NOT EXISTS idempotency (
      tenant_id   TEXT NOT NULL,
      key         TEXT NOT NULL,
      state       TEXT NOT NULL,
      status      INTEGER,
      body        TEXT,
      created_at  TEXT NOT NULL,
      PRIMARY KEY (tenant_id, key)
    );
  `);
  // Every key speaks for a principal (api-key-store.ts). Keys made before this column existed
  // were trusted to act as anyone; they become `system`, the operator integration (README "API keys").
  const columns = db.prepare('PRAGMA table_info(api_keys)').all() as { name: string }[];
  if (!columns.some((c) => c.name === 'principal')) db.exec(`ALTER TABLE api_keys ADD COLUMN principal TEXT NOT NULL DEFAULT 'system'`);
  return db;
}
