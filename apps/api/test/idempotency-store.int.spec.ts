import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { openApiDatabase } from '../src/storage/api-database.js';
import { IdempotencyStore } from '../src/idempotency/idempotency-store.js';

describe('IdempotencyStore (SQLite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-idem-'));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a key is reserved once across two connections to the same file; the answer is shared once stored', () => {
    const a = new IdempotencyStore(openApiDatabase(dir));
    const dbB = openApiDatabase(dir);
    const b = Object.create(IdempotencyStore.prototype) as IdempotencyStore; // a second process: no start-up cleanup
    Object.assign(b, { db: dbB });
    expect(a.reserve('acme', 'k1')).toEqual({ kind: 'reserved' });
    expect(b.reserve('acme', 'k1')).toEqual({ kind: 'pending' });
    expect(b.reserve('globex', 'k1')).toEqual({ kind: 'reserved' }); // per tenant
    a.complete('acme', 'k1', { status: 201, body: { events: [] } });
    expect(b.reserve('acme', 'k1')).toEqual({ kind: 'answered', answer: { status: 201, body: { events: [] } } });
    b.release('globex', 'k1');
    expect(a.reserve('globex', 'k1')).toEqual({ kind: 'reserved' });
  });

  it('a restart frees keys left pending by a crash, and keeps answered ones', () => {
    const first = new IdempotencyStore(openApiDatabase(dir));
    first.reserve('acme', 'crashed');
    first.reserve('acme', 'done');
    first.complete('acme', 'done', { status: 409, body: { rule: 'R62' } });
    const restarted = new IdempotencyStore(openApiDatabase(dir));
    expect(restarted.reserve('acme', 'crashed')).toEqual({ kind: 'reserved' });
    expect(restarted.reserve('acme', 'done')).toEqual({ kind: 'answered', answer: { status: 409, body: { rule: 'R62' } } });
  });
});
