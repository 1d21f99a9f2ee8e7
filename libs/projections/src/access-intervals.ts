import { FactStore, asLedgerEvent, evolve, evolveWhole, type LedgerEvent } from '@access-ledger/access-model';
import type { RecordedEvent } from '@access-ledger/event-store';
import {
  AccessIntervalWriter,
  BatchSource,
  CheckpointStore,
  Quarantine,
  TIMEOUT,
  TRUNCATION_PENDING,
  type BatchingProjectionOptions,
  type ProjectionProgress,
  type AccessIntervalChange,
  type Checkpoint,
  type IntervalRewrite,
  roleSets,
} from '@access-ledger/read-model';
import type { FoldedFacts } from './access-projection.js';
import {
  MergedLateImpact,
  FrontierMembers,
  RoleSets,
  changesOfEvent,
  lateImpactOf,
  memberChangesFrom,
  rewriteOf,
  roleSetHistoriesOf,
  type LateImpact,
} from './access-intervals-changes.js';

export {
  intervalPermissionsOf,
  affectedMembers,
  impactOf,
  changesOfEvent,
  intervalChangesOfHistory,
  lateRewriteOf,
  memberChangesFrom,
  scopeOf,
  lateImpactOf,
  MergedLateImpact,
  rewriteOf,
  roleSetHistoriesOf,
  roleSetHistoryOf,
  RoleSets,
  type Family,
  type Impact,
  type LateImpact,
} from './access-intervals-changes.js';

/**
 * What one event does to the table: changes at its instant (`write`), or, for a late event (R61), the members whose
 * intervals must be recomputed from its instant on (`late`; the projection merges a batch's late events into one
 * rewrite per tenant).
 */
export type IntervalEffect = { readonly kind: 'changes'; readonly changes: AccessIntervalChange[] } | { readonly kind: 'late'; readonly late: LateImpact };

/**
 * One tenant's facts as the interval producer folds them, event by event in store order, and the latest instant
 * folded (the frontier). An event at or after the frontier yields exactly the evaluator's changes at its instant.
 * A late event (R61: occurredAt before the frontier) changes the past: the fact store puts it where it belongs, and
 * the members it can affect get their intervals (in its family) recomputed from its instant to the present
 * (`lateRewriteOf`), which `AccessIntervalWriter.rewrite` puts in place of theirs (docs/access-intervals.md).
 */
export class TenantIntervals {
  private frontier: number;
  /** Members' core, role paths and own limits as last computed at the frontier (in-order events only). */
  private readonly frontierMembers = new FrontierMembers();
  /** Role sets seen since the last `takeNewRoleSets`, whose histories the table does not hold yet. */
  private fresh: [orgId: string, set: string][] = [];
  /** The role sets whose profile the table holds (or will, with `fresh`): the projection loads them at start. */
  roleSets = new RoleSets();

  /** `facts`: the tenant's facts as already folded (from the access snapshot), or none yet. */
  constructor(
    readonly tenantId: string,
    readonly facts = new FactStore(),
  ) {
    this.frontier = facts.latestOccurredAt;
  }

  /** The latest occurredAt folded (ms); an event before it is late. */
  get latest(): number {
    return this.frontier;
  }

  /** Folds the event without producing changes (replaying up to a checkpoint); one that throws leaves no fact. */
  fold(event: LedgerEvent): void {
    this.frontierMembers.clear();
    evolveWhole(this.facts, event);
    this.frontier = Math.max(this.frontier, Date.parse(event.meta.occurredAt));
  }

  /**
   * Folds the event and returns what it does to the table. All or nothing: if the fold or the
   * changes throw, the facts are as they were, so the projection can quarantine the event and go on.
   */
  apply(event: LedgerEvent): IntervalEffect {
    const late = Date.parse(event.meta.occurredAt) < this.frontier;
    const frontier = this.frontier;
    this.facts.beginSpeculation();
    try {
      evolve(this.facts, event);
      this.frontier = Math.max(this.frontier, Date.parse(event.meta.occurredAt));
      const effect = this.effectOf(event, late);
      this.facts.commitSpeculation([event.position]);
      return effect;
    } catch (error) {
      this.facts.rollbackSpeculation();
      this.frontier = frontier;
      this.frontierMembers.clear();
      throw error;
    }
  }

