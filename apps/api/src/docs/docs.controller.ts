import { createHash } from 'node:crypto';
import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const OPENAPI_DOCUMENT = Symbol('OPENAPI_DOCUMENT');
export const DOCS_PAGE = Symbol('DOCS_PAGE');

/** A document serialized once, with its strong ETag. */
interface CachedBody {
  readonly body: Buffer;
  readonly etag: string;
  readonly contentType: string;
}

function cache(text: string, contentType: string): CachedBody {
  const body = Buffer.from(text, 'utf8');
  return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`, contentType };
}

/** RFC 9110 § 13.1.2: `*` or any listed tag (weak comparison) matches. */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '') === etag;
  });
}

/**
 * /docs and /docs/openapi.json. Both are serialized once at start (a 131 KB document
 * re-serialized per request let pipelined anonymous requests take the event loop and the heap) and answer 304 to
 * a matching `If-None-Match`.
 */
@Controller('docs')
export class DocsController {
  private readonly page: CachedBody;
  private readonly document: CachedBody;

  constructor(@Inject(OPENAPI_DOCUMENT) document: Record<string, unknown>, @Inject(DOCS_PAGE) page: string) {
    this.document = cache(JSON.stringify(document), 'application/json; charset=utf-8');
    this.page = cache(page, 'text/html; charset=utf-8');
  }

  @Get()
  html(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    send(request, reply, this.page);
  }

  @Get('openapi.json')
  openapi(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    send(request, reply, this.document);
  }
}

function send(request: FastifyRequest, reply: FastifyReply, cached: CachedBody): void {
  reply.header('etag', cached.etag).header('cache-control', 'no-cache');
  if (matches(request.headers['if-none-match'], cached.etag)) {
    void reply.code(304).send();
    return;
  }
  void reply.header('content-type', cached.contentType).send(cached.body);
}
