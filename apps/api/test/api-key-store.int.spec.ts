import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from '@jest/globals';
import { openApiDatabase } from '../src/storage/api-database.js';
import { ApiKeyStore, formatPrincipal, parsePrincipal } from '../src/keys/api-key-store.js';

describe('API keys speak for a principal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-keys-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a key table made before principals gains the column; its keys become system and still authenticate', () => {
    const old = new DatabaseSync(join(dir, 'api.sqlite'));
    old.exec(`CREATE TABLE api_keys (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, name TEXT NOT NULL, scopes TEXT NOT NULL,
      secret_hash BLOB NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT)`);
    old.close();
    // A key created through the store, then its principal column removed again: the shape of a pre-migration row.
    const db = openApiDatabase(dir);
    const created = new ApiKeyStore(db).create({ tenantId: 'acme', scopes: ['commands:write'], principal: { kind: 'scim' } });
    db.exec('ALTER TABLE api_keys DROP COLUMN principal');
    db.close();

    const reopened = openApiDatabase(dir);
    const store = new ApiKeyStore(reopened);
    expect(store.authenticate(created.key)).toMatchObject({ id: created.id, principal: { kind: 'system' } });
    const member = store.create({ tenantId: 'acme', scopes: ['commands:write'], principal: { kind: 'member', orgId: 'org-1', userId: 'u-1' } });
    expect(store.authenticate(member.key)?.principal).toEqual({ kind: 'member', orgId: 'org-1', userId: 'u-1' });
    expect(store.list('acme').map((k) => formatPrincipal(k.principal))).toEqual(expect.arrayContaining(['system', 'member:org-1/u-1']));
    reopened.close();
  });

  it('principals are written and read as system, scim, platform or member:<orgId>/<userId>', () => {
    for (const text of ['system', 'scim', 'platform', 'member:org.1:x/u@example.com']) expect(formatPrincipal(parsePrincipal(text)!)).toBe(text);
    for (const bad of ['', 'import', 'member:', 'member:org', 'member:org/u/v', 'member:org/bad id', 'admin']) expect(parsePrincipal(bad)).toBeNull();
  });
});
