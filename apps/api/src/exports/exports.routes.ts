import type { ExportService } from './export-service.js';
import { EXPORT_JOBS, ExportsController } from './exports.controller.js';
import { EXPORT_COMPONENTS, EXPORT_PATHS } from './exports.docs.js';

/** The export routes over the server's ExportService, for `createHttpApp` (main.ts and the e2e tests). */
export function exportRoutes(exports: ExportService) {
  return {
    controllers: [ExportsController],
    providers: [{ provide: EXPORT_JOBS, useValue: exports.jobs }],
    schemas: { paths: EXPORT_PATHS, components: EXPORT_COMPONENTS },
  };
}
