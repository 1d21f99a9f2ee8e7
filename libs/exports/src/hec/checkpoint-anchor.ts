import type { SignedCheckpoint } from '@access-ledger/event-store';
import type { HecSinkConfig } from '../config.js';
import { HecDelivery } from './hec-delivery.js';

/**
 * Anchoring to Splunk: a signed checkpoint sent to the HEC sink as one event of sourcetype
 * `access-ledger:checkpoint` (the sink's host, source and index), delivered like audit rows (retries, and the indexer
 * acknowledgement when the sink asks for it). Splunk keeps its own copy outside the ledger's data directory.
 */
export const CHECKPOINT_SOURCETYPE = 'access-ledger:checkpoint';

export async function anchorCheckpointToHec(sink: HecSinkConfig, checkpoint: SignedCheckpoint): Promise<void> {
  const delivery = new HecDelivery(sink);
  try {
    const line = JSON.stringify({
      time: Date.parse(checkpoint.time) / 1000,
      ...(sink.host ? { host: sink.host } : {}),
      source: sink.source,
      sourcetype: CHECKPOINT_SOURCETYPE,
      ...(sink.index ? { index: sink.index } : {}),
      event: checkpoint,
    });
    await delivery.addEncoded({
      eventId: `checkpoint-${checkpoint.tenantId}-${checkpoint.treeSize}`,
      position: -1,
      occurredAt: checkpoint.time,
      line,
      bytes: Buffer.byteLength(line) + 1,
    });
    await delivery.flush();
    if (delivery.stats.deadLettered > 0) throw new Error(`Splunk refused checkpoint ${checkpoint.tenantId}@${checkpoint.treeSize}`);
  } finally {
    delivery.close();
  }
}
