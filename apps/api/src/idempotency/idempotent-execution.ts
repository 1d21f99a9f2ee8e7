import { ProblemException, problem } from '../problem/problem.js';
import type { IdempotencyStore, StoredAnswer } from './idempotency-store.js';

export interface Answer extends StoredAnswer {
  /** Whether a retry with the same key should get this answer again (false: it runs the command anew). */
  readonly keep: boolean;
  /** The Ledger found the key stored with the events of an earlier request: this is that request's answer. */
  readonly replayed?: boolean;
}

/**
 * Runs a command at most once per (tenant, idempotency key). Concurrent duplicates inside this process
 * wait for the first one's answer. The truth is the event store, which records a key in the same transaction as
 * its command's events: a command committed but not answered before a crash is found there on
 * retry. The API database keeps answers too (violations, which append nothing, only there) and its reservation
 * guards a key across processes; a reservation a crash left pending is dropped at start, which is safe because
 * the store decides.
 */
export class IdempotentExecution {
  private readonly inFlight = new Map<string, Promise<StoredAnswer>>();
  /** Keys this process reserved but could not release or complete (a full disk): their pending row is its own. */
  private readonly unsettled = new Set<string>();

  constructor(private readonly store: IdempotencyStore) {}

  async run(tenantId: string, key: string | undefined, execute: () => Promise<Answer>): Promise<StoredAnswer & { replayed: boolean }> {
    if (key === undefined) {
      const { status, body } = await execute();
      return { status, body, replayed: false };
    }
    const slot = `${tenantId}\u0000${key}`;
    const running = this.inFlight.get(slot);
    if (running) return { ...(await running), replayed: true };
    const reservation = this.store.reserve(tenantId, key);
    if (reservation.kind === 'answered') return { ...reservation.answer, replayed: true };
    if (reservation.kind === 'pending' && !this.unsettled.delete(slot)) {
      throw new ProblemException(problem(409, 'idempotency-key-in-use', 'A request with this idempotencyKey is still being processed; retry later.'));
    }
    const promise = this.executeReserved(tenantId, key, execute);
    const shared = promise.then(({ status, body }) => ({ status, body }));
    shared.catch(() => undefined); // awaited only by concurrent duplicates; the failure reaches this caller below
    this.inFlight.set(slot, shared);
    try {
      const { status, body, replayed } = await promise;
      return { status, body, replayed: replayed ?? false };
    } finally {
      this.inFlight.delete(slot);
    }
  }

  private async executeReserved(tenantId: string, key: string, execute: () => Promise<Answer>): Promise<Answer> {
    let answer: Answer;
    try {
      answer = await execute();
    } catch (error) {
      this.settle(tenantId, key, () => this.store.release(tenantId, key));
      throw error;
    }
    this.settle(tenantId, key, () =>
      answer.keep ? this.store.complete(tenantId, key, { status: answer.status, body: answer.body }) : this.store.release(tenantId, key),
    );
    return answer;
  }

  /**
   * Bookkeeping in the API database after the command ran. Its failure (a full disk) must not turn the command's
   * answer into an error: the event store already holds the key with the events, so a retry is still answered
   * right, and the pending row left behind is remembered as this process's own, so the next retry runs (and the
   * store answers it) instead of getting 409 idempotency-key-in-use.
   */
  private settle(tenantId: string, key: string, write: () => void): void {
    try {
      write();
    } catch {
      this.unsettled.add(`${tenantId}\u0000${key}`);
    }
  }
}
