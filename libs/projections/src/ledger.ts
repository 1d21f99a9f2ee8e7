import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  BatchWorld, CommandBody, EVENT_DATA, FactStore, ImportLine, SCHEMA_VERSION, checkReferences, decide, eventJsonProblem, worldEver,
  evolve, type Actor, type Command, type Decision, type EventMetadata, type EventType, type Source,
} from '../../access-model/src/index.js';
import {
  ConcurrencyConflictError, IdempotencyMismatchError, openEventStore, tenantStream,
  type EventStore, type EventToAppend, type JsonValue, type RecordedEvent,
} from '../../event-store/src/index.js';
import { AccessProjection, accessSnapshotPath } from './access-projection.js';
import { AccessQueries } from './access-queries.js';
import type {
  AppendedRef, CommandOptions, CommandOutcome, FieldError, ImportOutcome, LedgerHealth, LedgerUseCases,
} from './ledger.port.js';
import { decidedEvent } from './decided-event.js';
import { ProjectionRunner } from './projection-runner.js';
import { pauser } from './pauser.js';
import { issuesOf } from './validation.js';

export interface LedgerOptions {
  /** Where the embedded store and the projection snapshot live. */
  readonly dataDir: string;
  readonly kurrentdbUrl?: string;
  /** Clock (tests pin it). */
  readonly now?: () => number;
  /** How many times a command is decided again when another writer appended first (without an explicit revision). */
  readonly maxRetries?: number;
  /** Most commands of one tenant decided and appended together (group commit). */
  readonly maxBatch?: number;
}

/** Serializes work per tenant inside this process (decide against the latest state, then append). */
class TenantLocks {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(tenantId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => undefined);
    this.tails.set(tenantId, tail);
    void tail.then(() => {
      if (this.tails.get(tenantId) === tail) this.tails.delete(tenantId);
    });
    return next;
  }
}

interface PendingCommand {
  readonly command: Command;
  readonly options: CommandOptions;
  readonly resolve: (outcome: CommandOutcome) => void;
  readonly reject: (error: unknown) => void;
  attempts: number;
}

function sourceOf(actor: Actor): Source {
  return actor.kind === 'scim' ? 'scim' : 'api';
}

/**
 * The use cases: validate, decide against the projection's facts, append to the tenant's stream, and answer once the
 * projection has applied what was appended (so a client reads its own writes).
 */
export class Ledger implements LedgerUseCases {
  runner: ProjectionRunner;
  /** The access questions (http-api.md § Access queries) over this ledger's projection. */
  readonly queries: AccessQueries;
  private readonly locks = new TenantLocks();
  private readonly queues = new Map<string, PendingCommand[]>();
  private readonly draining = new Set<string>();
  private readonly now: () => number;
  /** Chain walks running, by tenant (`integrity`): concurrent requests share one. */
  private readonly integrityWalks = new Map<string, Promise<{ events: number; head: string | null; valid: boolean; firstBadPosition?: number }>>();

  private constructor(
    readonly store: EventStore,
    public projection: AccessProjection,
    private readonly snapshotPath: string | undefined,
    private readonly options: LedgerOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.queries = new AccessQueries((tenantId) => this.factsFor(tenantId), this.now);
    this.runner = this.runnerFor(projection);
  }

  static async open(options: LedgerOptions): Promise<Ledger> {
    mkdirSync(options.dataDir, { recursive: true });
    const store = openEventStore({
      sqlitePath: join(options.dataDir, 'events.sqlite'),
      ...(options.kurrentdbUrl ? { kurrentdbUrl: options.kurrentdbUrl } : {}),
    });
    return Ledger.on(store, options);
  }

  /** A ledger over a store opened by the caller (the projection snapshot still lives in `dataDir`). */
  static async on(store: EventStore, options: LedgerOptions): Promise<Ledger> {
    mkdirSync(options.dataDir, { recursive: true });
    const snapshotPath = accessSnapshotPath(options.dataDir);
    const projection = AccessProjection.load(snapshotPath);
    const ledger = new Ledger(store, projection, snapshotPath, options);
    ledger.runner.start();
    return ledger;
  }

