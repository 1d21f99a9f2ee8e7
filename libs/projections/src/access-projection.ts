import { readFileSync, rmSync } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { FactStore, KEYS, StringTable, asLedgerEvent, evolveWhole, type FactStoreSnapshot, type KeySpaceSnapshot } from '@access-ledger/access-model';
import type { RecordedEvent } from '@access-ledger/event-store';
import { AccessQuarantine, type HeldEvent } from './access-quarantine.js';

/** One tenant's folded history: the bitemporal facts, and how far its stream has been applied. */
export interface TenantAccess {
  readonly facts: FactStore;
  /** Last revision of the tenant stream applied (-1: none). */
  revision: number;
  events: number;
}

interface Waiter {
  readonly tenantId: string;
  readonly revision: number;
  readonly resolve: () => void;
}

// 4: the fact store's index sets of limited members and groups, Console role holders and workspace users (an older
// snapshot lacks them, and the interval producer finds whom an organization-wide event changes through them).
const SNAPSHOT_FORMAT = 4;

interface SnapshotFile {
  readonly format: number;
  readonly position: number;
  /** The fact names the stores' keys are, and the strings names and set items refer to. */
  readonly keys: KeySpaceSnapshot;
  readonly strings: string[];
  readonly tenants: [string, { revision: number; events: number; facts: FactStoreSnapshot }][];
  /**
   * Events at or before `position` that are not in the facts (quarantined). Optional: snapshots
   * written before it have none, and read the same.
   */
  readonly quarantined?: HeldEvent[];
}

/** Where a data directory keeps the access projection's snapshot. */
export function accessSnapshotPath(dataDir: string): string {
  return join(dataDir, 'projections', 'access.snapshot');
}

/** Every tenant's facts as folded up to `position` (the events after it are not in them). */
export interface FoldedFacts {
  readonly position: number;
  readonly tenants: readonly (readonly [string, FactStore])[];
}

/**
 * The access snapshot's facts, for another projection that folds the same events into the same stores (the
 * interval projection, at start: loading is faster than folding the store again). Undefined when there is none.
 */
export function foldedFactsOf(snapshotPath: string): FoldedFacts | undefined {
  // A snapshot that cannot be read is an error here too (AccessProjection.load): the ledger refuses to start on it.
  const projection = AccessProjection.load(snapshotPath);
  if (projection.position < 0) return undefined;
  // Facts missing a quarantined event are not what folding the store gives: the other projection folds it itself.
  if (projection.quarantine.count > 0) return undefined;
  return { position: projection.position, tenants: projection.tenantIds().map((id) => [id, projection.factsOf(id)] as const) };
}

/**
 * The effective-access projection: every tenant's events folded into its fact store, in global position order.
 *
 * Exactly once: `position` is the last global position applied, and `apply` ignores anything at or below it, so a
 * subscription replaying from the checkpoint can never apply an event twice; the snapshot file holds the facts and
 * that position together (written to a temporary file, fsynced, renamed), so a restart resumes exactly after the
 * last event the snapshot contains — nothing skipped, nothing doubled.
 */
export class AccessProjection {
  private readonly tenants = new Map<string, TenantAccess>();
  private waiters: Waiter[] = [];
  private deferred: RecordedEvent[] = [];
  /** The snapshot being written, if any (writes never overlap). */
  private writing: Promise<void> = Promise.resolve();
  private speculations = 0;
  /** Positions of events the writer folded (`endWrite`) that the subscription has not delivered yet. */
  private readonly foldedByWriter = new Set<number>();
  /** Last global position applied (-1: none). */
  position = -1;
  /** The facts come from the events' content; the chain is verified elsewhere (`ledger verify`, /integrity). */
  readonly readsChain = false;
  applied = 0;

  /** `quarantine`: where events it cannot fold are recorded; in memory only when not given. */
  constructor(readonly quarantine = new AccessQuarantine(undefined)) {}

  tenant(tenantId: string): TenantAccess | undefined {
    return this.tenants.get(tenantId);
  }

  tenantIds(): string[] {
    return [...this.tenants.keys()];
  }

  /** The tenant's facts, created empty for a tenant with no events yet. */
  factsOf(tenantId: string): FactStore {
    return this.ensure(tenantId).facts;
  }

