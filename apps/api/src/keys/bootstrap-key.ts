import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiKeyStore, CreatedApiKey } from './api-key-store.js';
import { SCOPES } from './scopes.js';

export const BOOTSTRAP_TENANT = 'demo';

/**
 * On a fresh data directory (no key at all) makes one key with every scope for tenant `demo` and writes it
 * to `<dataDir>/bootstrap-key`, readable by the owner only (http-api.md "Running"). Returns it, or null
 * when keys existed already.
 */
export function ensureBootstrapKey(store: ApiKeyStore, dataDir: string): CreatedApiKey | null {
  if (store.count() > 0) return null;
  const key = store.create({ tenantId: BOOTSTRAP_TENANT, scopes: SCOPES, name: 'bootstrap' });
  const file = join(dataDir, 'bootstrap-key');
  writeFileSync(file, `${key.key}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // a stale file keeps its old mode through writeFileSync

  return key;
}
