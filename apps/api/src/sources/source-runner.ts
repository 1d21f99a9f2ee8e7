import { join } from 'node:path';
import type { SourceRunStatus } from '@access-ledger/ledger';
import { ComplianceApiClient, type LedgerView, SourceAuthError, SourcesStore, detectDrift, syncWithBaseline } from '@access-ledger/sources';
import { readKeyFile, type SourceEntry } from './sources-file.js';

/** Thrown inside a pass when the server is stopping: ends it at the next page or batch boundary (both are committed). */
class SourceStopped extends Error {
  override readonly name = 'SourceStopped';
}

/**
 * The sources of `LEDGER_SOURCES_FILE`, synced in the background of the server process (docs/sources.md § Operation):
 * each one backfills, records its baseline, then follows the feed every `intervalSeconds`, comparing the directory
 * every `driftEvery` passes — what `ledger sources sync` does, in this process, on the server's own Ledger. A pass
 * awaits each page and each import batch, so requests are served in between. A 401/403 stops that source (the scope
 * it lacks is its `lastError`); any other failure is tried again at the next pass, from the stored checkpoint.
 * `stop()` ends every pass at its next page or batch boundary and waits for it, at most `stopTimeoutMs`.
 */
export class SourceRunner {
  private readonly store: SourcesStore;
  private readonly states = new Map<string, { -readonly [K in keyof SourceRunStatus]: SourceRunStatus[K] }>();
  private loops: Promise<void>[] = [];
  private stopping = false;
  private readonly wakers = new Set<() => void>();

  constructor(
    private readonly options: {
      readonly dataDir: string;
      readonly ledger: LedgerView;
      readonly sources: readonly SourceEntry[];
      readonly log: (line: string) => void;
      readonly stopTimeoutMs?: number;
    },
  ) {
    this.store = new SourcesStore(join(options.dataDir, 'sources.sqlite'));
    for (const s of options.sources) {
      this.store.add({ name: s.name, kind: s.kind, tenantId: s.tenantId, baseUrl: s.url, keyFile: s.keyFile });
      const stored = this.store.status(s.name)!;
      this.states.set(s.name, {
        kind: s.kind,
        tenantId: s.tenantId,
        state: 'waiting',
        phase: stored.phase,
        passes: 0,
        lastSyncAt: stored.lastSyncAt,
        lastError: stored.lastError,
      });
    }
  }

  start(): void {
    this.loops = this.options.sources.map((s) => this.follow(s));
  }

  /** Each source's loop: what /ready shows. */
  status(): Record<string, SourceRunStatus> {
    return Object.fromEntries([...this.states].map(([name, s]) => [name, { ...s }]));
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const wake of this.wakers) wake();
    this.wakers.clear();
    const ms = this.options.stopTimeoutMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), ms);
    });
    const ended = await Promise.race([Promise.allSettled(this.loops).then(() => 'ended' as const), timedOut]);
    clearTimeout(timer);
    // A request to the API still unanswered: its pass fails against the closed store and ends (the checkpoint holds).
    if (ended === 'timeout') this.options.log(`sources: a sync pass was still waiting on the Compliance API after ${ms} ms; closing without it`);
    this.store.close();
  }

  private async follow(entry: SourceEntry): Promise<void> {
    const state = this.states.get(entry.name)!;
    for (let pass = 1; !this.stopping; pass++) {
      state.state = 'syncing';
      try {
        const client = new ComplianceApiClient({ baseUrl: entry.url, apiKey: readKeyFile(entry.keyFile), sleep: (ms) => this.sleep(ms) });
        const stopAtBoundary = () => {
          if (this.stopping) throw new SourceStopped('the server is stopping');
        };
        const report = await syncWithBaseline(this.store, entry.name, client, this.options.ledger, {
          pageSize: entry.pageSize,
          batchSize: entry.batchSize,
          onProgress: stopAtBoundary,
        });
        if (report.baselineEvents !== undefined)
          this.options.log(`source ${entry.name}: baseline from the directory: ${report.baselineEvents} events recorded as observed`);
        if (entry.driftEvery > 0 && pass % entry.driftEvery === 0) {
          const drift = await detectDrift(this.store, entry.name, client, this.options.ledger);
          if (drift.detected > 0) this.options.log(`source ${entry.name}: drift: ${drift.detected} new, ${drift.open.length} open`);
        }
        state.passes++;
        state.lastSyncAt = new Date().toISOString();
        state.lastError = null;
      } catch (error) {
        if (error instanceof SourceStopped || this.stopping) break;
        const message = (error as Error).message;
        state.lastError = message;
        this.store.setError(entry.name, message);
        if (error instanceof SourceAuthError) {
          this.options.log(`source ${entry.name} stopped: ${message}`);
          state.state = 'stopped';
          return;
        }
        this.options.log(`source ${entry.name}: ${message}; trying again in ${entry.intervalSeconds} s`);
      } finally {
        if (!this.stopping) state.phase = this.store.get(entry.name)?.phase ?? state.phase;
      }
      state.state = 'waiting';
      try {
        await this.sleep(entry.intervalSeconds * 1000);
      } catch {
        break; // stopping
      }
    }
    state.state = 'stopped';
  }

  /** A wait that `stop()` cuts short (rejecting with SourceStopped): between passes, and the client's retry backoff. */
  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.reject(new SourceStopped('the server is stopping'));
    return new Promise((resolve, reject) => {
      const wake = () => {
        clearTimeout(timer);
        reject(new SourceStopped('the server is stopping'));
      };
      const timer = setTimeout(() => {
        this.wakers.delete(wake);
        resolve();
      }, ms);
      this.wakers.add(wake);
    });
  }
}