  apply(stored: RecordedEvent): void {
    // While a writer holds provisional events in a tenant's facts, everything the subscription delivers waits, in
    // order, so that nothing is folded into (or rolled back with) a speculation, and `position` never passes an
    // event that is not in the facts yet.
    if (this.speculations > 0 || this.deferred.length > 0) {
      this.deferred.push(stored);
      return;
    }
    this.applyNow(stored);
  }

  private applyNow(stored: RecordedEvent): void {
    if (stored.position <= this.position) {
      this.foldedByWriter.delete(stored.position);
      return;
    }
    // Folded by the writer of this process when it stored it (group commit): passed over without reading its content.
    if (this.foldedByWriter.delete(stored.position)) {
      this.position = stored.position;
      this.applied++;
      if (this.waiters.length > 0) this.wake();
      return;
    }
    const tenantId = (stored.metadata as { tenantId?: string }).tenantId;
    if (typeof tenantId === 'string') {
      const tenant = this.ensure(tenantId);
      // The writer of this process folded its own events when it stored them (group commit): skip them here.
      if (stored.revision > tenant.revision) {
        if (this.fold(tenant, stored)) tenant.events++;
        tenant.revision = stored.revision;
      }
    }
    this.position = stored.position;
    this.applied++;
    if (this.waiters.length > 0) this.wake();
  }

  /**
   * An event that cannot be upcast or folded is quarantined (recorded, nothing of it in the facts)
   * and skipped, and the projection goes on — for its tenant and every other. One held since an earlier run and
   * folded now (the code was fixed) is released.
   */
  private fold(tenant: TenantAccess, stored: RecordedEvent): boolean {
    try {
      evolveWhole(tenant.facts, asLedgerEvent(stored));
    } catch (error) {
      this.quarantine.add(stored, error);
      return false;
    }
    this.quarantine.release(stored.position);
    return true;
  }

  /**
   * At start: which held events before the snapshot's position fold now on their own (in an empty fact store: what
   * they meet in the tenant's facts is not replayed here). Those need a `ledger rebuild` to be taken.
   */
  async recheckQuarantine(eventAt: (position: number) => Promise<RecordedEvent | undefined>): Promise<void> {
    for (const held of this.quarantine.list()) {
      if (held.position > this.position) continue;
      const stored = await eventAt(held.position);
      if (stored === undefined) continue;
      try {
        evolveWhole(new FactStore(), asLedgerEvent(stored));
        this.quarantine.foldsNow.add(held.position);
      } catch {
        // Still fails: it stays held, as listed.
      }
    }
  }

  /** Group commit: the writer is about to fold provisional events into the tenant's facts. */
  beginWrite(tenantId: string): FactStore {
    const facts = this.ensure(tenantId).facts;
    facts.beginSpeculation();
    this.speculations++;
    return facts;
  }

  /**
   * The writer's append succeeded (`stored`: the events as stored, in order) or failed (`undefined`): the
   * provisional events get their positions, or vanish. Then whatever the subscription delivered meanwhile is folded.
   */
  endWrite(tenantId: string, stored: { readonly revision: number; readonly positions: readonly number[] } | undefined): void {
    const tenant = this.ensure(tenantId);
    try {
      if (stored === undefined) tenant.facts.rollbackSpeculation();
      else {
        tenant.facts.commitSpeculation(stored.positions);
        tenant.events += stored.positions.length;
        tenant.revision = stored.revision;
        for (const p of stored.positions) if (p > this.position) this.foldedByWriter.add(p);
      }
    } finally {
      this.speculations--;
    }
    if (this.speculations === 0) {
      const deferred = this.deferred;
      this.deferred = [];
      for (const e of deferred) this.applyNow(e);
    }
    if (this.waiters.length > 0) this.wake();
  }

  /** A snapshot now would hold provisional events or miss deferred ones. */
  get quiescent(): boolean {
    return this.speculations === 0 && this.deferred.length === 0;
  }