  private effectOf(event: LedgerEvent, late: boolean): IntervalEffect {
    if (!late) {
      const changes = changesOfEvent(this.tenantId, this.facts, event, this.frontierMembers, this.roleSets);
      for (const s of this.roleSets.note(changes)) this.fresh.push(s);
      return { kind: 'changes', changes };
    }
    // A late event changes the past, and what is in force now may follow: nothing computed before it is kept.
    this.frontierMembers.clear();
    const impact = this.lateImpactOf(event);
    // Nobody affected (names, API keys, refusals): nothing to rewrite, nothing to wait for.
    return impact.members.length === 0 ? { kind: 'changes', changes: [] } : { kind: 'late', late: impact };
  }

  /** What a late event's rewrite covers, with the known role sets. */
  lateImpactOf(event: LedgerEvent): LateImpact {
    return lateImpactOf(this.facts, event, this.roleSets);
  }

  /**
   * The role sets seen for the first time since the last call, with their whole history over the facts as they stand
   * now (one rewrite), or undefined. Their pseudo-members' changes produced event by event meanwhile are part of it.
   */
  takeNewRoleSets(): IntervalRewrite | undefined {
    if (this.fresh.length === 0) return undefined;
    const fresh = this.fresh;
    this.fresh = [];
    return roleSetHistoriesOf(this.tenantId, this.facts, fresh);
  }

  /**
   * The rewrite of (merged) late events over the facts as they stand now. Each member's walk is synchronous and a
   * batch can hold thousands of members: it yields to the event loop every few milliseconds, so the server keeps
   * answering.
   */
  async rewriteOf(late: LateImpact): Promise<IntervalRewrite> {
    const changes: AccessIntervalChange[] = [];
    let slice = performance.now();
    const members = late.members;
    for (const m of members) {
      for (const c of memberChangesFrom(this.tenantId, this.facts, m, late.family, late.at, late.pos)) changes.push(c);
      if (performance.now() - slice > YIELD_AFTER_MS) {
        await new Promise((resume) => setImmediate(resume));
        slice = performance.now();
      }
    }
    for (const s of this.roleSets.note(changes)) this.fresh.push(s);
    return rewriteOf(this.tenantId, this.facts, late, changes);
  }
}

const YIELD_AFTER_MS = 10;

/** The changes less those of the members a rewrite covers from the start (their whole history is in it). */
function withoutRewritten(changes: AccessIntervalChange[], histories: readonly IntervalRewrite[]): AccessIntervalChange[] {
  if (histories.length === 0) return changes;
  const rewritten = new Set<string>();
  for (const h of histories) for (const [orgId, userId] of h.members) rewritten.add(`${h.tenantId}\u0000${orgId}\u0000${userId}`);
  return changes.filter((c) => !rewritten.has(`${c.tenantId}\u0000${c.orgId}\u0000${c.userId}`));
}

/** The loop also yields after this long of folding without a wait (a catch-up read never waits). */
const LOOP_YIELD_AFTER_MS = 10;

export interface AccessIntervalProjectionOptions extends BatchingProjectionOptions {
  /** Events per batch (one insert and one checkpoint per batch). */
  readonly maxBatchEvents?: number;
  /**
   * Facts already folded by someone else (the access snapshot: `foldedFactsOf(accessSnapshotPath(dataDir))`), asked
   * for at start: when they end at or before the checkpoint, the projection starts from them and folds only the
   * events after them, instead of the whole store again.
   */
  readonly foldedFacts?: () => FoldedFacts | undefined;
}

