import { Counter, Histogram, type Registry } from 'prom-client';

/** Injection token of the shared prom-client Registry; other modules register their gauges on it. */
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

/** The HTTP app's own series. */
export class ApiMetrics {
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly commands: Counter<'type' | 'outcome'>;

  constructor(registry: Registry) {
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
  }
}
