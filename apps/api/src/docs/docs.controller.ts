import { Controller, Get, Header, Inject } from '@nestjs/common';

export const OPENAPI_DOCUMENT = Symbol('OPENAPI_DOCUMENT');
export const DOCS_PAGE = Symbol('DOCS_PAGE');

@Controller('docs')
export class DocsController {
  constructor(
    @Inject(OPENAPI_DOCUMENT) private readonly document: Record<string, unknown>,
    @Inject(DOCS_PAGE) private readonly page: string,
  ) {}

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  html(): string {
    return this.page;
  }

  @Get('openapi.json')
  openapi(): Record<string, unknown> {
    return this.document;
  }
}
