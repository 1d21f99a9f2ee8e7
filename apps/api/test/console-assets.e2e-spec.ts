/**
 * The console's files as the server serves them (docs/console.md § Serving): public, read once from `npm run build`'s
 * output, a strong ETag answered with 304, and a Content-Security-Policy that lets the page talk only to this origin.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
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
    expect(await page.text()).toContain('<script type="module" src="/console/app.js">');
    const script = await fetch(`${server.url}/console/app.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await script.text()).length).toBeGreaterThan(10_000);
    const style = await fetch(`${server.url}/console/app.css`);
    expect(style.headers.get('content-type')).toBe('text/css; charset=utf-8');
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
