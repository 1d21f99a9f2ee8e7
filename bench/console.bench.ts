/**
 * `npm run bench -- console`: the web console in Debian's headless Chromium on the demo data (as `ledger demo` seeds
 * it, served by a process of its own: bench/console-server.ts), the member-at-date page
 * (`/console#/orgs/O/members/U?at=…`) of 20 members:
 *
 * - full load: navigation → the page's `console:member-access` measure (its answer in the DOM) and its `:painted` twin
 *   (after the next frame), read inside the page (the key already in session storage), and the same seen from
 *   Playwright (goto → measure seen); p50 of the second of two rounds;
 * - in-console navigation: `location.hash` set → the same measures (a link followed; no page load), member to member,
 *   p50 of three rounds after a first (60 navigations);
 * - where the time goes: before the page's first API request, the requests, after the last answer;
 * - the baseline, in the same run: the API calls the page made for that member, taken from the page's resource timing,
 *   made again alone with the same headers, in the same order and parallelism (calls the page had in flight together
 *   are made together), from inside the browser (fetch in the loaded console, once idle) and from Node; and a trivial
 *   request (GET /health) from the browser, for what any request costs it;
 * - the floor: an empty HTML page (from a bare node:http server on loopback) loaded by the same Chromium,
 *   navigation → load event, read inside the page.
 *
 * Targets (docs/console.md § Benchmark): ≤ 2× the API calls' time and ≤ 1 s.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { PerformanceEntry, PerformanceMeasure, PerformanceResourceTiming } from 'node:perf_hooks';
import type { Page } from 'playwright-core';
import { chromiumMissing, launchChromium } from '../test/support/console-browser.js';

// The functions handed to page.evaluate run in Chromium; this file compiles with Node's types, whose performance
// entries and observer have the same shape, and lacks only these of the browser's globals.
declare const location: { hash: string };
declare function requestIdleCallback(callback: () => void, options: { timeout: number }): number;

const ORG = 'acme-eng';
const AT = '2026-03-01';
const MEASURE = 'console:member-access';
const p50 = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(1)} ms`;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** One API request the page made, from its resource timing (milliseconds from the document's time origin). */
interface Call {
  readonly url: string;
  readonly start: number;
  readonly end: number;
  readonly bytes: number;
}

/** What the page reports once the member's access is rendered: the measure and the API calls made for it. */
interface Rendered {
  /** When the answer was in the DOM (the measure's end), and after the next frame (its `:painted` twin's end). */
  readonly end: number;
  readonly painted: number;
  readonly duration: number;
  readonly calls: Call[];
  readonly bundlesFetched: number;
}

/**
 * The calls in waves: a call that started before any call of the current wave had answered was in flight with them
 * (made in parallel); one that started after is the start of the next wave (it may have needed an answer).
 */
function waves(calls: readonly Call[]): string[][] {
  const out: { urls: string[]; firstEnd: number }[] = [];
  for (const call of [...calls].sort((a, b) => a.start - b.start)) {
    const wave = out.at(-1);
    if (wave && call.start < wave.firstEnd) {
      wave.urls.push(call.url);
      wave.firstEnd = Math.min(wave.firstEnd, call.end);
    } else out.push({ urls: [call.url], firstEnd: call.end });
  }
  return out.map((w) => w.urls);
}

/**
 * In the page: resolves when the `console:member-access` measure for this member and instant and its `:painted` twin
 * are recorded (or already are, after a page load), with the page's API calls. With `hash`, navigates there first (resource timings cleared, `since`
 * the instant before `location.hash` is set); without, `since` is 0, the document's time origin. Runs in Chromium.
 */
function whenRendered(expected: { measure: string; userId: string; at: string; hash?: string }): Promise<Rendered & { since: number }> {
  if (expected.hash !== undefined) performance.clearResourceTimings();
  const since = expected.hash === undefined ? 0 : performance.now();
  const report = (m: PerformanceMeasure, painted: PerformanceMeasure) => {
    const resources = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
    return {
      since,
      end: m.startTime + m.duration,
      painted: painted.startTime + painted.duration,
      duration: m.duration,
      calls: resources
        .filter((r) => new URL(r.name).pathname.startsWith('/v1/') && r.startTime >= since)
        .map((r) => ({ url: r.name, start: r.startTime, end: r.responseEnd, bytes: r.decodedBodySize })),
      bundlesFetched: resources.filter((r) => /\/console\/app\.(js|css)/.test(r.name) && r.transferSize > 0).length,
    };
  };
  const ours = (e: PerformanceEntry, name: string): e is PerformanceMeasure => {
    const d = (e as PerformanceMeasure).detail as { userId?: string; at?: string } | null;
    return e.name === name && d?.userId === expected.userId && d?.at === expected.at && e.startTime + e.duration >= since;
  };
  const rendered = new Promise<Rendered & { since: number }>((resolve) => {
    let m: PerformanceMeasure | undefined;
    let painted: PerformanceMeasure | undefined;
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if (ours(e, expected.measure)) m = e;
        else if (ours(e, `${expected.measure}:painted`)) painted = e;
      }
      if (m && painted) {
        observer.disconnect();
        resolve(report(m, painted));
      }
    });
    observer.observe({ type: 'measure', buffered: true });
  });
  if (expected.hash !== undefined) location.hash = expected.hash;
  return rendered;
}

