import type { AuditRowSource } from '../audit-row.js';
import type { HecDelivery } from './hec-delivery.js';

export interface HecExportInput {
  readonly tenantId: string;
  /** occurredAt window [from, to), when the export is for a time range. */
  readonly from?: string;
  readonly to?: string;
  /** Resume point: rows with position > afterPosition (-1 for everything). */
  readonly afterPosition: number;
  readonly upToPosition: number;
}

export interface HecExportProgress {
  readonly read: number;
  readonly delivered: number;
  readonly checkpoint: number | null;
}

/**
 * A one-shot delivery of a tenant's rows to Splunk: pages through the source in position order from
 * the resume point, then waits until every row is delivered. Persist the delivery's checkpoint
 * (`onCheckpoint`) and run it again with `afterPosition` = that checkpoint to resume after a crash.
 */
export async function exportToHec(
  source: AuditRowSource,
  delivery: HecDelivery,
  input: HecExportInput,
  options: { pageSize?: number; onProgress?: (p: HecExportProgress) => void } = {},
): Promise<HecExportProgress> {
  await delivery.preflight();
  const pageSize = options.pageSize ?? 5000;
  let after = input.afterPosition;
  let read = 0;
  for (;;) {
    const page = await source.readPage({
      tenantId: input.tenantId,
      afterPosition: after,
      upToPosition: input.upToPosition,
      ...(input.from === undefined ? {} : { from: input.from }),
      ...(input.to === undefined ? {} : { to: input.to }),
      limit: pageSize,
    });
    if (page.length === 0) break;
    for (const row of page) await delivery.add(row);
    read += page.length;
    after = page.at(-1)!.position;
    options.onProgress?.({ read, delivered: delivery.stats.delivered, checkpoint: delivery.stats.checkpoint });
  }
  await delivery.flush();
  const done = { read, delivered: delivery.stats.delivered, checkpoint: delivery.stats.checkpoint };
  options.onProgress?.(done);
  return done;
}