  /** Resolves once the tenant's stream has been applied up to `revision`. */
  waitFor(tenantId: string, revision: number): Promise<void> {
    if ((this.tenants.get(tenantId)?.revision ?? -1) >= revision) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ tenantId, revision, resolve }));
  }

  private wake(): void {
    const pending: Waiter[] = [];
    for (const w of this.waiters) {
      if ((this.tenants.get(w.tenantId)?.revision ?? -1) >= w.revision) w.resolve();
      else pending.push(w);
    }
    this.waiters = pending;
  }

  private ensure(tenantId: string): TenantAccess {
    let tenant = this.tenants.get(tenantId);
    if (tenant === undefined) {
      tenant = { facts: new FactStore(), revision: -1, events: 0 };
      this.tenants.set(tenantId, tenant);
    }
    return tenant;
  }

  /**
   * Facts and position together as bytes, or undefined while a writer holds provisional events (group commit). This
   * part blocks the event loop (≈ 1.5 s at 2 million events): the state must not move while it is serialized.
   */
  snapshotBytes(): Buffer | undefined {
    if (!this.quiescent) return undefined;
    const strings = new StringTable();
    const tenants = [...this.tenants].map(([id, t]): SnapshotFile['tenants'][number] => [
      id,
      { revision: t.revision, events: t.events, facts: t.facts.toSnapshot(strings) },
    ]);
    const file: SnapshotFile = {
      format: SNAPSHOT_FORMAT,
      position: this.position,
      keys: KEYS.toSnapshot(strings),
      strings: strings.values,
      tenants,
      quarantined: this.quarantine.list(),
    };
    return serialize(file);
  }

  /**
   * Write facts and position atomically: a crash leaves either the old snapshot or the new one, never a mix. The
   * bytes are taken at once; writing and fsyncing them (≈ 1 s for 172 MB) happens off the event loop, one snapshot
   * at a time.
   */
  async saveSnapshot(path: string): Promise<boolean> {
    const bytes = this.snapshotBytes();
    if (bytes === undefined) return false;
    const previous = this.writing;
    const write = (async () => {
      await previous;
      await writeAtomically(path, bytes);
    })();
    // The chain only orders the writes: a failed write reaches this caller (`await write`), not the next writer.
    this.writing = write.catch(() => undefined);
    await write;
    return true;
  }

  /**
   * A projection restored from the snapshot at `path`, with the quarantine recorded at `quarantinePath` (and in the
   * snapshot). Only a snapshot that is not there starts empty (a first start,
   * or one discarded), and one of another format version is rebuilt from the events (said on `log`: the fold takes a
   * while). Any other failure — a file that cannot be read, truncated or corrupt bytes — throws with the path: a silent
   * fresh start would hide the fault and cost a fold of the whole store.
   */
  static load(path: string, quarantinePath?: string, log: (line: string) => void = logToStderr): AccessProjection {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new AccessProjection(AccessQuarantine.load(quarantinePath));
      throw new Error(`cannot read the access snapshot ${path}: ${messageOf(error)}`, { cause: error });
    }
    let file: SnapshotFile;
    try {
      file = deserialize(bytes) as SnapshotFile;
    } catch (error) {
      throw new Error(`the access snapshot ${path} is corrupt (${bytes.length} bytes): ${messageOf(error)}`, { cause: error });
    }
    if (typeof file !== 'object' || file === null || typeof file.format !== 'number') {
      throw new Error(`${path} is not an access snapshot (no format version)`);
    }
    if (file.format !== SNAPSHOT_FORMAT) {
      log(`access snapshot ${path} is of format ${file.format}, this version reads ${SNAPSHOT_FORMAT}: rebuilding the projection from the events`);
      return new AccessProjection(AccessQuarantine.fresh(quarantinePath));
    }
    const projection = new AccessProjection(AccessQuarantine.load(quarantinePath, file.quarantined ?? []));
    try {
      projection.position = file.position;
      const names = { keys: KEYS.restore(file.keys, file.strings), strings: file.strings };
      for (const [id, t] of file.tenants) {
        projection.tenants.set(id, { facts: FactStore.fromSnapshot(t.facts, names), revision: t.revision, events: t.events });
      }
    } catch (error) {
      throw new Error(`the access snapshot ${path} is corrupt: ${messageOf(error)}`, { cause: error });
    }
    return projection;
  }

  static discard(path: string): void {
    rmSync(path, { force: true });
  }
}

function logToStderr(line: string): void {
  process.stderr.write(`${line}\n`);
}

function messageOf(error: unknown): string {
  // Not `instanceof Error`: errors raised by Node's built-ins may come from another realm (under jest's VM modules).
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

/** Temporary file, fsync, rename, fsync of the directory: the file at `path` is the old one or the new one. */
async function writeAtomically(path: string, bytes: Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  const file = await open(tmp, 'w', 0o600);
  try {
    await file.writeFile(bytes);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
