import type { DatabaseSync } from 'node:sqlite';

export interface StoredAnswer {
  readonly status: number;
  readonly body: unknown;
}

export type Reservation =
  | { readonly kind: 'reserved' }
  | { readonly kind: 'answered'; readonly answer: StoredAnswer }
  /** Another process holds the key and has not answered yet. */
  | { readonly kind: 'pending' };

/**
 * First answers to commands sent with an `idempotencyKey`, per tenant, in SQLite so that a retry after a
 * restart still gets the first answer. A key is reserved (`pending`) before the command runs: the primary
 * key makes the reservation atomic, so two processes cannot both run the same key.
 */
export class IdempotencyStore {
  constructor(private readonly db: DatabaseSync) {
    // A pending row left by a crash would block its key forever; the server owns the data directory, so nothing
    // is in flight when it starts. Dropping it is safe: the event store, which records a key in the same
    // transaction as its command's events, answers a command that committed before the crash.
    db.prepare("DELETE FROM idempotency WHERE state = 'pending'").run();
  }

  reserve(tenantId: string, key: string, now: Date = new Date()): Reservation {
    const inserted = this.db
      .prepare("INSERT INTO idempotency (tenant_id, key, state, created_at) VALUES (?, ?, 'pending', ?) ON CONFLICT DO NOTHING")
      .run(tenantId, key, now.toISOString());
    if (Number(inserted.changes) === 1) return { kind: 'reserved' };
    const row = this.db.prepare('SELECT state, status, body FROM idempotency WHERE tenant_id = ? AND key = ?').get(tenantId, key) as
      | { state: string; status: number; body: string }
      | undefined;
    if (!row) return this.reserve(tenantId, key, now); // released between the two statements
    return row.state === 'answered' ? { kind: 'answered', answer: { status: row.status, body: JSON.parse(row.body) } } : { kind: 'pending' };
  }

  complete(tenantId: string, key: string, answer: StoredAnswer): void {
    this.db
      .prepare("UPDATE idempotency SET state = 'answered', status = ?, body = ? WHERE tenant_id = ? AND key = ?")
      .run(answer.status, JSON.stringify(answer.body), tenantId, key);
  }

  /** The command ended without an answer worth keeping (failure, or a retryable outcome): the key is free again. */
  release(tenantId: string, key: string): void {
    this.db.prepare("DELETE FROM idempotency WHERE tenant_id = ? AND key = ? AND state = 'pending'").run(tenantId, key);
  }
}
