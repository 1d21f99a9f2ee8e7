import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { problem, PROBLEM_CONTENT_TYPE } from '../problem/problem.js';

export const CONSOLE_ASSETS = Symbol('CONSOLE_ASSETS');

/** One static file of the console, read once at start, with its strong ETag. */
interface Asset {
  readonly body: Buffer;
  readonly etag: string;
  readonly contentType: string;
  /** For the bundles: the `v` the page's URL gives them, a digest of this content (see `send`). */
  readonly version?: string;
}

/** The console's three files as `npm run build` writes them (apps/console/build.mjs), or null when it has not run. */
export interface ConsoleAssets {
  readonly dir: string;
  readonly files: { readonly html: Asset; readonly js: Asset; readonly css: Asset } | null;
}

/**
 * The directory `npm run build` fills: `<repository>/dist/console`. The repository is the first directory above this
 * file holding `package-lock.json`, so it is found from the sources (jest) and from `dist/` (node) alike.
 */
export function defaultConsoleDir(from: string = import.meta.dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package-lock.json'))) return join(dir, 'dist', 'console');
    if (dirname(dir) === dir) return join(from, 'console');
  }
}

const digest = (body: Buffer): string => createHash('sha256').update(body).digest('base64url').slice(0, 27);

const asset = (body: Buffer, contentType: string): Asset => ({ body, etag: `"${digest(body)}"`, contentType });
const bundle = (body: Buffer, contentType: string): Asset => ({ ...asset(body, contentType), version: digest(body) });

/**
 * The page as built, its bundles' URLs given their content's digest (`/console/app.js?v=…`): a new build is a new URL,
 * so the browser may keep a bundle without asking again, and a page never runs the script of another build.
 */
function versionedPage(html: string, js: Asset, css: Asset, file: string): Buffer {
  let page = html;
  for (const [attribute, url, version] of [
    ['src', '/console/app.js', js.version],
    ['href', '/console/app.css', css.version],
  ] as const) {
    const reference = `${attribute}="${url}"`;
    if (!page.includes(reference)) throw new Error(`${file} does not load ${url} (${reference}): rebuild the console (npm run build)`);
    page = page.replaceAll(reference, `${attribute}="${url}?v=${version}"`);
  }
  return Buffer.from(page);
}

export function loadConsoleAssets(dir: string = defaultConsoleDir()): ConsoleAssets {
  const file = (name: string) => join(dir, name);
  if (!['index.html', 'app.js', 'app.css'].every((n) => existsSync(file(n)))) return { dir, files: null };
  const js = bundle(readFileSync(file('app.js')), 'text/javascript; charset=utf-8');
  const css = bundle(readFileSync(file('app.css')), 'text/css; charset=utf-8');
  const html = asset(versionedPage(readFileSync(file('index.html'), 'utf8'), js, css, file('index.html')), 'text/html; charset=utf-8');
  return { dir, files: { html, js, css } };
}

/**
 * The page may run only its own script and style and talk only to this server: a key in session storage is only as
 * safe as the page that holds it (no inline script, no third-party origin, no framing).
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/**
 * The web console (docs/console.md): `/console` and its two bundles. Public, like /docs — the page carries no data;
 * every answer it shows comes from the `/v1` routes, called by the page with the analyst's key as a Bearer header.
 */
@Controller('console')
export class ConsoleController {
  constructor(@Inject(CONSOLE_ASSETS) private readonly assets: ConsoleAssets) {}

  @Get()
  page(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    if (!this.assets.files) {
      void reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('content-security-policy', CONTENT_SECURITY_POLICY)
        .send(
          `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>access-ledger console</title></head><body><h1>The console is not built</h1><p>Run <code>npm run build</code>: it bundles the console into <code>${this.assets.dir}</code>, which this server reads at start.</p></body></html>`,
        );
      return;
    }
    send(request, reply, this.assets.files.html);
  }

  @Get('app.js')
  script(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    this.file(request, reply, this.assets.files?.js);
  }

  @Get('app.css')
  style(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    this.file(request, reply, this.assets.files?.css);
  }

  private file(request: FastifyRequest, reply: FastifyReply, file: Asset | undefined): void {
    if (!file) {
      void reply
        .code(404)
        .header('content-type', PROBLEM_CONTENT_TYPE)
        .send(problem(404, 'not-found', `the console is not built: run npm run build (it writes ${this.assets.dir})`));
      return;
    }
    send(request, reply, file);
  }
}

/** RFC 9110 § 13.1.2: `*` or any listed tag (weak comparison) matches. */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '') === etag;
  });
}

/** A year: as long as caches keep anything; the content at a versioned URL never changes. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * A bundle asked for by the `v` of this build is immutable: a reload uses it without revalidating. Any other request
 * (the page itself, a bundle without `v` or with another build's) is revalidated each time (`no-cache`, ETag → 304).
 */
function send(request: FastifyRequest, reply: FastifyReply, file: Asset): void {
  const version = (request.query as Record<string, unknown> | undefined)?.v;
  reply
    .header('etag', file.etag)
    .header('cache-control', file.version !== undefined && version === file.version ? IMMUTABLE : 'no-cache')
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer');
  if (matches(request.headers['if-none-match'], file.etag)) {
    void reply.code(304).send();
    return;
  }
  void reply.header('content-type', file.contentType).send(file.body);
}
