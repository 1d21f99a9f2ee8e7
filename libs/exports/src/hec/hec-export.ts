import type { AuditRangeReader, AuditRow, RangePageQuery, RowCursor } from '../audit-row.js';
import type { HecDelivery } from './hec-delivery.js';
import type { EncodedEvent, HecEnvelope } from './hec-event.js';

/** A source that can hand over events already encoded for HEC (the ClickHouse table does). */
interface EncodingRangeReader extends AuditRangeReader {
  readRangeEncoded(query: RangePageQuery, envelope: HecEnvelope): Promise<EncodedEvent[]>;
}

function encodes(source: AuditRangeReader): source is EncodingRangeReader {
  return typeof (source as Partial<EncodingRangeReader>).readRangeEncoded === 'function';
}

export interface HecExportInput {
  readonly tenantId: string;
  /** occurredAt window [from, to). */
  readonly from: string;
  readonly to: string;
  readonly upToPosition: number;
  /** Resume point: the delivery cursor persisted by a previous run; null to start at the beginning. */
  readonly after: RowCursor | null;
}

export interface HecExportProgress {
  readonly read: number;
  readonly delivered: number;
  readonly cursor: RowCursor | null;
}

/**
 * A one-shot delivery of a tenant's time range to Splunk: pages through the rows in (occurredAt,
 * position) order from the resume point, then waits until every row is delivered. Persist the
 * delivery's cursor (`onCheckpoint`) and run again with `after` = that cursor to resume after a crash.
 */
export async function exportToHec(
  source: AuditRangeReader,
  delivery: HecDelivery,
  input: HecExportInput,
  options: {
    pageSize?: number;
    onProgress?: (p: HecExportProgress) => void;
    /** Where events become JSON lines: in ClickHouse when the source can (default), or in Node. */
    encodeIn?: 'source' | 'node';
    /** `false` when the caller has just checked the token itself (ExportJobs.start does): one preflight per export. */
    preflight?: boolean;
  } = {},
): Promise<HecExportProgress> {
  if (options.preflight ?? true) await delivery.preflight();
  const pageSize = options.pageSize ?? 5000;
  let after = input.after;
  let read = 0;
  type Page = { events: EncodedEvent[] } | { rows: AuditRow[] };
  const fetch = (from: RowCursor | null): Promise<Page> => {
    const query = { tenantId: input.tenantId, from: input.from, to: input.to, upToPosition: input.upToPosition, after: from, limit: pageSize };
    return encodes(source) && options.encodeIn !== 'node'
      ? source.readRangeEncoded(query, delivery.envelope).then((events) => ({ events }))
      : source.readRangePage(query).then((rows) => ({ rows }));
  };
  // The next page is read while this one is sent: ClickHouse works off the event loop meanwhile.
  let next = fetch(after);
  for (;;) {
    const page = await next;
    const count = 'events' in page ? page.events.length : page.rows.length;
    if (count === 0) break;
    const last: RowCursor =
      'events' in page
        ? { occurredAt: page.events.at(-1)!.occurredAt, position: page.events.at(-1)!.position }
        : { occurredAt: page.rows.at(-1)!.occurred_at, position: page.rows.at(-1)!.position };
    next = fetch(last);
    try {
      if ('events' in page) for (const event of page.events) await delivery.addEncoded(event);
      else for (const row of page.rows) await delivery.add(row);
    } catch (e) {
      next.catch(() => {}); // the read ahead is abandoned with the delivery
      throw e;
    }
    read += count;
    after = last;
    options.onProgress?.({ read, delivered: delivery.stats.delivered, cursor: delivery.stats.cursor });
  }
  await delivery.flush();
  const done = { read, delivered: delivery.stats.delivered, cursor: delivery.stats.cursor };
  options.onProgress?.(done);
  return done;
}
