import { join } from 'node:path';
import { Gauge, type Registry } from 'prom-client';
import { readSourceCounts, readSourceStates } from '@access-ledger/sources';

/**
 * The activity sources' series (docs/sources.md § Operation), read from `sources.sqlite` in the data directory at
 * scrape time (the server's background sources or the `ledger sources sync` process write it): activities by
 * disposition, the unmapped ones by type, when each source last synced and whether its last pass failed.
 */
export class SourceMetrics {
  constructor(registry: Registry, dataDir: string) {
    const path = join(dataDir, 'sources.sqlite');
    const read = () => {
      try {
        return readSourceCounts(path);
      } catch {
        return undefined;
      }
    };
    new Gauge({
      name: 'ledger_source_activities',
      help: 'Activities a source (the Compliance API) delivered, by disposition (mapped, audit, unmapped, rejected, pending)',
      labelNames: ['source', 'disposition'],
      registers: [registry],
      collect() {
        this.reset();
        for (const r of read()?.byDisposition ?? []) this.set({ source: r.source, disposition: r.disposition }, r.n);
      },
    });
    new Gauge({
      name: 'ledger_source_unmapped_activities',
      help: 'Activities of a type the mapping does not know, by source and activity type (listed by `ledger sources status`)',
      labelNames: ['source', 'type'],
      registers: [registry],
      collect() {
        this.reset();
        for (const r of read()?.unmapped ?? []) this.set({ source: r.source, type: r.type }, r.n);
      },
    });
    const states = () => {
      try {
        return readSourceStates(path);
      } catch {
        // As above: a file another process holds mid-write leaves these series out of this scrape, not the scrape.
        return [];
      }
    };
    new Gauge({
      name: 'ledger_source_last_sync_timestamp_seconds',
      help: 'When a source last completed a sync pass without error (Unix time); absent before its first',
      labelNames: ['source'],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of states()) if (s.lastSyncAt !== null) this.set({ source: s.source }, Date.parse(s.lastSyncAt) / 1000);
      },
    });
    new Gauge({
      name: 'ledger_source_failing',
      help: "1 when a source's last sync pass failed (its error: `ledger sources status`, /ready), else 0",
      labelNames: ['source'],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of states()) this.set({ source: s.source }, s.failing ? 1 : 0);
      },
    });
  }
}
