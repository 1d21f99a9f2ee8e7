import { createHash, randomUUID } from 'node:crypto';
import { FactStore, SCHEMA_VERSION, decide, evolve, type Actor, type Command, type EventMetadata, type EventType } from '@access-ledger/access-model';
import { tenantStream, type EventStore, type EventToAppend, type JsonValue } from '@access-ledger/event-store';
import { decidedEvent } from './decided-event.js';

/** What a history generator yields (libs/history): commands to decide, or facts to import late. */
export type SeedItem =
  | { readonly kind: 'command'; readonly command: unknown; readonly refused?: true }
  | { readonly kind: 'import'; readonly lines: readonly { id: string; type: string; occurredAt: string; actor: unknown; source: string; data: unknown }[] };

export interface SeedReport {
  commands: number;
  events: number;
  refused: number;
  violations: number;
  imported: number;
  /** Commands the generator marked as refused attempts that the deciders refused (they should all be). */
  expectedRefusals: number;
  firstViolation?: string;
}

/**
 * Seeds a tenant with a generated history in bulk: every command goes through the same deciders as the HTTP API,
 * against a scratch fold of what was decided so far, and the events are appended in batches (one transaction and
 * one fsync per batch). The caller's projection then folds the stored events like any others.
 * Seeded events are recorded as they took effect (recordedAt = occurredAt), except late imports, which are recorded
 * when the generator imports them — so `knownAt` questions about the seeded history have real answers (R60).
 */
export async function seedHistory(
  store: EventStore,
  tenantId: string,
  items: Iterable<SeedItem>,
  options: { batchSize?: number; onProgress?: (report: SeedReport) => void; idSeed?: string } = {},
): Promise<SeedReport> {
  const batchSize = options.batchSize ?? 2000;
  const newId = options.idSeed === undefined ? randomUUID : seededIds(options.idSeed);
  const stream = tenantStream(tenantId);
  if ((await store.streamRevision(stream)) !== null) throw new Error(`tenant ${tenantId} already has events; seed a new tenant or a new data directory`);
  const facts = new FactStore();
  const report: SeedReport = { commands: 0, events: 0, refused: 0, violations: 0, imported: 0, expectedRefusals: 0 };
  let batch: EventToAppend[] = [];
  let revision = -1;
  let position = 0;
  let clock = 0;

  const flush = async () => {
    if (batch.length === 0) return;
    const result = await store.append(stream, batch, { expectedRevision: revision < 0 ? 'no_stream' : revision });
    revision = result.nextRevision;
    report.events += batch.length;
    batch = [];
    options.onProgress?.(report);
  };
  const push = (event: EventToAppend) => {
    evolve(facts, {
      id: event.id,
      type: event.type as EventType,
      data: event.data as never,
      meta: event.metadata as unknown as EventMetadata,
      position: ++position,
    });
    batch.push(event);
  };

  for (const item of items) {
    if (item.kind === 'command') {
      const command = item.command as Command;
      report.commands++;
      const at = command.occurredAt ? Date.parse(command.occurredAt) : clock;
      clock = Math.max(clock, at);
      const decision = decide(facts, command, { at, newId });
      if (decision.kind === 'violation') {
        report.violations++;
        report.firstViolation ??= `${command.type}: ${decision.reason}`;
        continue;
      }
      if (decision.kind === 'refused') {
        report.refused++;
        if (item.refused) report.expectedRefusals++;
      }
      const occurredAt = new Date(at).toISOString();
      const correlationId = newId();
      for (const e of decision.events) {
        push(
          decidedEvent(tenantId, e, { actor: command.actor as Actor, source: 'seed', occurredAt, recordedAt: occurredAt, correlationId, auth: { via: 'cli' } }),
        );
      }
    } else {
      const recordedAt = new Date(clock).toISOString();
      for (const line of item.lines) {
        report.imported++;
        const metadata: EventMetadata = {
          tenantId,
          occurredAt: line.occurredAt,
          recordedAt,
          actor: line.actor as Actor,
          source: line.source as EventMetadata['source'],
          auth: { via: 'cli' },
          schemaVersion: SCHEMA_VERSION[line.type] ?? 1,
        };
        push({ id: line.id, type: line.type, data: line.data as JsonValue, metadata: metadata as unknown as { [k: string]: JsonValue } });
      }
    }
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  return report;
}

/**
 * Event and correlation ids that are the same on every seeding from the same `seed`: UUIDs (version 8, RFC 9562
 * "custom") made of SHA-256(seed, n). So the demo's documented ids (README walkthrough) are the reader's ids too.
 */
export function seededIds(seed: string): () => string {
  let n = 0;
  return () => {
    const h = createHash('sha256').update(`${seed}\0${n++}`).digest();
    h[6] = (h[6]! & 0x0f) | 0x80;
    h[8] = (h[8]! & 0x3f) | 0x80;
    const x = h.subarray(0, 16).toString('hex');
    return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
  };
}
