import { collectDefaultMetrics, type Registry } from 'prom-client';

/**
 * prom-client's gauges named `_total`: Prometheus reserves that suffix for counters (`promtool check metrics` fails on
 * them). Each is the sum of the by-type gauge of the same name without the suffix, which stays
 * (`sum(nodejs_active_handles)`).
 */
const MISNAMED_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'] as const;

/** Node's default series (`process_*`, `nodejs_*`) on `registry`, without the gauges misnamed as counters. */
export function collectNodeMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of MISNAMED_GAUGES) registry.removeSingleMetric(name);
}
