import { ProblemException, problem } from '../problem/problem.js';
import type { IdempotencyStore, StoredAnswer } from './idempotency-store.js';

export interface Answer extends StoredAnswer {
  /** Whether a retry with the same key should get this answer again (false: it runs the command anew). */
  readonly keep: boolean;
}

/**
 * Runs a command at most once per (tenant, idempotency key). Concurrent duplicates inside this process
 * wait for the first one's answer; the SQLite reservation covers other processes and restarts.
 */
export class IdempotentExecution {
  private readonly inFlight = new Map<string, Promise<StoredAnswer>>();

  constructor(private readonly store: IdempotencyStore) {}

  async run(tenantId: string, key: string | undefined, execute: () => Promise<Answer>): Promise<StoredAnswer & { replayed: boolean }> {
    if (key === undefined) return { ...(await execute()), replayed: false };
    const slot = `${tenantId}\u0000${key}`;
    const running = this.inFlight.get(slot);
    if (running) return { ...(await running), replayed: true };
    const reservation = this.store.reserve(tenantId, key);
    if (reservation.kind === 'answered') return { ...reservation.answer, replayed: true };
    if (reservation.kind === 'pending') {
      throw new ProblemException(problem(409, 'idempotency-key-in-use', 'A request with this idempotencyKey is still being processed; retry later.'));
    }
    const promise = this.executeReserved(tenantId, key, execute);
    this.inFlight.set(slot, promise);
    try {
      return { ...(await promise), replayed: false };
    } finally {
      this.inFlight.delete(slot);
    }
  }

  private async executeReserved(tenantId: string, key: string, execute: () => Promise<Answer>): Promise<StoredAnswer> {
    let answer: Answer;
    try {
      answer = await execute();
    } catch (error) {
      this.store.release(tenantId, key);
      throw error;
    }
    if (answer.keep) this.store.complete(tenantId, key, { status: answer.status, body: answer.body });
    else this.store.release(tenantId, key);
    return { status: answer.status, body: answer.body };
  }
}
