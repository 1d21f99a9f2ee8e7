import { join } from 'node:path';
import { Gauge, type Registry } from 'prom-client';
import { readSourceCounts } from '@access-ledger/sources';

/**
 * The activity sources' series (docs/sources.md § Operation), read from `sources.sqlite` in the data directory at
 * scrape time (the `ledger sources sync` process writes it): activities by disposition, and the unmapped ones by type.
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
  }
}
