import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  BatchWorld,
  CommandBody,
  describeActor,
  samePrincipal,
  type AuthRecord,
  type CommandAsSent,
  EVENT_DATA,
  type FactStore,
  ImportLine,
  SCHEMA_VERSION,
  checkReferences,
  decide,
  eventJsonProblem,
  worldEver,
  evolve,
  type Actor,
  type Command,
  type Decision,
  type EventMetadata,
  type EventType,
  type Source,
} from '@access-ledger/access-model';
import {
  ConcurrencyConflictError,
  IdempotencyMismatchError,
  isStorageFull,
  openEventStore,
  StorageFullError,
  tenantOfStream,
  tenantStream,
  type AppendResult,
  type ChainVerification,
  type CommandRecord,
  type EventStore,
  type EventToAppend,
  type JsonValue,
  type RecordedEvent,
  type SqliteEventStoreOptions,
  type StoredCommand,
} from '@access-ledger/event-store';
import { AccessProjection, AccessQuarantine, accessQuarantinePath, accessSnapshotPath, ProjectionRunner, pauser } from '@access-ledger/projections';
import { AccessQueries } from './access-queries.js';
import { DirectoryQueries } from './directory-queries.js';
import { ACT_AS_SCOPE, IN_PROCESS, authRecordOf } from './ledger.port.js';
import {
  IntegrityBrokenError,
  WriteContentionError,
  type AppendedRef,
  type AuthContext,
  type CommandOptions,
  type CommandOutcome,
  type FieldError,
  type ImportLineObject,
  type ImportOutcome,
  type IntegrityBreak,
  type LedgerHealth,
  type LedgerUseCases,
} from './ledger.port.js';
import { decidedEvent } from './decided-event.js';
import { PrototypeKeyError, issuesOf, parseJsonRefusingPrototypeKeys, prototypeKeyIn } from './validation.js';

export interface LedgerOptions {
  /** Where the embedded store and the projection snapshot live. */
  readonly dataDir: string;
  readonly kurrentdbUrl?: string;
  /** Clock (tests pin it). */
  readonly now?: () => number;
  /**
   * How long a command without an expected revision is decided again while another writer keeps appending first
   * (then 503 with Retry-After, never a conflict it did not ask for). Default 30 000 ms.
   */
  readonly contentionLimitMs?: number;
  /** How many of each tenant stream's last events are verified at start, before any write. Default 1 000. */
  readonly verifyTailEvents?: number;
  /** Walk every whole chain in the background after start (default true; the CLI's one-shot commands skip it). */
  readonly verifyWholeChains?: boolean;
  /** Options of the embedded store (tests: a size limit). */
  readonly sqlite?: SqliteEventStoreOptions;
  /** Most commands of one tenant decided and appended together (group commit). */
  readonly maxBatch?: number;
}

/** Serializes work per tenant inside this process (decide against the latest state, then append). */
class TenantLocks {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(tenantId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => undefined); // the failure reaches this caller through `next`; the next work still runs
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
  readonly auth: AuthRecord;
  readonly resolve: (outcome: CommandOutcome) => void;
  readonly reject: (error: unknown) => void;
  /** When it was first taken (performance.now()): the contention limit counts from there. */
  readonly since: number;
}

/** The answer a command with an idempotency key gave, as the store keeps it beside its events. */
type RecordedAnswer = { readonly kind: 'appended' } | { readonly kind: 'refused'; readonly rule: string; readonly detail: string };

