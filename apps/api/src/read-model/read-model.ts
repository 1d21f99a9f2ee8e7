import type { ClickHouseClient } from '@clickhouse/client';
import { join } from 'node:path';
import type { EventStore } from '@access-ledger/event-store';
import { AccessIntervalProjection, accessSnapshotPath, foldedFactsOf } from '@access-ledger/projections';
import { AuditProjection, migrate, openClickHouse } from '@access-ledger/read-model';

export interface ReadModelOptions {
  readonly dataDir: string;
  /** A ClickHouse server; embedded chDB in `$dataDir/clickhouse` when unset. */
  readonly clickhouseUrl?: string;
  readonly log?: (line: string) => void;
  /** How long the audit projection waits before it starts again after a failure (default 5 s). */
  readonly restartDelayMs?: number;
}

export interface ReadModelHealth {
  readonly reachable: boolean;
  /** Events stored but not yet projected, per projection (audit_events, access_intervals). */
  readonly lag: Readonly<Record<string, number>>;
  /**
   * Events each projection holds in quarantine, per tenant; only projections with some. They do
   * not make the read model unready: the projection runs on past them (docs/read-model.md § Quarantine).
   */
  readonly quarantined: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Each projection's checkpoint and lag (events stored but not yet projected). */
  readonly projections: Readonly<Record<string, ProjectionProgress>>;
  /**
   * Projections still behind the head the server found at start, with how many events they have left to reach it.
   * While any is listed, /ready is 503 (a restore or a rebuild is still being projected); empty once each has
   * reached it (afterwards the ordinary lag of live writes does not make the server unready).
   */
  readonly catchingUp: Readonly<Record<string, number>>;
  /** The store's head when the read model opened (-1: empty). */
  readonly startHead: number;
  readonly detail?: string;
}

export interface ProjectionProgress {
  readonly checkpoint: number;
  readonly lag: number;
}

/**
 * Whether a projection has reached the head found at start: latched, since once it has, later writes are live
 * lag and not a catch-up.
 */
export class StartCatchUp {
  private reached = false;
  constructor(readonly startHead: number) {}

  /** Events left before `checkpoint` reaches the head at start (0 once reached, and from then on). */
  behind(checkpoint: number): number {
    if (this.reached || checkpoint >= this.startHead) {
      this.reached = true;
      return 0;
    }
    return this.startHead - checkpoint;
  }
}

/** What the server needs of a projection that follows the event store live into ClickHouse. */
interface LiveProjection {
  readonly name: string;
  start(onError: (error: unknown) => void): void;
  stop(): Promise<void>;
  /** head − checkpoint, refreshing the head from the store. */
  lag(): Promise<number>;
  /** The last position projected (-1: none), as of the last `lag()`. */
  checkpoint(): number;
  /** Events in quarantine, per tenant. */
  quarantined?(): Record<string, number>;
}

/** A projection the server keeps running: a failure shows on /ready and the projection starts again after a delay. */
class Follower {
  /** Set while the projection is down (between a failure and its restart). */
  failure: Error | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    readonly projection: LiveProjection,
    readonly catchUp: StartCatchUp,
    private readonly restartDelayMs: number,
    private readonly log: (line: string) => void,
  ) {}

  start(): void {
    this.projection.start((error) => {
      this.failure = error as Error;
      if (this.stopped) return;
      this.log(`${this.projection.name} projection stopped: ${this.failure.message}; restarting in ${this.restartDelayMs} ms`);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (this.stopped) return;
        this.failure = undefined;
        this.start();
      }, this.restartDelayMs);
      this.timer.unref();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.projection.stop();
  }
}

/**
 * The ClickHouse read model as the server runs it: the client, the migrations, and the projections following the
 * event store live (the audit trail and the access intervals). chDB binds one data
 * directory per process and locks it against other processes, so the server opens it exactly once; `ledger report`
 * opens it only when the server is not running.
 */
export class ReadModel {
  private readonly followers: Follower[] = [];

  private constructor(
    readonly client: ClickHouseClient,
    readonly audit: AuditProjection,
    /** The store's head when the read model opened: /ready waits for every projection to reach it. */
    readonly startHead: number,
  ) {}

