/**
 * The console's files as the server serves them (docs/console.md § Serving): public, read once from `npm run build`'s
 * output, a strong ETag answered with 304, bundles named by their content's digest and then immutable, and a
 * Content-Security-Policy that lets the page talk only to this origin.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error: a plain ES module without types (the console's build script, also run by `npm run build`)
import { buildConsole } from '../../console/build.mjs';
import { defaultConsoleDir, loadConsoleAssets } from '../src/console/console.controller.js';
import { startTestServer, type TestServer } from './support/test-server.js';

let server: TestServer;
beforeAll(async () => {
  await buildConsole();
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

describe('/console', () => {
  test('the page and its bundles, without a key, with a CSP to this origin only', async () => {
    const page = await fetch(`${server.url}/console`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    const scriptUrl = /<script type="module" src="(\/console\/app\.js\?v=[A-Za-z0-9_-]{27})">/.exec(html)?.[1];
    expect(scriptUrl).toBeDefined();
    expect(html).toMatch(/<link rel="stylesheet" href="\/console\/app\.css\?v=[A-Za-z0-9_-]{27}" \/>/);
    const script = await fetch(`${server.url}${scriptUrl}`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await script.text()).length).toBeGreaterThan(10_000);
    const style = await fetch(`${server.url}/console/app.css`);
    expect(style.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  test("the page names each bundle by its content's digest, and a bundle asked for by that name is immutable", async () => {
    const html = await (await fetch(`${server.url}/console`)).text();
    for (const name of ['app.js', 'app.css']) {
      const v = new RegExp(`/console/${name.replace('.', '\\.')}\\?v=([A-Za-z0-9_-]{27})"`).exec(html)?.[1];
      const current = await fetch(`${server.url}/console/${name}?v=${v}`);
      expect(current.status).toBe(200);
      const body = Buffer.from(await current.arrayBuffer());
      expect(v).toBe(createHash('sha256').update(body).digest('base64url').slice(0, 27));
      expect(current.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      // Without the digest, or with another build's, the same bytes must be revalidated: the page asking is not this build's.
      for (const other of [`${server.url}/console/${name}`, `${server.url}/console/${name}?v=${'A'.repeat(27)}`]) {
        const res = await fetch(other);
        expect(Buffer.from(await res.arrayBuffer())).toEqual(body);
        expect(res.headers.get('cache-control')).toBe('no-cache');
      }
    }
    expect((await fetch(`${server.url}/console`)).headers.get('cache-control')).toBe('no-cache');
  });

  test('a matching If-None-Match is answered 304 without a body', async () => {
    const first = await fetch(`${server.url}/console/app.js`);
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(first.headers.get('cache-control')).toBe('no-cache');
    const again = await fetch(`${server.url}/console/app.js`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
  });

  test('a page that does not load the bundles is refused at start, not served with stale bundle names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'console-page-'));
    try {
      writeFileSync(join(dir, 'index.html'), '<!doctype html><title>other</title>');
      writeFileSync(join(dir, 'app.js'), '');
      writeFileSync(join(dir, 'app.css'), '');
      expect(() => loadConsoleAssets(dir)).toThrow(/does not load \/console\/app\.js/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the build output is found from the sources (and from dist/); an empty directory is "not built"', () => {
    expect(defaultConsoleDir()).toBe(join(process.cwd(), 'dist', 'console'));
    const empty = mkdtempSync(join(tmpdir(), 'console-empty-'));
    try {
      expect(loadConsoleAssets(empty).files).toBeNull();
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
