import { type DynamicModule, Module } from '@nestjs/common';
import { DOCS_PAGE, DocsController, OPENAPI_DOCUMENT } from './docs.controller.js';
import { renderDocsPage } from './openapi.js';

/** /docs and /docs/openapi.json, for the document AppModule built from every feature it serves. */
@Module({})
export class DocsModule {
  static forDocument(document: Record<string, unknown>): DynamicModule {
    return {
      module: DocsModule,
      controllers: [DocsController],
      providers: [
        { provide: OPENAPI_DOCUMENT, useValue: document },
        { provide: DOCS_PAGE, useValue: renderDocsPage(document) },
      ],
    };
  }
}