  static async open(store: EventStore, options: ReadModelOptions): Promise<ReadModel> {
    const client = openClickHouse(options.clickhouseUrl ? { url: options.clickhouseUrl } : { dataPath: join(options.dataDir, 'clickhouse') });
    try {
      await migrate(client);
    } catch (error) {
      await client.close().catch(() => undefined); // the migration's error is the one to report, not a close after it
      throw error;
    }
    const source = (after: number) => store.subscribeToAll({ after });
    const headPosition = () => store.headPosition();
    const audit = new AuditProjection({ client, source, headPosition });
    const readModel = new ReadModel(client, audit, await store.headPosition());
    const follow = (projection: LiveProjection) => {
      const follower = new Follower(projection, new StartCatchUp(readModel.startHead), options.restartDelayMs ?? 5000, options.log ?? (() => undefined));
      readModel.followers.push(follower);
      follower.start();
    };
    follow({
      name: audit.name,
      start: (onError) => audit.start(onError),
      stop: () => audit.stop(),
      lag: () => audit.refreshLag(),
      checkpoint: () => audit.metrics.checkpoint,
      quarantined: () => audit.quarantine.byTenant(),
    });
    // The interval reports (access-review, holders-during, changes, privileged, sod-violations) read access_intervals.
    // It starts from the access snapshot's facts when it can, instead of folding the whole store again.
    const intervals = new AccessIntervalProjection({ client, source, headPosition, foldedFacts: () => foldedFactsOf(accessSnapshotPath(options.dataDir)) });
    await intervals.prepare();
    follow({
      name: intervals.name,
      start: (onError) => intervals.start(onError),
      stop: () => intervals.stop(),
      lag: () => intervals.lag(),
      checkpoint: () => intervals.metrics.checkpoint,
      quarantined: () => intervals.quarantine.byTenant(),
    });
    return readModel;
  }

  /** Quarantined events per projection and tenant, projections with none left out. */
  quarantined(): Record<string, Record<string, number>> {
    const held: Record<string, Record<string, number>> = {};
    for (const f of this.followers) {
      const byTenant = f.projection.quarantined?.() ?? {};
      if (Object.keys(byTenant).length > 0) held[f.projection.name] = byTenant;
    }
    return held;
  }

  async health(): Promise<ReadModelHealth> {
    const lag: Record<string, number> = {};
    const projections: Record<string, ProjectionProgress> = {};
    const catchingUp: Record<string, number> = {};
    const quarantined = this.quarantined();
    const startHead = this.startHead;
    try {
      const answer = await this.client.query({ query: 'SELECT 1 AS ok', format: 'JSONEachRow' });
      await answer.json();
      for (const f of this.followers) {
        const name = f.projection.name;
        lag[name] = await f.projection.lag();
        const checkpoint = f.projection.checkpoint();
        projections[name] = { checkpoint, lag: lag[name] };
        const behind = f.catchUp.behind(checkpoint);
        if (behind > 0) catchingUp[name] = behind;
      }
    } catch (error) {
      return { reachable: false, lag, quarantined, projections, catchingUp, startHead, detail: `read model: ${(error as Error).message}` };
    }
    const failed = this.followers.filter((f) => f.failure);
    if (failed.length > 0)
      return {
        reachable: false,
        lag,
        quarantined,
        projections,
        catchingUp,
        startHead,
        detail: failed.map((f) => `${f.projection.name} projection stopped: ${f.failure!.message}`).join('; '),
      };
    return { reachable: true, lag, quarantined, projections, catchingUp, startHead };
  }

  /** Lag of each running projection (for /metrics). */
  async lags(): Promise<Record<string, number>> {
    const lag: Record<string, number> = {};
    for (const f of this.followers) lag[f.projection.name] = await f.projection.lag();
    return lag;
  }

  /** Waits until every projection holds every event stored so far (tests, tools). */
  async caughtUp(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lag = await this.lags();
      if (Object.values(lag).every((n) => n === 0)) return;
      if (Date.now() > deadline) throw new Error(`read model not caught up after ${timeoutMs} ms: ${JSON.stringify(lag)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Stops the projections (before the event store closes: they read its subscription). */
  async stop(): Promise<void> {
    await Promise.all(this.followers.map((f) => f.stop()));
  }

  /** After `stop()` and after everything else that queries ClickHouse (export jobs) has finished. */
  async close(): Promise<void> {
    await this.stop();
    await this.client.close();
  }
}