/**
 * In the page: the calls again, wave after wave, each wave's calls together; answers the time in milliseconds. It
 * starts once the page is idle (the page's layout and paint of what it just rendered done), so the calls are alone.
 */
async function replayInPage({ waves, key }: { waves: string[][]; key: string }): Promise<number> {
  await new Promise((resolve) => requestIdleCallback(() => resolve(undefined), { timeout: 1000 }));
  const t0 = performance.now();
  for (const wave of waves)
    await Promise.all(wave.map(async (url) => (await fetch(url, { headers: { authorization: `Bearer ${key}`, accept: 'application/json' } })).text()));
  return performance.now() - t0;
}

async function replayInNode(calls: string[][], key: string): Promise<number> {
  const t0 = performance.now();
  for (const wave of calls)
    await Promise.all(
      wave.map(async (url) => {
        const res = await fetch(url, { headers: { authorization: `Bearer ${key}`, accept: 'application/json' } });
        if (!res.ok) throw new Error(`${url}: ${res.status}`);
        return res.text();
      }),
    );
  return performance.now() - t0;
}

/** An empty HTML page served by a bare node:http server: what any page load costs this Chromium. */
async function emptyPageServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>empty</title></head><body></body></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function emptyPageLoad(page: Page, url: string): Promise<{ inPage: number; wall: number }> {
  await page.goto('about:blank');
  const t0 = performance.now();
  await page.goto(url);
  const wall = performance.now() - t0;
  const inPage = await page.evaluate<number>("performance.getEntriesByType('navigation')[0].loadEventEnd");
  return { inPage, wall };
}

/** Where a page's time goes: before its first API request, the requests (first sent → last answered), after. */
const phases = () => ({ before: [] as number[], calls: [] as number[], after: [] as number[], bytes: [] as number[] });
function split(into: ReturnType<typeof phases>, r: Rendered & { since: number }): void {
  const first = Math.min(...r.calls.map((c) => c.start));
  const last = Math.max(...r.calls.map((c) => c.end));
  into.before.push(first - r.since);
  into.calls.push(last - first);
  into.after.push(r.end - last);
  into.bytes.push(r.calls.reduce((n, c) => n + c.bytes, 0));
}
const splitLine = (p: ReturnType<typeof phases>) =>
  `  split (p50 of each): until the first API request ${ms(p50(p.before))}, the requests ${ms(p50(p.calls))} (${(p50(p.bytes) / 1024).toFixed(1)} KiB of JSON), last answer → rendered ${ms(p50(p.after))}`;

