import type { EventStore } from '@access-ledger/event-store';
import { tenantStream } from '@access-ledger/event-store';
import { auditRowOf } from '@access-ledger/read-model';
import type { AuditRow, AuditRowSource, PageQuery } from './audit-row.js';

/**
 * The event-store adapter of the audit row source: reads the log itself, flattened exactly as the
 * read model flattens it (`auditRowOf`), for sinks that must not wait for — or depend on — ClickHouse.
 * It reads the global log forwards and keeps the tenant's events, so it suits following the log
 * from a checkpoint, not scanning old time ranges (the ClickHouse adapter does that).
 */
export class EventStoreAuditSource implements AuditRowSource {
  constructor(private readonly store: EventStore) {}

  async headPosition(tenantId: string): Promise<number> {
    for await (const e of this.store.readStream(tenantStream(tenantId), { direction: 'backwards', maxCount: 1 })) return e.position;
    return -1;
  }

  async readPage(q: PageQuery): Promise<AuditRow[]> {
    const stream = tenantStream(q.tenantId);
    const rows: AuditRow[] = [];
    let after = q.afterPosition;
    const chunk = Math.max(q.limit, 1000);
    for (;;) {
      let seen = 0;
      for await (const e of this.store.readAll({ after, maxCount: chunk })) {
        seen++;
        after = e.position;
        if (q.upToPosition !== undefined && e.position > q.upToPosition) return rows;
        if (e.streamId !== stream) continue;
        const row = auditRowOf(e);
        if ((q.from !== undefined && row.occurred_at < q.from) || (q.to !== undefined && row.occurred_at >= q.to)) continue;
        rows.push(row);
        if (rows.length >= q.limit) return rows;
      }
      if (seen < chunk) return rows;
    }
  }
}
