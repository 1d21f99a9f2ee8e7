import { METRICS_REGISTRY } from '../metrics/api-metrics.js';
import type { Registry } from 'prom-client';
import { READ_MODEL_CLIENT, READ_MODEL_READS, ReadModelController, type ReadModelReads } from './read-model.controller.js';
import { DEFAULT_READ_WAIT_MS } from '../config.js';
import { READ_MODEL_COMPONENTS, READ_MODEL_PATHS } from './read-model.docs.js';
import { ReadModelMetrics } from './read-model-metrics.js';
import type { ReadModel } from './read-model.js';

/** The audit and report routes over a running read model, for `createHttpApp` (main.ts and the e2e tests). */
export function readModelRoutes(readModel: ReadModel, reads: ReadModelReads = { maxWaitMs: DEFAULT_READ_WAIT_MS }) {
  return {
    controllers: [ReadModelController],
    providers: [
      { provide: READ_MODEL_CLIENT, useValue: readModel.client },
      { provide: READ_MODEL_READS, useValue: reads },
      { provide: ReadModelMetrics, useFactory: (registry: Registry) => new ReadModelMetrics(registry, readModel), inject: [METRICS_REGISTRY] },
    ],
    schemas: { paths: READ_MODEL_PATHS, components: READ_MODEL_COMPONENTS },
  };
}
