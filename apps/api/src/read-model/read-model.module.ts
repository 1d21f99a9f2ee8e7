import { type DynamicModule, Module } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { DEFAULT_READ_WAIT_MS } from '@access-ledger/config';
import type { Feature } from '../feature.js';
import { METRICS_REGISTRY } from '../metrics/api-metrics.js';
import {
  KNOWN_ORGANIZATIONS,
  READ_MODEL_CLIENT,
  READ_MODEL_READS,
  ReadModelController,
  type KnownOrganizations,
  type ReadModelReads,
} from './read-model.controller.js';
import { READ_MODEL_COMPONENTS, READ_MODEL_PATHS } from './read-model.docs.js';
import { ReadModelMetrics } from './read-model-metrics.js';
import type { ReadModel } from './read-model.js';

/** http-api.md § Audit and reports: the audit search and the reports over a running read model, and its metrics. */
@Module({})
export class ReadModelModule {
  static forReadModel(readModel: ReadModel, orgs: KnownOrganizations, reads: ReadModelReads = { maxWaitMs: DEFAULT_READ_WAIT_MS }): DynamicModule {
    return {
      module: ReadModelModule,
      controllers: [ReadModelController],
      providers: [
        { provide: READ_MODEL_CLIENT, useValue: readModel.client },
        { provide: READ_MODEL_READS, useValue: reads },
        { provide: KNOWN_ORGANIZATIONS, useValue: orgs },
        { provide: ReadModelMetrics, useFactory: (registry: Registry) => new ReadModelMetrics(registry, readModel), inject: [METRICS_REGISTRY] },
      ],
    };
  }
}

/** `orgs` answers which organizations exist (the Ledger's access projection), so a report on an unknown one is a 404. */
export function readModelFeature(readModel: ReadModel, orgs: KnownOrganizations, reads?: ReadModelReads): Feature {
  return { module: ReadModelModule.forReadModel(readModel, orgs, reads), docs: { paths: READ_MODEL_PATHS, components: READ_MODEL_COMPONENTS } };
}
