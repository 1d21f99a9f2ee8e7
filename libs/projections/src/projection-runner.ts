import type { EventStore, RecordedEvent, Subscription } from '@access-ledger/event-store';
import { pauser } from './pauser.js';

/** Anything that folds recorded events in position order and knows the last position it applied. */
export interface Projection {
  readonly position: number;
  /** false: the projection never looks at `prevHash`/`hash`, so a catch-up need not read them. Default true. */
  readonly readsChain?: boolean;
  apply(event: RecordedEvent): void;
}

export interface RunnerOptions {
  /** Persist the projection's checkpoint (and state) after this many events … */
  readonly checkpointEveryEvents?: number;
  /** … or this long after the last checkpoint, whichever comes first. */
  readonly checkpointEveryMs?: number;
  readonly checkpoint?: () => unknown;
  readonly onError?: (error: unknown) => void;
}

/**
 * Runs a projection on the store's catch-up subscription, from the projection's own checkpoint. The subscription
 * replays the history after it and then continues live; the projection ignores positions it has applied, so the
 * switch from replay to live can neither skip nor double an event.
 */
export class ProjectionRunner {
  private subscription: Subscription | undefined;
  private loop: Promise<void> | undefined;
  private sinceCheckpoint = 0;
  private lastCheckpoint = Date.now();
  private failure: unknown;

  constructor(
    private readonly store: EventStore,
    readonly projection: Projection,
    private readonly options: RunnerOptions = {},
  ) {}

  get error(): unknown {
    return this.failure;
  }

  start(): void {
    if (this.loop) return;
    const subscription = this.store.subscribeToAll({ after: this.projection.position });
    this.subscription = subscription;
    this.loop = (async () => {
      const pause = pauser();
      try {
        for await (const event of subscription) {
          this.projection.apply(event);
          this.sinceCheckpoint++;
          // A page of the subscription is folded without a macrotask in between (a 50 000-line
          // import kept /health waiting): let other work in every few milliseconds.
          await pause();
          if (this.checkpointDue()) await this.checkpointNow();
        }
      } catch (error) {
        // A projection that cannot fold an event stops where it is (never skips it); /ready reports it.
        this.failure = error;
        this.options.onError?.(error);
      }
    })();
  }

  private checkpointDue(): boolean {
    // Serializing a large state blocks the event loop (about 1.5 s at 2 million events; the write itself does
    // not), so it is taken rarely: every 250 000 events, or after 30 minutes if at least 10 000 arrived; a crash
    // in between costs a replay of those events at start (a few seconds), never a wrong answer.
    const { checkpoint, checkpointEveryEvents = 250_000, checkpointEveryMs = 30 * 60_000 } = this.options;
    if (!checkpoint) return false;
    return this.sinceCheckpoint >= checkpointEveryEvents || (this.sinceCheckpoint >= 10_000 && Date.now() - this.lastCheckpoint >= checkpointEveryMs);
  }

  /** Take a checkpoint now (the projection's snapshot); resolves when it is durable. */
  async checkpointNow(): Promise<void> {
    this.sinceCheckpoint = 0;
    this.lastCheckpoint = Date.now();
    await this.options.checkpoint?.();
  }

  /** The subscription looks for new events now (another process appended). */
  poke(): void {
    this.subscription?.poke?.();
  }

  /** Events in the store not yet applied. */
  async lag(): Promise<number> {
    return Math.max(0, (await this.store.headPosition()) - this.projection.position);
  }

  /** Apply everything appended so far, then return (for rebuilds and tests). */
  async catchUp(onProgress?: (position: number, head: number) => void): Promise<void> {
    const head = await this.store.headPosition();
    if (this.projection.position >= head) return;
    if (this.loop) {
      while (this.projection.position < head) {
        if (this.failure) throw this.failure;
        await new Promise((r) => setTimeout(r, 5));
      }
      return;
    }
    let n = 0;
    pages: for await (const page of this.store.readAllPages({ after: this.projection.position, chain: this.projection.readsChain ?? true })) {
      for (const event of page) {
        if (event.position > head) break pages;
        this.projection.apply(event);
        if (++n % 50_000 === 0) onProgress?.(event.position, head);
      }
    }
    onProgress?.(this.projection.position, head);
  }

  async stop(): Promise<void> {
    await this.subscription?.close();
    await this.loop;
    this.loop = undefined;
    this.subscription = undefined;
    if (this.sinceCheckpoint > 0) await this.checkpointNow();
  }
}
