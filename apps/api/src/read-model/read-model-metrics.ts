import { Counter, Gauge, type Registry } from 'prom-client';
import type { ReadModel } from './read-model.js';

/**
 * The read model on /metrics, read at scrape time: the lag of each projection (the store's head refreshed first),
 * and the audit projection's counts (counters, cumulative since the process started).
 */
export class ReadModelMetrics {
  constructor(registry: Registry, readModel: ReadModel) {
    const audit = readModel.audit;
    new Gauge({
      name: 'ledger_read_model_lag_events',
      help: 'Events stored but not yet projected into ClickHouse, per projection (refreshed at scrape time)',
      labelNames: ['projection'],
      registers: [registry],
      async collect() {
        try {
          for (const [projection, lag] of Object.entries(await readModel.lags())) this.set({ projection }, lag);
        } catch {
          // A scrape must not fail for one gauge: NaN shows "unknown" on /metrics, and /ready reports the failure.
          this.set({ projection: audit.name }, Number.NaN);
        }
      },
    });
    const gauges: [string, string, () => number][] = [
      ['ledger_read_model_checkpoint_position', 'Store position of the last event in the audit trail', () => audit.metrics.checkpoint],
      ['ledger_read_model_last_batch_seconds', 'Duration of the last audit-trail insert', () => audit.metrics.lastBatchMs / 1000],
    ];
    for (const [name, help, read] of gauges) {
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          this.set(read());
        },
      });
    }
    // Counts that only go up are counters (named `_total`, so that rate() and increase() apply). The projection keeps
    // the count; a Counter has no `set`, so each scrape adds what the projection counted since the previous one.
    const counters: [string, string, () => number][] = [
      ['ledger_read_model_events_projected_total', 'Events written to the audit trail by this process', () => audit.metrics.eventsProjected],
      ['ledger_read_model_batches_inserted_total', 'Insert batches written by the audit projection in this process', () => audit.metrics.batchesInserted],
      ['ledger_read_model_insert_errors_total', 'Failed audit-trail inserts in this process', () => audit.metrics.insertErrors],
    ];
    for (const [name, help, read] of counters) {
      let seen = 0;
      new Counter({
        name,
        help,
        registers: [registry],
        collect() {
          const now = read();
          if (now < seen) this.reset(); // the projection's count started again (a new projection object): so does the counter
          this.inc(now < seen ? now : now - seen);
          seen = now;
        },
      });
    }
  }
}
