// TEMPORARY: until libs/projections exports createLedger. A thin LedgerUseCases over the real SQLite event
// store and the real zod schemas (no deciders), so the HTTP tests exercise real storage.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { COMMANDS, CommandBody, ImportLine, type CommandType } from '../../../../libs/access-model/src/index.js';
import { ConcurrencyConflictError, SqliteEventStore, tenantStream } from '../../../../libs/event-store/src/index.js';
import type { CommandOutcome, FieldError, ImportOutcome, LedgerHealth, LedgerUseCases } from '../../../../libs/projections/src/ledger.port.js';

export class StandInLedger implements LedgerUseCases {
  private readonly store: SqliteEventStore;
  constructor(dataDir: string) {
    this.store = SqliteEventStore.open(join(dataDir, 'events.sqlite'));
  }

  async executeCommand(tenantId: string, body: unknown, options: { expectedRevision?: number } = {}): Promise<CommandOutcome> {
    const parsed = CommandBody.safeParse(body);
    if (!parsed.success) return { kind: 'invalid', errors: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) };
    const cmd = parsed.data as unknown as { type: CommandType; payload: Record<string, unknown>; actor: Record<string, unknown> };
    try {
      const result = await this.store.append(
        tenantStream(tenantId),
        [{ id: randomUUID(), type: COMMANDS[cmd.type].event, data: cmd.payload as never, metadata: { tenantId, actor: cmd.actor as never } }],
        options.expectedRevision === undefined ? {} : { expectedRevision: options.expectedRevision },
      );
      return { kind: 'appended', events: result.events.map((e) => ({ id: e.id, type: e.type, position: e.position })) };
    } catch (error) {
      if (error instanceof ConcurrencyConflictError) return { kind: 'conflict', detail: error.message };
      throw error;
    }
  }

  async importEvents(tenantId: string, ndjson: string): Promise<ImportOutcome> {
    const errors: FieldError[] = [];
    const lines: ImportLine[] = [];
    ndjson.split('\n').forEach((text, i) => {
      if (text.trim() === '') return;
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        errors.push({ path: `line ${i + 1}`, message: 'not JSON' });
        return;
      }
      const parsed = ImportLine.safeParse(json);
      if (parsed.success) lines.push(parsed.data);
      else for (const issue of parsed.error.issues) errors.push({ path: `line ${i + 1}: ${issue.path.join('.')}`, message: issue.message });
    });
    if (errors.length > 0) return { kind: 'invalid', status: 400, errors };
    if (lines.length === 0) return { kind: 'imported', appended: 0, skipped: 0 };
    const r = await this.store.append(
      tenantStream(tenantId),
      lines.map((l) => ({ id: l.id, type: l.type, data: l.data as never, metadata: { tenantId } })),
    );
    return { kind: 'imported', appended: r.events.length, skipped: 0 };
  }

  async integrity(tenantId: string) {
    const v = await this.store.verifyChain(tenantStream(tenantId));
    return { events: v.events, head: v.head, valid: v.valid, ...(v.firstBadPosition !== undefined ? { firstBadPosition: v.firstBadPosition } : {}) };
  }

  async health(): Promise<LedgerHealth> {
    await this.store.ping();
    return { eventStore: true, readModel: true, projectionLag: 0 };
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