async function main(): Promise<void> {
  const missing = chromiumMissing();
  if (missing) {
    process.stdout.write(`skipped: ${missing}\n`);
    return;
  }
  const server = spawn(process.execPath, [join(import.meta.dirname, 'console-server.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => server.once('exit', resolve));
  const demo = await new Promise<{ url: string; key: string }>((resolve, reject) => {
    createInterface({ input: server.stdout! }).once('line', (line) => resolve(JSON.parse(line) as { url: string; key: string }));
    server.once('exit', (code) => reject(new Error(`the demo server exited (${code}) before it served`)));
  });
  const empty = await emptyPageServer();
  const browser = await launchChromium();
  try {
    const listing = await fetch(`${demo.url}/v1/tenants/demo/orgs/${ORG}/members?at=${AT}&limit=20`, { headers: { authorization: `Bearer ${demo.key}` } });
    const members = ((await listing.json()) as { members: { userId: string }[] }).members.map((m) => m.userId);
    const page = await browser.newPage();
    await page.goto(`${demo.url}/console`);
    await page.getByLabel('Tenant').fill('demo');
    await page.getByLabel('API key').fill(demo.key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Organizations' }).waitFor();

    const full = {
      inPage: [] as number[],
      painted: [] as number[],
      wall: [] as number[],
      ...phases(),
      browserApi: [] as number[],
      nodeApi: [] as number[],
      bundles: 0,
    };
    const floor = { inPage: [] as number[], wall: [] as number[] };
    const shapes = new Set<string>();
    const shape = (w: string[][]) => w.map((urls) => urls.map((u) => new URL(u).pathname.replace(/\/members\/[^/]+/, '/members/{u}')).join(' ‖ ')).join(' → ');
    for (const round of [0, 1]) {
      for (const userId of members) {
        // the first round warms everything (JIT, the browser's cache, connections); the second is measured
        const e = await emptyPageLoad(page, empty.url);
        await page.goto('about:blank');
        const t0 = performance.now();
        await page.goto(`${demo.url}/console#/orgs/${ORG}/members/${userId}?at=${AT}`, { waitUntil: 'commit' });
        const r = await page.evaluate(whenRendered, { measure: MEASURE, userId, at: `${AT}T00:00:00.000Z` });
        const wall = performance.now() - t0;
        const w = waves(r.calls);
        shapes.add(shape(w));
        const inBrowser = await page.evaluate(replayInPage, { waves: w, key: demo.key });
        const inNode = await replayInNode(w, demo.key);
        if (round === 1) {
          floor.inPage.push(e.inPage);
          floor.wall.push(e.wall);
          full.inPage.push(r.end);
          full.painted.push(r.painted);
          full.wall.push(wall);
          split(full, r);
          full.browserApi.push(inBrowser);
          full.nodeApi.push(inNode);
          full.bundles += r.bundlesFetched;
        }
      }
    }

    // Member to member inside the loaded console (a link followed: the hash changes, no page load).
    const nav = { inPage: [] as number[], painted: [] as number[], measured: [] as number[], ...phases(), browserApi: [] as number[], nodeApi: [] as number[] };
    for (const round of [0, 1, 2, 3]) {
      for (const [i, userId] of members.entries()) {
        const at = `2026-03-0${1 + ((i + round) % 2)}`;
        const hash = `#/orgs/${ORG}/members/${userId}?at=${at}`;
        const r = await page.evaluate(whenRendered, { measure: MEASURE, userId, at: `${at}T00:00:00.000Z`, hash });
        const w = waves(r.calls);
        shapes.add(shape(w));
        const inBrowser = await page.evaluate(replayInPage, { waves: w, key: demo.key });
        const inNode = await replayInNode(w, demo.key);
        if (round > 0) {
          nav.inPage.push(r.end - r.since);
          nav.painted.push(r.painted - r.since);
          nav.measured.push(r.duration);
          split(nav, r);
          nav.browserApi.push(inBrowser);
          nav.nodeApi.push(inNode);
        }
      }
    }

    // What any request costs this Chromium: a trivial one (GET /health, a few bytes) from the page.
    const trivial: number[] = [];
    for (let i = 0; i < 40; i++) trivial.push(await page.evaluate(replayInPage, { waves: [[`${demo.url}/health`]], key: demo.key }));

    const out = (line: string) => process.stdout.write(`${line}\n`);
    const api = { browser: p50([...full.browserApi, ...nav.browserApi]), node: p50([...full.nodeApi, ...nav.nodeApi]) };
    const fullP = p50(full.inPage);
    const navP = p50(nav.inPage);
    const floorP = p50(floor.inPage);
    const ratio = (a: number) => `${(a / api.browser).toFixed(2)}× / ${(a / api.node).toFixed(2)}×`;
    const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
    out(`members: ${members.length} of ${ORG}, at ${AT}; load average ${load()}`);
    out(`the page's API calls (its resource timing; ‖ together, → one after the other): ${[...shapes].join('; ')}`);
    out(`full load, navigation → member page rendered, in the page (${full.inPage.length} loads):`);
    out(
      `  in the DOM p50 ${ms(fullP)} (max ${ms(Math.max(...full.inPage))}); painted (after the next frame) p50 ${ms(p50(full.painted))}; seen from Playwright p50 ${ms(p50(full.wall))}`,
    );
    out(splitLine(full));
    out(`  bundles fetched over the network: ${full.bundles} (0: app.js and app.css came from the browser's cache)`);
    out(`in-console navigation, hash set → member page rendered, in the page (${nav.inPage.length} navigations):`);
    out(
      `  in the DOM p50 ${ms(navP)} (max ${ms(Math.max(...nav.inPage))}; from the console's own navigation mark p50 ${ms(p50(nav.measured))}); painted (after the next frame) p50 ${ms(p50(nav.painted))}`,
    );
    out(splitLine(nav));
    out(`the same API calls alone, from the browser (fetch in the page): p50 ${ms(api.browser)} (max ${ms(Math.max(...full.browserApi, ...nav.browserApi))})`);
    out(`the same API calls alone, from Node:                            p50 ${ms(api.node)} (max ${ms(Math.max(...full.nodeApi, ...nav.nodeApi))})`);
    out(`a trivial request alone (GET /health), from the browser:       p50 ${ms(p50(trivial.slice(20)))}`);
    out(
      `floor: an empty page's load in this Chromium (navigation → load event, in the page) p50 ${ms(floorP)}; seen from Playwright p50 ${ms(p50(floor.wall))}`,
    );
    out(`ratios to the API calls alone (from the browser / from Node); target ≤ 2×:`);
    out(
      `  in-console navigation, in the DOM ${ratio(navP)}: ${met(navP <= 2 * api.browser)} against the browser's calls, ${met(navP <= 2 * api.node)} against Node's`,
    );
    out(`  in-console navigation, painted    ${ratio(p50(nav.painted))}`);
    out(
      `  full load, in the DOM             ${ratio(fullP)}: ${met(fullP <= 2 * api.browser)}; the empty page alone is ${ratio(floorP)}, so ≤ 2× cannot be met by a full load here`,
    );
    out(`≤ 1 s: full load ${met(fullP <= 1000)}, in-console navigation ${met(navP <= 1000)}; load average now ${load()}`);
  } finally {
    await browser.close();
    await empty.close();
    server.stdin!.end();
    await exited;
  }
}

await main();
