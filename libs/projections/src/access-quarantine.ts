import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RecordedEvent } from '@access-ledger/event-store';
import { describeError } from '@access-ledger/read-model';

/**
 * An event the access projection could not fold: its upcast or `evolve` threw. The projection
 * skips it (none of its facts stay: `evolveWhole`) and goes on, for its tenant and every other.
 */
export interface HeldEvent {
  readonly position: number;
  readonly tenantId: string;
  readonly eventId: string;
  readonly type: string;
  readonly error: string;
  readonly firstSeen: string;
}

/** Where a data directory records the access projection's quarantine, next to its snapshot. */
export function accessQuarantinePath(dataDir: string): string {
  return join(dataDir, 'projections', 'access.quarantine.jsonl');
}

type Line = { readonly held: HeldEvent } | { readonly released: number };

/**
 * The access projection's quarantine: in memory, and durably in a JSON-lines file (one `{"held": …}` or
 * `{"released": position}` per line, appended and fsynced before the projection moves past the event, so the file
 * is always at least as far as any snapshot). ClickHouse is not a dependency of this projection, hence a file.
 *
 * An event held at or before the snapshot's position is not in the snapshot's facts. If the code now folds it
 * (`foldsNow`), the facts after it may still be wrong (later events were folded without it), so it is not folded in
 * place: /ready says so, and `ledger rebuild` re-folds everything (docs/access.md § Quarantine).
 */
export class AccessQuarantine {
  private readonly held = new Map<number, HeldEvent>();
  /** Held events at or before the snapshot that fold now: a `ledger rebuild` would take them. */
  readonly foldsNow = new Set<number>();

  constructor(private readonly path: string | undefined) {}

  /** The quarantine as the file (and the snapshot's own list, in case the file was lost) recorded it. */
  static load(path: string | undefined, fromSnapshot: readonly HeldEvent[] = []): AccessQuarantine {
    const quarantine = new AccessQuarantine(path);
    for (const h of fromSnapshot) quarantine.held.set(h.position, h);
    let text = '';
    try {
      if (path) text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    for (const raw of text.split('\n')) {
      if (raw.trim() === '') continue;
      let line: Line;
      try {
        line = JSON.parse(raw) as Line;
      } catch {
        continue; // a line torn by a crash in the middle of its append: its event is met again and held again
      }
      if ('held' in line) quarantine.held.set(line.held.position, line.held);
      else quarantine.held.delete(line.released);
    }
    return quarantine;
  }

  /** A rebuild's quarantine: empty, and the file emptied (the rebuild meets every event again). */
  static fresh(path: string | undefined): AccessQuarantine {
    if (path) {
      mkdirSync(dirname(path), { recursive: true });
      const fd = openSync(path, 'w', 0o600);
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    return new AccessQuarantine(path);
  }

  get count(): number {
    return this.held.size;
  }

  has(position: number): boolean {
    return this.held.has(position);
  }

  list(): HeldEvent[] {
    return [...this.held.values()].sort((a, b) => a.position - b.position);
  }

  /** Held events per tenant (for /ready and /metrics). */
  byTenant(): Record<string, number> {
    const counts: Record<string, number> = Object.create(null) as Record<string, number>;
    for (const h of this.held.values()) counts[h.tenantId] = (counts[h.tenantId] ?? 0) + 1;
    return counts;
  }

  add(stored: RecordedEvent, error: unknown): void {
    if (this.held.has(stored.position)) return;
    const tenantId = (stored.metadata as { tenantId?: unknown }).tenantId;
    const held: HeldEvent = {
      position: stored.position,
      tenantId: typeof tenantId === 'string' ? tenantId : '',
      eventId: stored.id,
      type: stored.type,
      error: describeError(error),
      firstSeen: new Date().toISOString(),
    };
    this.append({ held });
    this.held.set(stored.position, held);
  }

  release(position: number): void {
    if (!this.held.has(position)) return;
    this.append({ released: position });
    this.held.delete(position);
    this.foldsNow.delete(position);
  }

  /** Synchronous on purpose: the fold is, and the projection must not pass the event before it is recorded. */
  private append(line: Line): void {
    if (!this.path) return;
    mkdirSync(dirname(this.path), { recursive: true });
    const fd = openSync(this.path, 'a', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(line)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}
