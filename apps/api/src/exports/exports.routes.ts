import type { ExportService } from './export-service.js';
import { EXPORT_JOBS, ExportsController, LIVE_SINKS } from './exports.controller.js';
import { EXPORT_COMPONENTS, EXPORT_PATHS } from './exports.docs.js';

/** The export routes over the server's ExportService, for `createHttpApp` (main.ts and the e2e tests). */
export function exportRoutes(exports: ExportService) {
  return {
    controllers: [ExportsController],
    providers: [
      { provide: EXPORT_JOBS, useValue: exports.jobs },
      { provide: LIVE_SINKS, useValue: exports },
    ],
    schemas: {
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
