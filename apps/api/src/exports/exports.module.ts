import { type DynamicModule, Module } from '@nestjs/common';
import type { Feature } from '../feature.js';
import type { ExportService } from './export-service.js';
import { EXPORT_JOBS, ExportsController, LIVE_SINKS } from './exports.controller.js';
import { EXPORT_COMPONENTS, EXPORT_PATHS } from './exports.docs.js';

/** http-api.md § Exports: export jobs and live sinks over the server's ExportService. */
@Module({})
export class ExportsModule {
  static forExports(exports: ExportService): DynamicModule {
    return {
      module: ExportsModule,
      controllers: [ExportsController],
      providers: [
        { provide: EXPORT_JOBS, useValue: exports.jobs },
        { provide: LIVE_SINKS, useValue: exports },
      ],
    };
  }
}

export function exportsFeature(exports: ExportService): Feature {
  return {
    module: ExportsModule.forExports(exports),
    docs: {
      paths: {
        ...EXPORT_PATHS,
        '/v1/tenants/{tenantId}/exports/sinks': {
          get: {
            summary: "The tenant's live sinks (configured in LEDGER_SINKS_FILE): checkpoint, running, last error, delivery counters",
            security: [{ apiKey: [] }],
            parameters: [{ name: 'tenantId', in: 'path', required: true, schema: { type: 'string' } }],
            responses: { '200': { description: '{ sinks: [...] }' } },
          },
        },
      },
      components: EXPORT_COMPONENTS,
    },
  };
}