export interface AccessIntervalMetrics extends ProjectionProgress {
  /** The position the facts were loaded at on the last start (`foldedFacts`), or -1 when they were folded from 0. */
  readonly startedFrom: number;
  readonly eventsProjected: number;
  readonly changesWritten: number;
  readonly rowsInserted: number;
  readonly lateEvents: number;
  /** Events of this generation in quarantine, not yet released. */
  readonly quarantined: number;
}

/**
 * Feeds `access_intervals` from the event store: every tenant's events folded into its own facts, the evaluator's
 * changes written with `AccessIntervalWriter` in batches, then the checkpoint (`projection_checkpoints`, name
 * `access_intervals`). On start it reads the whole store from the beginning (the facts are rebuilt in memory) and
 * writes only what comes after the checkpoint.
 *
 * Exactly once without a deduplication token: a crash between a batch's insert and its checkpoint replays the
 * batch, and the writer makes the replay converge — opening what is open at the same level is a no-op, closing what
 * is closed is a no-op, and every other row a replay writes has the key (valid_from, opened_by) of a row the
 * batch wrote, with a higher version, so the last write of each key is the one the first run made (tested).
 * Late events (R61) are merged per tenant within a batch (one rewrite per late event cost ≈ 28 ms,
 * so a back-dated import of 16 000 lines took minutes): at the end of the batch its changes are inserted, then one
 * rewrite per tenant of every member its late events affect, from the earliest of them (which reads the table as
 * those changes left it), then the checkpoint. Replayed, the rewrite recomputes the same stretch from the facts and
 * puts it in place again over whatever the earlier events' replay wrote (tested with crashes around late events).
 */
export class AccessIntervalProjection {
  readonly name: string;
  private readonly writer: AccessIntervalWriter;
  private readonly checkpoints: CheckpointStore;
  private readonly tenants = new Map<string, TenantIntervals>();
  private checkpoint: Checkpoint | undefined;
  /** The role sets the table holds, read at the start of each run. */
  private knownRoleSets = new Map<string, Map<string, Set<string>>>();
  private folded = -1;
  /** `foldedFacts` asked for since the facts were last empty. */
  private foldedTried = false;
  private head = -1;
  private counts = { startedFrom: -1, eventsProjected: 0, changesWritten: 0, rowsInserted: 0, lateEvents: 0 };
  private stopping = false;
  private running: Promise<void> | undefined;
  private source: BatchSource | undefined;
  readonly quarantine: Quarantine;

  constructor(private readonly options: AccessIntervalProjectionOptions) {
    this.name = options.name ?? 'access_intervals';
    this.writer = new AccessIntervalWriter(options.client);
    this.checkpoints = new CheckpointStore(options.client, this.name);
    this.quarantine = new Quarantine(options.client, this.name);
  }

  /** The producer state of a tenant (its facts as folded by this projection). */
  tenant(tenantId: string): TenantIntervals | undefined {
    return this.tenants.get(tenantId);
  }

  /** Projects until the source ends (a finite catch-up: tests, tools). */
  async run(): Promise<void> {
    if (this.running) throw new Error(`projection ${this.name} is already running`);
    this.stopping = false;
    this.running = this.loop();
    try {
      await this.running;
    } catch (error) {
      // The facts may have folded events whose changes were not written: start over from the checkpoint next run.
      this.forget();
      throw error;
    } finally {
      this.running = undefined;
    }
  }

  /**
   * Loads the facts to start from (`foldedFacts`) now rather than when the run starts: a server calls this before it
   * listens, so the load (≈ 4 s at 2 million events, synchronous) delays its start instead of pausing its answers.
   */
  async prepare(): Promise<void> {
    const checkpoint = (this.checkpoint = await this.checkpoints.load());
    if (this.folded < 0 && checkpoint.position >= 0 && checkpoint.pendingThrough !== TRUNCATION_PENDING) this.startFromFolded(checkpoint.position);
  }

