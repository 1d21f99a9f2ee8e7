import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { Id, type Principal } from '@access-ledger/access-model';
import type { Scope } from './scopes.js';

export interface ApiKeyRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly scopes: readonly Scope[];
  /** Who the key speaks for: a command without `actor` acts as this principal. */
  readonly principal: Principal;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

export interface CreatedApiKey extends ApiKeyRecord {
  /** The full key, shown once; only its hash is stored. */
  readonly key: string;
}

const PREFIX = 'lk_';
const KEY_PATTERN = /^lk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/**
 * API keys: `lk_<id>_<secret>` with a 256-bit random secret. Only SHA-256(secret) is stored.
 * A slow password hash (bcrypt, scrypt) protects low-entropy passwords against guessing; a 256-bit random
 * secret cannot be guessed, so a fast hash is as safe and keeps every request's check in microseconds.
 * The key's id selects the row; the secret's hash is compared in constant time, so response timing does
 * not reveal how much of a guessed secret was right.
 */
export class ApiKeyStore {
  private readonly byId: StatementSync;

  constructor(private readonly db: DatabaseSync) {
    this.byId = db.prepare('SELECT * FROM api_keys WHERE id = ?');
  }

  create(input: { tenantId: string; scopes: readonly Scope[]; principal?: Principal; name?: string; now?: Date }): CreatedApiKey {
    const principal = input.principal ?? { kind: 'system' };
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const createdAt = (input.now ?? new Date()).toISOString();
    const name = input.name ?? `key-${id}`;
    const scopes = [...new Set(input.scopes)].sort();
    this.db
      .prepare('INSERT INTO api_keys (id, tenant_id, name, scopes, principal, secret_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(id, input.tenantId, name, scopes.join(' '), formatPrincipal(principal), hashSecret(secret), createdAt);
    return { id, tenantId: input.tenantId, name, scopes, principal, createdAt, revokedAt: null, key: `${PREFIX}${id}_${secret}` };
  }

  list(tenantId?: string): ApiKeyRecord[] {
    const rows =
      tenantId === undefined
        ? this.db.prepare('SELECT * FROM api_keys ORDER BY created_at, id').all()
        : this.db.prepare('SELECT * FROM api_keys WHERE tenant_id = ? ORDER BY created_at, id').all(tenantId);
    return rows.map(toRecord);
  }

  count(): number {
    return Number((this.db.prepare('SELECT count(*) AS n FROM api_keys').get() as { n: number }).n);
  }

  /** Returns false when there is no such key or it was revoked before. */
  revoke(id: string, now: Date = new Date()): boolean {
    const result = this.db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now.toISOString(), id);
    return Number(result.changes) > 0;
  }

  /** The live key a presented bearer token stands for, or null (unknown, malformed, revoked). */
  authenticate(presented: string): ApiKeyRecord | null {
    const match = KEY_PATTERN.exec(presented);
    if (!match) return null;
    const row = this.byId.get(match[1]!) as Row | undefined;
    if (!row || row.revoked_at !== null) return null;
    const stored = Buffer.from(row.secret_hash);
    return timingSafeEqual(stored, hashSecret(match[2]!)) ? toRecord(row) : null;
  }
}

interface Row {
  id: string;
  tenant_id: string;
  name: string;
  scopes: string;
  principal: string;
  secret_hash: Uint8Array;
  created_at: string;
  revoked_at: string | null;
}

function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

function toRecord(r: unknown): ApiKeyRecord {
  const row = r as Row;
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    scopes: row.scopes === '' ? [] : (row.scopes.split(' ') as Scope[]),
    principal: parsePrincipal(row.principal) ?? { kind: 'system' },
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

export const PRINCIPAL_CHOICES = 'system, scim, platform or member:<orgId>/<userId>';

/** `system`, `scim`, `platform` or `member:<orgId>/<userId>` (ids never contain `/`): how keys store and show it. */
export function formatPrincipal(principal: Principal): string {
  return principal.kind === 'member' ? `member:${principal.orgId}/${principal.userId}` : principal.kind;
}

/** The principal a `formatPrincipal` text stands for, or null when it is none. */
export function parsePrincipal(text: string): Principal | null {
  if (text === 'system' || text === 'scim' || text === 'platform') return { kind: text };
  const member = /^member:([^/]+)\/([^/]+)$/.exec(text);
  if (!member || !Id.safeParse(member[1]).success || !Id.safeParse(member[2]).success) return null;
  return { kind: 'member', orgId: member[1]!, userId: member[2]! };
}