  // ------------------------------------------------------------------------------------------------- commands

  async executeCommand(tenantId: string, body: unknown, options: CommandOptions = {}): Promise<CommandOutcome> {
    const parsed = CommandBody.safeParse(body);
    if (!parsed.success) return { kind: 'invalid', errors: issuesOf(parsed.error) };
    const command = parsed.data as Command;
    return new Promise<CommandOutcome>((resolve, reject) => {
      let queue = this.queues.get(tenantId);
      if (!queue) this.queues.set(tenantId, (queue = []));
      queue.push({ command, options, resolve, reject, attempts: 0 });
      void this.drain(tenantId);
    });
  }

  /**
   * Group commit. A tenant's waiting commands are taken together (up to `maxBatch`), decided one after the other —
   * each against the facts as the ones before it left them, folded provisionally — and appended in one transaction:
   * one fsync for the batch instead of one per command. Exactly as if they had been executed one by one.
   */
  private async drain(tenantId: string): Promise<void> {
    if (this.draining.has(tenantId)) return;
    this.draining.add(tenantId);
    try {
      const queue = this.queues.get(tenantId)!;
      while (queue.length > 0) {
        // Let the event loop take in what has arrived meanwhile (requests read while the last batch was being
        // fsynced) before cutting the batch; without this turn, commands that come over sockets would be appended
        // one or two at a time, each paying its own fsync.
        await new Promise<void>((resolve) => setImmediate(resolve));
        const batch = queue.splice(0, this.options.maxBatch ?? 256);
        await this.locks.run(tenantId, () => this.commitBatch(tenantId, batch));
      }
      this.queues.delete(tenantId);
    } finally {
      this.draining.delete(tenantId);
    }
  }