  /**
   * Starts projecting in the background (a live subscription never ends); `stop()` ends it. A run that fails goes to
   * `onError` (required: a projection that stops without anyone knowing is a silent, growing lag).
   */
  start(onError: (error: unknown) => void): void {
    void this.run().catch(onError);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const running = this.running;
    await this.source?.close();
    await running?.catch(() => undefined); // a failed run was already reported to start()'s onError
  }

  /** Resolves once the running projection has written everything up to the store's head (needs `headPosition`). */
  async catchUp(timeoutMs = 60_000): Promise<void> {
    if (!this.options.headPosition) throw new Error(`${this.name}: catchUp needs the headPosition option`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if ((await this.lag()) === 0) return;
      if (Date.now() > deadline) throw new Error(`${this.name}: not caught up after ${timeoutMs} ms (lag ${this.metrics.lag})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** head − checkpoint, in events (refreshes the head when `headPosition` is given). */
  async lag(): Promise<number> {
    this.checkpoint ??= await this.checkpoints.load();
    if (this.options.headPosition) this.head = Math.max(this.head, await this.options.headPosition());
    return this.metrics.lag;
  }

  get metrics(): AccessIntervalMetrics {
    const checkpoint = this.checkpoint?.position ?? -1;
    return { checkpoint, head: this.head, lag: Math.max(0, this.head - checkpoint), ...this.counts, quarantined: this.quarantine.count };
  }

  /**
   * Empties the table and starts over from position 0 at the next run (a new generation). As in the audit
   * projection, the checkpoint first says "truncation pending", so a crash between the steps still ends empty.
   */
  async rebuild(): Promise<void> {
    await this.stop();
    const current = await this.checkpoints.load();
    await this.checkpoints.save({ position: -1, pendingThrough: TRUNCATION_PENDING, generation: current.generation + 1 });
    this.checkpoint = await this.truncate(current.generation + 1);
    this.forget();
  }

  private async truncate(generation: number): Promise<Checkpoint> {
    await this.options.client.command({ query: 'TRUNCATE TABLE IF EXISTS access_intervals' });
    const fresh: Checkpoint = { position: -1, pendingThrough: -1, generation };
    await this.checkpoints.save(fresh);
    this.writer.reset();
    return fresh;
  }

  /**
   * Facts folded elsewhere up to P ≤ checkpoint are exactly what folding the store up to P gives (a fact store is a
   * function of the events folded): start from them. Past the checkpoint they would hold events whose changes were
   * never written, so they are not used then.
   */
  private startFromFolded(checkpoint: number): void {
    if (this.foldedTried) return; // once a start: an unusable snapshot is not loaded again by the run after prepare()
    this.foldedTried = true;
    this.counts.startedFrom = -1;
    const folded = this.options.foldedFacts?.();
    if (folded === undefined || folded.position < 0 || folded.position > checkpoint) return;
    for (const [tenantId, facts] of folded.tenants) this.tenants.set(tenantId, new TenantIntervals(tenantId, facts));
    this.folded = folded.position;
    this.counts.startedFrom = folded.position;
  }

  private forget(): void {
    this.writer.reset();
    this.foldedTried = false;
    this.tenants.clear();
    this.folded = -1;
  }

  private tenantOf(stored: RecordedEvent): TenantIntervals | undefined {
    const tenantId = (stored.metadata as { tenantId?: unknown }).tenantId;
    if (typeof tenantId !== 'string') return undefined;
    let t = this.tenants.get(tenantId);
    if (!t) {
      this.tenants.set(tenantId, (t = new TenantIntervals(tenantId)));
      t.roleSets = new RoleSets(this.knownRoleSets.get(tenantId));
    }
    return t;
  }

  /** Every tenant's new role sets' histories (`TenantIntervals.takeNewRoleSets`). */
  private newRoleSets(): IntervalRewrite[] {
    const out: IntervalRewrite[] = [];
    for (const t of this.tenants.values()) {
      const history = t.takeNewRoleSets();
      if (history) out.push(history);
    }
    return out;
  }

  private async loop(): Promise<void> {
    let checkpoint = (this.checkpoint = await this.checkpoints.load());
    if (checkpoint.pendingThrough === TRUNCATION_PENDING) checkpoint = this.checkpoint = await this.truncate(checkpoint.generation);
    if (this.folded < 0 && checkpoint.position >= 0) this.startFromFolded(checkpoint.position);
    await this.quarantine.load(checkpoint.generation);
    // What the table holds decides which role sets are known: a set written by an earlier run is kept up to date, one
    // it did not write is written in full when seen again.
    this.knownRoleSets = await roleSets(this.options.client);
    for (const [tenantId, t] of this.tenants) t.roleSets = new RoleSets(this.knownRoleSets.get(tenantId));
    // The facts are in memory only: fold everything up to the checkpoint again (without writing), then go on.
    const source = (this.source = new BatchSource(this.options.source(this.folded), this.options.maxBatchDelayMs ?? 250));
    const maxEvents = this.options.maxBatchEvents ?? 2000;
    let changes: AccessIntervalChange[] = [];
    let first = -1;
    let last = -1;
    let events = 0;
    /** The batch's late events, merged per tenant. */
    let late = new Map<TenantIntervals, MergedLateImpact>();
    /** Quarantined events that fold now: released once the batch's rewrite has put them in. */
    let released: number[] = [];
    let batchOpen = false;
    const openBatch = () => {
      if (!batchOpen) source.startBatch();
      batchOpen = true;
    };
    const addLate = (tenant: TenantIntervals, impact: LateImpact) => {
      const merged = late.get(tenant);
      if (merged) merged.add(impact);
      else late.set(tenant, new MergedLateImpact(impact));
    };
    let slice = performance.now();
    /**
     * A batch of in-order changes only is inserted and checkpointed while the next batch is produced (the insert is
     * chDB's threads, the production this loop's): one batch in flight at most, awaited before the next flush — so
     * inserts and checkpoints keep their order, and a failed one fails the run at the next flush as it did at its own.
     */
    let inFlight: Promise<void> | undefined;
    const settle = async () => {
      const pending = inFlight;
      inFlight = undefined;
      await pending;
    };
    const reset = () => {
      changes = [];
      late = new Map();
      released = [];
      first = last = -1;
      events = 0;
      slice = performance.now();
    };
    const flush = async () => {
      source.endBatch();
      batchOpen = false;
      if (last < 0 && released.length === 0) return;
      // A retried event's rewrite must see the facts through the checkpoint at least: the table holds the later
      // events' intervals. Until the replay gets there, it waits (the replay's last event opens the batch again).
      if (last < 0 && this.folded < checkpoint.position) return;
      if (late.size === 0 && released.length === 0 && !this.stopping) {
        await settle();
        // From the facts as they stand at the end of the batch, before the next one folds more.
        const histories = this.newRoleSets();
        const batch = { changes: withoutRewritten(changes, histories), first, last };
        inFlight = (async () => {
          let rows = 0;
          // A set's rows before its members' (roleSets() at a restart trusts that order).
          for (const history of histories) rows += await this.writer.rewrite(history);
          rows += await this.writer.write(batch.changes);
          await this.options.afterInsert?.({ first: batch.first, last: batch.last, rows });
          checkpoint = this.checkpoint = { position: batch.last, pendingThrough: batch.last, generation: checkpoint.generation };
          await this.checkpoints.save(checkpoint);
          this.counts.changesWritten += batch.changes.length;
          this.counts.rowsInserted += rows;
        })();
        // Awaited by the next settle(); until then a failure must not count as unhandled.
        inFlight.catch(() => undefined);
        reset();
        return;
      }
      // Late events' rewrites read the table: everything before them must be in it.
      await settle();
      // Computed from the facts first (they may name new role sets); written after the batch's own changes.
      const rewrites: IntervalRewrite[] = [];
      for (const [tenant, impact] of late) rewrites.push(await tenant.rewriteOf(impact));
      const histories = this.newRoleSets();
      let rows = 0;
      let rewritten = 0;
      for (const history of histories) {
        rows += await this.writer.rewrite(history);
        rewritten += history.changes.length;
      }
      rows += await this.writer.write(withoutRewritten(changes, histories));
      // After the batch's own changes: the rewrite reads the intervals open before the late events from the table.
      for (const rewrite of rewrites) {
        rows += await this.writer.rewrite(rewrite);
        rewritten += rewrite.changes.length;
      }
      for (const position of released) await this.quarantine.release(position);
      if (last >= 0) {
        await this.options.afterInsert?.({ first, last, rows });
        checkpoint = this.checkpoint = { position: last, pendingThrough: last, generation: checkpoint.generation };
        await this.checkpoints.save(checkpoint);
      }
      this.counts.changesWritten += changes.length + rewritten;
      this.counts.rowsInserted += rows;
      reset();
    };
    try {
      while (!this.stopping) {
        const result = await source.next();
        if (result === TIMEOUT) {
          await flush();
          continue;
        }
        if (result.done) break;
        const stored = result.value;
        this.head = Math.max(this.head, stored.position);
        if (stored.position <= this.folded) continue;
        this.folded = stored.position;
        const tenant = this.tenantOf(stored);
        if (!tenant) continue;
        const held = this.quarantine.has(stored.position);
        if (stored.position <= checkpoint.position) {
          let event: LedgerEvent;
          try {
            event = asLedgerEvent(stored);
            tenant.fold(event);
          } catch (error) {
            // Held already (still failing), or failing only with this build: either way not in the facts.
            if (!held) await this.quarantine.add(checkpoint.generation, stored, error);
            if (released.length > 0 && stored.position === checkpoint.position) openBatch();
            continue;
          }
          if (held) {
            // Retried at start, and it folds now: the table lacks its changes, and later events were written
            // without it — exactly a late event's case (R61): rewrite its members from its instant on.
            addLate(tenant, tenant.lateImpactOf(event));
            released.push(stored.position);
          }
          if (released.length > 0 && stored.position === checkpoint.position) openBatch();
          if (performance.now() - slice > LOOP_YIELD_AFTER_MS) {
            await new Promise((resume) => setImmediate(resume));
            slice = performance.now();
          }
          continue;
        }
        let effect: IntervalEffect = { kind: 'changes', changes: [] };
        try {
          const event = asLedgerEvent(stored);
          const isLate = Date.parse(event.meta.occurredAt) < tenant.latest;
          effect = tenant.apply(event);
          if (isLate) this.counts.lateEvents++;
          // Held by a run that crashed before its checkpoint, and taken this time.
          if (held) released.push(stored.position);
        } catch (error) {
          // Recorded and skipped (nothing of it in the facts); the checkpoint passes it.
          await this.quarantine.add(checkpoint.generation, stored, error);
        }
        if (effect.kind === 'changes') for (const c of effect.changes) changes.push(c);
        this.counts.eventsProjected++;
        if (first < 0) {
          first = stored.position;
          openBatch();
        }
        last = stored.position;
        if (effect.kind === 'late') addLate(tenant, effect.late);
        if (++events >= maxEvents) await flush();
        else if (performance.now() - slice > LOOP_YIELD_AFTER_MS) {
          await new Promise((resume) => setImmediate(resume));
          slice = performance.now();
        }
      }
      // Also when stopping: the facts have folded these events, so their changes must be written before a restart.
      await flush();
      await settle();
    } finally {
      // After a failure, the batch in flight is still awaited (nothing may write once the run has ended); its own
      // error, if any, is second to the one that ended the run.
      await inFlight?.catch(() => undefined);
      this.source = undefined;
      await source.finish();
    }
  }
}
