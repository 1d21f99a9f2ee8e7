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
      },
      components: EXPORT_COMPONENTS,
    },
  };
}