function replayOf(stored: StoredCommand): CommandOutcome {
  const answer = stored.answer as RecordedAnswer;
  const events: AppendedRef[] = stored.events.map((e) => ({ id: e.id, type: e.type, position: e.position }));
  return answer.kind === 'refused'
    ? { kind: 'refused', rule: answer.rule, detail: answer.detail, events, replayed: true }
    : { kind: 'appended', events, replayed: true };
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
  /** Discovery (discovery, docs/api.md § Routes): organizations, members, catalog, one event by id. */
  readonly directory: DirectoryQueries;
  private readonly locks = new TenantLocks();
  private readonly queues = new Map<string, PendingCommand[]>();
  private readonly draining = new Set<string>();
  private readonly now: () => number;
  /** Chain walks running, by tenant (`integrity`): concurrent requests share one. */
  private readonly integrityWalks = new Map<string, Promise<{ events: number; head: string | null; valid: boolean; firstBadPosition?: number }>>();
  /** Tenants whose chain failed verification: their writes are refused until a restart verifies again. */
  private readonly broken = new Map<string, IntegrityBreak>();
  private fullWalk: Promise<void> | undefined;
  private fullWalkDone = false;
  private walkError: unknown;
  private closing = false;
  /** Where the last write failed for want of space; cleared by the next write that succeeds. */
  private storageFull: string | undefined;

  private constructor(
    readonly store: EventStore,
    public projection: AccessProjection,
    private readonly snapshotPath: string | undefined,
    private readonly options: LedgerOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.queries = new AccessQueries((tenantId) => this.factsFor(tenantId), this.now);
    this.directory = new DirectoryQueries((tenantId) => this.factsFor(tenantId), this.store, this.now);
    this.runner = this.runnerFor(projection);
  }

  static async open(options: LedgerOptions): Promise<Ledger> {
    mkdirSync(options.dataDir, { recursive: true });
    const store = openEventStore({
      sqlitePath: join(options.dataDir, 'events.sqlite'),
      ...(options.kurrentdbUrl ? { kurrentdbUrl: options.kurrentdbUrl } : {}),
      ...(options.sqlite ? { sqlite: options.sqlite } : {}),
    });
    return Ledger.on(store, options);
  }

  /** A ledger over a store opened by the caller (the projection snapshot still lives in `dataDir`). */
  static async on(store: EventStore, options: LedgerOptions): Promise<Ledger> {
    mkdirSync(options.dataDir, { recursive: true });
    const snapshotPath = accessSnapshotPath(options.dataDir);
    const projection = AccessProjection.load(snapshotPath, accessQuarantinePath(options.dataDir));
    const ledger = new Ledger(store, projection, snapshotPath, options);
    await projection.recheckQuarantine((position) => ledger.eventAt(position));
    // Nothing is chained onto a tail that does not verify; the whole chains are walked after start.
    await ledger.verifyTails();
    ledger.runner.start();
    if (options.verifyWholeChains ?? true) ledger.fullWalk = ledger.verifyWholeChains();
    return ledger;
  }

  /** Each tenant stream's last events, hashed again from their stored text and their links checked. */
  private async verifyTails(): Promise<void> {
    const tail = this.options.verifyTailEvents ?? 1000;
    for (const streamId of await this.store.streamIds()) this.noteVerification(streamId, await this.store.verifyChain(streamId, undefined, { tail }));
  }

  /** Every tenant's whole chain, one after the other, in the background (the walk yields to the event loop). */
  private async verifyWholeChains(): Promise<void> {
    try {
      for (const streamId of await this.store.streamIds()) {
        if (this.closing) return;
        this.noteVerification(streamId, await this.store.verifyChain(streamId));
      }
      this.fullWalkDone = true;
    } catch (error) {
      // Closing the store ends the walk with "closed"; any other failure leaves `integrityVerified` false on /ready.
      if (!this.closing) this.walkError = error;
    }
  }

  private noteVerification(streamId: string, v: ChainVerification): void {
    const tenantId = tenantOfStream(streamId);
    if (v.valid || tenantId === undefined || this.broken.has(tenantId)) return;
    this.broken.set(tenantId, {
      tenantId,
      streamId,
      ...(v.firstBadRevision !== undefined ? { firstBadRevision: v.firstBadRevision } : {}),
      ...(v.firstBadPosition !== undefined ? { firstBadPosition: v.firstBadPosition } : {}),
      reason: v.reason ?? 'does not verify',
    });
  }

  /** Resolves once the background walk of every chain has ended (tests, `ledger verify`). */
  async wholeChainsVerified(): Promise<void> {
    await this.fullWalk;
  }

  private assertWritable(tenantId: string): void {
    const b = this.broken.get(tenantId);
    if (b) throw new IntegrityBrokenError(b);
  }

  /** A failed write: a full disk becomes StorageFullError and is remembered for /ready. */
  private storageError(error: unknown, where: string): unknown {
    if (error instanceof StorageFullError) {
      this.storageFull = error.where;
      return error;
    }
    if (isStorageFull(error)) {
      this.storageFull = where;
      return new StorageFullError(where, { cause: error });
    }
    return error;
  }

  // ------------------------------------------------------------------------------------------------- commands

  async executeCommand(tenantId: string, body: unknown, options: CommandOptions = {}, auth: AuthContext = IN_PROCESS): Promise<CommandOutcome> {
    const parsed = CommandBody.safeParse(body);
    if (!parsed.success) return { kind: 'invalid', errors: issuesOf(parsed.error) };
    const sent = parsed.data as CommandAsSent;
    const actor = sent.actor ?? (auth.via === 'key' ? auth.principal : undefined);
    if (actor === undefined) return { kind: 'invalid', errors: [{ path: 'actor', message: 'is required: no API key principal to act as' }] };
    if (auth.via === 'key' && !samePrincipal(actor, auth.principal)) {
      // A key acts as its principal; claiming another actor needs that kind's act-as scope.
      const needed = ACT_AS_SCOPE[actor.kind];
      if (!auth.scopes.includes(needed)) {
        return {
          kind: 'actor-not-allowed',
          detail: `This API key (${auth.keyId}) acts as ${describeActor(auth.principal)}; acting as ${describeActor(actor)} needs the scope ${needed}.`,
        };
      }
    }
    const command = { ...sent, actor } as Command;
    const authRecord = authRecordOf(auth);
    this.assertWritable(tenantId);
    return new Promise<CommandOutcome>((resolve, reject) => {
      let queue = this.queues.get(tenantId);
      if (!queue) this.queues.set(tenantId, (queue = []));
      queue.push({ command, options, auth: authRecord, resolve, reject, since: performance.now() });
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
    // A command whose key another command of this batch carries waits for the next batch, where it finds that
    // command's record: the store's primary key would refuse both in one append.
    const later: PendingCommand[] = [];
    try {
      await this.commitBatchOnce(tenantId, batch, later);
    } finally {
      if (later.length > 0) this.queues.get(tenantId)?.unshift(...later);
    }
  }

  private async commitBatchOnce(tenantId: string, batch: PendingCommand[], later: PendingCommand[]): Promise<void> {
    let revision: number;
    const replays = new Map<PendingCommand, StoredCommand>();
    try {
      this.assertWritable(tenantId);
      revision = await this.caughtUp(tenantId);
      // A key stored with its events is a command already decided and appended, whatever crashed since.
      for (const p of batch) {
        const key = p.command.idempotencyKey;
        const stored = key === undefined ? undefined : await this.store.commandByKey(tenantStream(tenantId), key);
        if (stored) replays.set(p, stored);
      }
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    const facts = this.projection.beginWrite(tenantId);
    const decided: { pending: PendingCommand; refused?: { rule: string; detail: string }; from: number; count: number }[] = [];
    const events: EventToAppend[] = [];
    const commands: CommandRecord[] = [];
    const keys = new Set<string>();
    let provisional = facts.lastPosition;
    let stream = revision;
    try {
      for (const pending of batch) {
        const { command, options, auth } = pending;
        const replay = replays.get(pending);
        if (replay) {
          pending.resolve(replayOf(replay));
          continue;
        }
        const key = command.idempotencyKey;
        if (key !== undefined && keys.has(key)) {
          later.push(pending);
          continue;
        }
        if (options.expectedRevision !== undefined && options.expectedRevision !== stream) {
          pending.resolve({
            kind: 'conflict',
            detail: `stream ${tenantStream(tenantId)}: expected revision ${options.expectedRevision}, actual ${stream < 0 ? 'no stream' : stream}`,
          });
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
          const append = decidedEvent(tenantId, e, {
            actor: command.actor,
            source: sourceOf(command.actor),
            occurredAt: new Date(at).toISOString(),
            recordedAt: new Date(this.now()).toISOString(),
            correlationId,
            auth,
            ...(key !== undefined ? { idempotencyKey: key } : {}),
          });
          evolve(facts, { id: append.id, type: e.type, data: e.data as never, meta: append.metadata as unknown as EventMetadata, position: ++provisional });
          events.push(append);
        }
        stream += decision.events.length;
        if (key !== undefined && decision.events.length > 0) {
          keys.add(key);
          const answer: RecordedAnswer = decision.kind === 'refused' ? { kind: 'refused', rule: decision.rule, detail: decision.reason } : { kind: 'appended' };
          commands.push({ key, first: from, count: decision.events.length, answer });
        }
        decided.push({
          pending,
          from,
          count: decision.events.length,
          ...(decision.kind === 'refused' ? { refused: { rule: decision.rule, detail: decision.reason } } : {}),
        });
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
      stored = [...(await this.store.append(tenantStream(tenantId), events, { expectedRevision: revision < 0 ? 'no_stream' : revision, commands })).events];
      this.storageFull = undefined;
    } catch (error) {
      this.projection.endWrite(tenantId, undefined);
      if (error instanceof ConcurrencyConflictError) {
        // Another process wrote to this tenant first. Catch up (at once: `caughtUp` pokes the subscription)
        // and decide these commands again; those with an expected revision then answer conflict, the others land
        // — or, if the other writer never lets them for `contentionLimitMs`, answer 503 to be retried later.
        const limit = this.options.contentionLimitMs ?? 30_000;
        const now = performance.now();
        const retry: PendingCommand[] = [];
        for (const d of decided) {
          if (now - d.pending.since < limit) retry.push(d.pending);
          else d.pending.reject(new WriteContentionError(tenantId, now - d.pending.since));
        }
        later.unshift(...retry);
        return;
      }
      const failure = this.storageError(error, 'events');
      for (const d of decided) d.pending.reject(failure);
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
    if (revision >= 0) {
      const waiting = this.projection.waitFor(tenantId, revision);
      // Events another process appended reach the subscription at its next poll; do not wait for it.
      this.runner.poke();
      await waiting;
    }
    return revision;
  }

  // -------------------------------------------------------------------------------------------------- imports

  async importEvents(tenantId: string, ndjson: string, auth: AuthContext = IN_PROCESS): Promise<ImportOutcome> {
    const errors: FieldError[] = [];
    const lines: { line: number; event: ImportLine }[] = [];
    const raw = ndjson.split('\n');
    const pause = pauser();
    for (let i = 0; i < raw.length; i++) {
      await pause();
      const text = raw[i]!.trim();
      if (text === '') continue;
      const line = i + 1;
      // Checked before JSON.parse, and before anything is stored, so no projection meets it.
      const tooMuch = eventJsonProblem(text);
      if (tooMuch) {
        errors.push({ path: `line ${line}`, message: tooMuch });
        continue;
      }
      let json: unknown;
      try {
        json = parseJsonRefusingPrototypeKeys(text);
      } catch (error) {
        errors.push(
          error instanceof PrototypeKeyError
            ? { path: `line ${line}: ${error.key}`, message: error.message }
            : { path: `line ${line}`, message: 'is not valid JSON' },
        );
        continue;
      }
      const event = validImportLine(json, line, errors);
      if (event) lines.push({ line, event });
    }
    if (errors.length > 0) return { kind: 'invalid', errors };
    if (lines.length === 0) return { kind: 'imported', appended: 0, skipped: 0 };
    repeatedIds(lines, errors);
    if (errors.length > 0) return { kind: 'invalid', errors };
    return this.importChecked(tenantId, Promise.resolve({ lines, errors }), auth);
  }

  /**
   * `importEvents` for lines a caller built as objects (a source's mapper): each line is held to exactly what an
   * NDJSON line is — the size and depth limits and the prototype keys on its JSON text, the same schemas for the line
   * and its data — without writing the batch as text and parsing it back. Errors name lines from 1, as in a file.
   *
   * Batches of one tenant are written in the order of the calls, and a batch's lines are checked from the call on,
   * while the batches before it are still being written: a caller may hand over the next batch without waiting.
   */
  importLines(tenantId: string, objects: readonly ImportLineObject[], auth: AuthContext = IN_PROCESS): Promise<ImportOutcome> {
    const checked = this.checkLines(objects);
    // Awaited inside the tenant's turn (importChecked); until then a failure must not count as unhandled.
    checked.catch(() => {});
    return this.importChecked(tenantId, checked, auth);
  }

  private async checkLines(objects: readonly ImportLineObject[]): Promise<{ lines: { line: number; event: ImportLine }[]; errors: FieldError[] }> {
    const errors: FieldError[] = [];
    const lines: { line: number; event: ImportLine }[] = [];
    const pause = pauser();
    for (let i = 0; i < objects.length; i++) {
      await pause();
      const line = i + 1;
      const text = JSON.stringify(objects[i]);
      const tooMuch = eventJsonProblem(text);
      if (tooMuch) {
        errors.push({ path: `line ${line}`, message: tooMuch });
        continue;
      }
      const key = prototypeKeyIn(text);
      if (key !== undefined) {
        errors.push({ path: `line ${line}: ${key.key}`, message: key.message });
        continue;
      }
      const event = validImportLine(objects[i], line, errors);
      if (event) lines.push({ line, event });
    }
    return { lines, errors };
  }

  /** The checked lines of an import, written in the tenant's turn (taken at the call, in call order). */
  private async importChecked(
    tenantId: string,
    checked: Promise<{ lines: readonly { line: number; event: ImportLine }[]; errors: FieldError[] }>,
    auth: AuthContext,
  ): Promise<ImportOutcome> {
    this.assertWritable(tenantId);
    const pause = pauser();

    return this.locks.run(tenantId, async () => {
      const { lines, errors } = await checked;
      if (errors.length > 0) return { kind: 'invalid', errors };
      if (lines.length === 0) return { kind: 'imported', appended: 0, skipped: 0 };
      const ids = repeatedIds(lines, errors);
      if (errors.length > 0) return { kind: 'invalid', errors };
      this.assertWritable(tenantId);
      const since = performance.now();
      for (;;) {
        const revision = await this.caughtUp(tenantId);
        const known = await this.store.knownIds(tenantStream(tenantId), [...ids]);
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
        if (errors.length > 0) return { kind: 'unknown-reference', errors };
        if (fresh.length === 0) return { kind: 'imported', appended: 0, skipped: lines.length };
        const recordedAt = new Date(this.now()).toISOString();
        const authRecord = authRecordOf(auth);
        const events: EventToAppend[] = fresh.map(({ event }) => ({
          id: event.id,
          type: event.type,
          data: event.data as JsonValue,
          // Keys in code-unit order: the store's canonical text of an ordered object is JSON.stringify's (chain.ts).
          metadata: {
            actor: event.actor as JsonValue,
            auth: authRecord as unknown as JsonValue,
            ...(event.causationId ? { causationId: event.causationId } : {}),
            ...(event.correlationId ? { correlationId: event.correlationId } : {}),
            ...(event.evidence ? { evidence: event.evidence as JsonValue } : {}),
            occurredAt: event.occurredAt,
            recordedAt,
            schemaVersion: SCHEMA_VERSION[event.type] ?? 1,
            source: event.source,
            tenantId,
          },
        }));
        const folded = this.foldProvisionally(tenantId, events);
        let result: AppendResult;
        try {
          result = await this.store.append(tenantStream(tenantId), events, { expectedRevision: revision < 0 ? 'no_stream' : revision });
          this.storageFull = undefined;
        } catch (error) {
          if (folded) this.projection.endWrite(tenantId, undefined);
          if (error instanceof IdempotencyMismatchError || !(error instanceof ConcurrencyConflictError)) throw this.storageError(error, 'events');
          // Another writer got in first: the same patience as for commands.
          const waited = performance.now() - since;
          if (waited >= (this.options.contentionLimitMs ?? 30_000)) throw new WriteContentionError(tenantId, waited);
          continue;
        }
        // The store hands back the events it was given when it wrote them; events it already had (stored by
        // another writer meanwhile) come back as read, and are folded by the subscription instead.
        const wrote = result.events.length === events.length && result.events[0]?.metadata === events[0]!.metadata;
        if (folded && wrote) this.projection.endWrite(tenantId, { revision: result.nextRevision, positions: result.events.map((e) => e.position) });
        else {
          if (folded) this.projection.endWrite(tenantId, undefined);
          await this.projection.waitFor(tenantId, result.nextRevision);
        }
        return { kind: 'imported', appended: fresh.length, skipped: lines.length - fresh.length };
      }
    });
  }

  /**
   * The events of an import folded into the tenant's facts before they are appended, as the writer of commands does
   * (group commit): the import then answers without waiting for the subscription to read every event back from the
   * store and fold it. `endWrite` keeps them (with their positions) or takes them back. False, with nothing folded,
   * when one of them cannot be folded: the projection then meets it from the store and quarantines it.
   */
  private foldProvisionally(tenantId: string, events: readonly EventToAppend[]): boolean {
    const facts = this.projection.beginWrite(tenantId);
    let position = facts.lastPosition;
    try {
      for (const e of events) {
        evolve(facts, { id: e.id, type: e.type as EventType, data: e.data as never, meta: e.metadata as unknown as EventMetadata, position: ++position });
      }
      return true;
    } catch {
      // Not lost: the same event reaches the projection from the store, which records why it cannot be folded.
      this.projection.endWrite(tenantId, undefined);
      return false;
    }
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
        .then((v) => {
          this.noteVerification(tenantStream(tenantId), v);
          return v;
        })
        .then((v) => ({
          events: v.events,
          head: v.head,
          valid: v.valid,
          ...(v.firstBadPosition !== undefined ? { firstBadPosition: v.firstBadPosition } : {}),
        }))
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
    if (this.walkError) detail = [detail, `chain verification failed: ${(this.walkError as Error).message}`].filter(Boolean).join('; ');
    const quarantine = this.projection.quarantine;
    return {
      eventStore: eventStore && !this.runner.error,
      ...(quarantine.count > 0 ? { accessProjectionQuarantined: quarantine.byTenant() } : {}),
      ...(quarantine.foldsNow.size > 0
        ? {
            accessProjectionRebuild: `${quarantine.foldsNow.size} quarantined event(s) before the access snapshot fold with this build: run \`ledger rebuild\` to take them`,
          }
        : {}),
      readModel: true,
      projectionLag,
      ...(detail ? { detail } : {}),
      ...(this.storageFull !== undefined ? { storageFull: this.storageFull } : {}),
      ...(this.broken.size > 0 ? { integrityBroken: [...this.broken.values()] } : {}),
      integrityVerified: this.fullWalkDone,
    };
  }

  private async eventAt(position: number): Promise<RecordedEvent | undefined> {
    for await (const event of this.store.readAll({ after: position - 1, maxCount: 1 })) return event.position === position ? event : undefined;
    return undefined;
  }

  private runnerFor(projection: AccessProjection): ProjectionRunner {
    const path = this.snapshotPath;
    const checkpoint = async () => {
      try {
        await projection.saveSnapshot(path!);
      } catch (error) {
        // A snapshot only shortens the replay at start: on a full disk it is skipped (the last one stays whole,
        // writes are atomic) rather than stopping the projection; /ready shows where space ran out.
        if (!isStorageFull(error)) throw error;
        this.storageFull = path!;
      }
    };
    return new ProjectionRunner(this.store, projection, path ? { checkpoint } : {});
  }

  /**
   * Rebuild the access projection from the first event (`ledger rebuild`): a fresh fold of the whole store, which
   * then replaces the current one (and its snapshot) and follows the store live.
   */
  async rebuild(onProgress?: (position: number, head: number) => void): Promise<{ events: number; ms: number }> {
    await this.runner.stop();
    const started = performance.now();
    // A rebuild meets every event again: the quarantine starts empty and holds what still fails.
    const fresh = new AccessProjection(AccessQuarantine.fresh(this.snapshotPath ? accessQuarantinePath(this.options.dataDir) : undefined));
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
    this.closing = true;
    await this.runner.stop();
    await this.store.close();
    await this.fullWalk;
  }
}

/** The ids of an import's lines; a line repeating an earlier line's id is an error. */
function repeatedIds(lines: readonly { line: number; event: ImportLine }[], errors: FieldError[]): Set<string> {
  const ids = new Set<string>();
  for (const { line, event } of lines) {
    if (ids.has(event.id)) errors.push({ path: `line ${line}: id`, message: `repeats id ${event.id} of an earlier line` });
    ids.add(event.id);
  }
  return ids;
}

/** One import line (parsed from text, or built by a caller) against the line's schema and its type's data schema. */
function validImportLine(json: unknown, line: number, errors: FieldError[]): ImportLine | undefined {
  const parsed = ImportLine.safeParse(json);
  if (!parsed.success) {
    for (const issue of issuesOf(parsed.error)) errors.push({ path: `line ${line}: ${issue.path}`, message: issue.message });
    return undefined;
  }
  const data = EVENT_DATA[parsed.data.type]!.safeParse(parsed.data.data);
  if (!data.success) {
    for (const issue of issuesOf(data.error)) errors.push({ path: `line ${line}: data${issue.path ? `.${issue.path}` : ''}`, message: issue.message });
    return undefined;
  }
  return { ...parsed.data, data: data.data as Record<string, unknown> };
}