  private async commitBatch(tenantId: string, batch: PendingCommand[]): Promise<void> {
    let revision: number;
    try {
      revision = await this.caughtUp(tenantId);
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    const facts = this.projection.beginWrite(tenantId);
    const decided: { pending: PendingCommand; refused?: { rule: string; detail: string }; from: number; count: number }[] = [];
    const events: EventToAppend[] = [];
    let provisional = facts.lastPosition;
    let stream = revision;
    try {
      for (const pending of batch) {
        const { command, options } = pending;
        if (options.expectedRevision !== undefined && options.expectedRevision !== stream) {
          pending.resolve({ kind: 'conflict', detail: `stream ${tenantStream(tenantId)}: expected revision ${options.expectedRevision}, actual ${stream < 0 ? 'no stream' : stream}` });
          continue;
        }
        const at = command.occurredAt ? Date.parse(command.occurredAt) : this.now();
        let decision: Decision;
        try {
          decision = decide(facts, command, { at, newId: randomUUID });
        } catch (error) {
          pending.reject(error);
          continue;
        }
        if (decision.kind === 'violation') {
          pending.resolve({ kind: 'violation', rule: decision.rule, detail: decision.reason });
          continue;
        }
        const correlationId = randomUUID();
        const from = events.length;
        for (const e of decision.events) {
          const append = decidedEvent(tenantId, e, { actor: command.actor, source: sourceOf(command.actor), occurredAt: new Date(at).toISOString(), recordedAt: new Date(this.now()).toISOString(), correlationId });
          evolve(facts, { id: append.id, type: e.type, data: e.data as never, meta: append.metadata as unknown as EventMetadata, position: ++provisional });
          events.push(append);
        }
        stream += decision.events.length;
        decided.push({ pending, from, count: decision.events.length, ...(decision.kind === 'refused' ? { refused: { rule: decision.rule, detail: decision.reason } } : {}) });
      }
    } catch (error) {
      this.projection.endWrite(tenantId, undefined);
      for (const d of decided) d.pending.reject(error);
      return;
    }
    if (events.length === 0) {
      this.projection.endWrite(tenantId, { revision, positions: [] });
      return;
    }
    let stored: RecordedEvent[];
    try {
      stored = [...(await this.store.append(tenantStream(tenantId), events, { expectedRevision: revision < 0 ? 'no_stream' : revision })).events];
    } catch (error) {
      this.projection.endWrite(tenantId, undefined);
      if (error instanceof ConcurrencyConflictError) {
        // Another process wrote to this tenant first: catch up and decide these commands again (the explicit
        // expected revisions among them will then answer conflict), a few times at most.
        const retry = decided.filter((d) => ++d.pending.attempts <= (this.options.maxRetries ?? 5)).map((d) => d.pending);
        for (const d of decided) if (d.pending.attempts > (this.options.maxRetries ?? 5)) d.pending.resolve({ kind: 'conflict', detail: error.message });
        this.queues.get(tenantId)?.unshift(...retry);
        return;
      }
      for (const d of decided) d.pending.reject(error);
      return;
    }
    this.projection.endWrite(tenantId, { revision: stored[stored.length - 1]!.revision, positions: stored.map((e) => e.position) });
    for (const d of decided) {
      const refs: AppendedRef[] = stored.slice(d.from, d.from + d.count).map((e) => ({ id: e.id, type: e.type, position: e.position }));
      d.pending.resolve(d.refused ? { kind: 'refused', ...d.refused, events: refs } : { kind: 'appended', events: refs });
    }
  }

  /** Waits until the projection has applied the tenant's stream as far as the store has it; returns that revision. */
  private async caughtUp(tenantId: string): Promise<number> {
    const revision = (await this.store.streamRevision(tenantStream(tenantId))) ?? -1;
    if (revision >= 0) await this.projection.waitFor(tenantId, revision);
    return revision;
  }

  // -------------------------------------------------------------------------------------------------- imports

  async importEvents(tenantId: string, ndjson: string): Promise<ImportOutcome> {
    const errors: FieldError[] = [];
    const lines: { line: number; event: ImportLine }[] = [];
    const raw = ndjson.split('\n');
    const pause = pauser();
    for (let i = 0; i < raw.length; i++) {
      await pause();
      const text = raw[i]!.trim();
      if (text === '') continue;
      const line = i + 1;
      // Issue 16 item 6: checked before JSON.parse, and before anything is stored, so no projection meets it.
      const tooMuch = eventJsonProblem(text);
      if (tooMuch) {
        errors.push({ path: `line ${line}`, message: tooMuch });
        continue;
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        errors.push({ path: `line ${line}`, message: 'is not valid JSON' });
        continue;
      }
      const parsed = ImportLine.safeParse(json);
      if (!parsed.success) {
        for (const issue of issuesOf(parsed.error)) errors.push({ path: `line ${line}: ${issue.path}`, message: issue.message });
        continue;
      }
      const data = EVENT_DATA[parsed.data.type]!.safeParse(parsed.data.data);
      if (!data.success) {
        for (const issue of issuesOf(data.error)) errors.push({ path: `line ${line}: data${issue.path ? `.${issue.path}` : ''}`, message: issue.message });
        continue;
      }
      lines.push({ line, event: { ...parsed.data, data: data.data as Record<string, unknown> } });
    }
    if (errors.length > 0) return { kind: 'invalid', status: 400, errors };
    if (lines.length === 0) return { kind: 'imported', appended: 0, skipped: 0 };
    const ids = new Set<string>();
    for (const { line, event } of lines) {
      if (ids.has(event.id)) errors.push({ path: `line ${line}: id`, message: `repeats id ${event.id} of an earlier line` });
      ids.add(event.id);
    }
    if (errors.length > 0) return { kind: 'invalid', status: 400, errors };

    return this.locks.run(tenantId, async () => {
      for (let attempt = 0; ; attempt++) {
        const revision = await this.caughtUp(tenantId);
        const known = await this.store.knownIds([...ids]);
        const fresh = lines.filter((l) => !known.has(l.event.id));
        // Facts from elsewhere skip R22 but not reference validation; a line may refer to what an earlier line of
        // the same batch creates, and to anything that ever existed (it may describe the past, R61).
        const world = new BatchWorld(worldEver(this.projection.factsOf(tenantId)));
        for (const { line, event } of fresh) {
          await pause();
          const problem = checkReferences(world, event.type as EventType, event.data);
          if (problem) errors.push({ path: `line ${line}`, message: `${problem.reason} (${problem.rule})` });
          else world.record(event.type as EventType, event.data);
        }
        if (errors.length > 0) return { kind: 'invalid', status: 409, errors };
        if (fresh.length === 0) return { kind: 'imported', appended: 0, skipped: lines.length };
        const recordedAt = new Date(this.now()).toISOString();
        const events: EventToAppend[] = fresh.map(({ event }) => ({
          id: event.id,
          type: event.type,
          data: event.data as JsonValue,
          metadata: {
            tenantId,
            occurredAt: event.occurredAt,
            recordedAt,
            actor: event.actor as JsonValue,
            source: event.source,
            ...(event.correlationId ? { correlationId: event.correlationId } : {}),
            ...(event.causationId ? { causationId: event.causationId } : {}),
            schemaVersion: SCHEMA_VERSION[event.type] ?? 1,
          },
        }));
        try {
          const result = await this.store.append(tenantStream(tenantId), events, { expectedRevision: revision < 0 ? 'no_stream' : revision });
          await this.projection.waitFor(tenantId, result.nextRevision);
          return { kind: 'imported', appended: fresh.length, skipped: lines.length - fresh.length };
        } catch (error) {
          if (error instanceof IdempotencyMismatchError || !(error instanceof ConcurrencyConflictError) || attempt >= 5) throw error;
        }
      }
    });
  }

  // ------------------------------------------------------------------------------------------------- queries

  /** The tenant's facts once everything appended so far has been applied (read-your-writes). */
  async factsFor(tenantId: string): Promise<FactStore> {
    await this.caughtUp(tenantId);
    return this.projection.factsOf(tenantId);
  }

  /**
   * The tenant's whole chain walked again (an edit of an old row must show). A walk takes seconds on a large stream
   * (≈ 5 µs an event), so requests that arrive while one runs share its answer instead of each starting one.
   */
  integrity(tenantId: string): Promise<{ events: number; head: string | null; valid: boolean; firstBadPosition?: number }> {
    let walk = this.integrityWalks.get(tenantId);
    if (walk === undefined) {
      walk = this.store
        .verifyChain(tenantStream(tenantId))
        .then((v) => ({ events: v.events, head: v.head, valid: v.valid, ...(v.firstBadPosition !== undefined ? { firstBadPosition: v.firstBadPosition } : {}) }))
        .finally(() => this.integrityWalks.delete(tenantId));
      this.integrityWalks.set(tenantId, walk);
    }
    return walk;
  }

  async health(): Promise<LedgerHealth> {
    let eventStore = true;
    let detail: string | undefined;
    try {
      await this.store.ping();
    } catch (error) {
      eventStore = false;
      detail = `event store: ${(error as Error).message}`;
    }
    const projectionLag = eventStore ? await this.runner.lag() : Number.NaN;
    if (this.runner.error) detail = `access projection stopped: ${(this.runner.error as Error).message}`;
    return { eventStore: eventStore && !this.runner.error, readModel: true, projectionLag, ...(detail ? { detail } : {}) };
  }

  private runnerFor(projection: AccessProjection): ProjectionRunner {
    const path = this.snapshotPath;
    return new ProjectionRunner(this.store, projection, path ? { checkpoint: () => projection.saveSnapshot(path) } : {});
  }

  /**
   * Rebuild the access projection from the first event (`ledger rebuild`): a fresh fold of the whole store, which
   * then replaces the current one (and its snapshot) and follows the store live.
   */
  async rebuild(onProgress?: (position: number, head: number) => void): Promise<{ events: number; ms: number }> {
    await this.runner.stop();
    const started = performance.now();
    const fresh = new AccessProjection();
    const runner = this.runnerFor(fresh);
    await runner.catchUp(onProgress);
    const ms = performance.now() - started;
    await runner.checkpointNow();
    this.projection = fresh;
    this.runner = runner;
    runner.start();
    return { events: fresh.applied, ms };
  }

  async close(): Promise<void> {
    await this.runner.stop();
    await this.store.close();
  }
}
