import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { LedgerUseCases } from '@access-ledger/ledger';

/** Injection token of the shared prom-client Registry; other modules register their gauges on it. */
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

/** The HTTP app's own series. */
export class ApiMetrics {
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly commands: Counter<'type' | 'outcome'>;
  readonly projectionLag: Gauge;
  readonly integrityBroken: Gauge;
  readonly storageFull: Gauge;
  readonly quarantined: Gauge<'projection'>;

  constructor(registry: Registry, ledger: Pick<LedgerUseCases, 'health'>) {
    this.httpDuration = new Histogram({
      name: 'ledger_http_request_duration_seconds',
      help: 'HTTP requests by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    });
    this.commands = new Counter({
      name: 'ledger_commands_total',
      help: 'Commands by type and outcome (appended, refused, violation, conflict, invalid, replayed)',
      labelNames: ['type', 'outcome'],
      registers: [registry],
    });
    this.projectionLag = new Gauge({
      name: 'ledger_projection_lag_events',
      help: 'Events appended but not yet applied by the access projection (read at scrape time)',
      registers: [registry],
      async collect() {
        try {
          this.set((await ledger.health()).projectionLag);
        } catch {
          // A scrape must not fail for one gauge: NaN shows "unknown" on /metrics, and /ready reports the failure.
          this.set(Number.NaN);
        }
      },
    });
    this.integrityBroken = new Gauge({
      name: 'ledger_integrity_broken_tenants',
      help: 'Tenants whose hash chain failed verification (their writes answer 503 integrity-broken)',
      registers: [registry],
      async collect() {
        try {
          this.set((await ledger.health()).integrityBroken?.length ?? 0);
        } catch {
          // A scrape must not fail for one gauge: NaN shows "unknown" on /metrics, and /ready reports the failure.
          this.set(Number.NaN);
        }
      },
    });
    this.storageFull = new Gauge({
      name: 'ledger_storage_full',
      help: '1 while the last write failed for want of space (writes answer 507 storage-full), else 0',
      registers: [registry],
      async collect() {
        try {
          this.set((await ledger.health()).storageFull === undefined ? 0 : 1);
        } catch {
          // A scrape must not fail for one gauge: NaN shows "unknown" on /metrics, and /ready reports the failure.
          this.set(Number.NaN);
        }
      },
    });
    // The access projection's (projection="access", in the data directory) and the read model's
    // (in quarantined_events), from the same health answer /ready shows.
    this.quarantined = new Gauge({
      name: 'ledger_quarantined_events',
      help: 'Events a projection could not take, recorded and skipped',
      labelNames: ['projection'],
      registers: [registry],
      async collect() {
        this.reset();
        const total = (byTenant: Readonly<Record<string, number>> | undefined) => Object.values(byTenant ?? {}).reduce((a, b) => a + b, 0);
        try {
          const health = await ledger.health();
          this.set({ projection: 'access' }, total(health.accessProjectionQuarantined));
          // Every read-model projection has a series (0 when none held), as `access` has.
          for (const projection of Object.keys(health.readModelLag ?? {})) this.set({ projection }, 0);
          for (const [projection, byTenant] of Object.entries(health.readModelQuarantined ?? {})) this.set({ projection }, total(byTenant));
        } catch {
          this.set({ projection: 'access' }, Number.NaN);
        }
      },
    });
  }
}
