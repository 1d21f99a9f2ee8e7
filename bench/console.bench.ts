/**
 * `npm run bench -- console`: the web console in Debian's headless Chromium on the demo data (as `ledger demo` seeds
 * it). For 20 members: the time from navigating to the member-at-date page (`/console#/orgs/O/members/U?at=…`, a full
 * page load with the key already in session storage) to the page fully rendered (access and explanation chain shown),
 * p50; next to it, in the same run, the same API call the page makes (GET …/access?at=…&explain=true) made alone from
 * Node. Targets (issue 15): ≤ 2× the API time and ≤ 1 s.
 */
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { chromiumMissing, launchChromium, startDemoServer } from '../test/support/console-browser.js';

const ORG = 'acme-eng';
const AT = '2026-03-01';
const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const missing = chromiumMissing();
  if (missing) {
    process.stdout.write(`skipped: ${missing}\n`);
    return;
  }
  const demo = await startDemoServer();
  const browser = await launchChromium();
  try {
    const members = (await demo.api<{ members: { userId: string }[] }>(`/orgs/${ORG}/members?at=${AT}&limit=20`)).members.map((m) => m.userId);
    const page = await browser.newPage();
    await page.goto(`${demo.server.url}/console`);
    await page.getByLabel('Tenant').fill('demo');
    await page.getByLabel('API key').fill(demo.key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Organizations' }).waitFor();
    const pageMs: number[] = [];
    const apiMs: number[] = [];
    const inAppMs: number[] = [];
    for (const round of [0, 1]) {
      for (const userId of members) {
        await page.goto('about:blank');
        const t0 = performance.now();
        await page.goto(`${demo.server.url}/console#/orgs/${ORG}/members/${userId}?at=${AT}`);
        await page.locator('[data-ready="member-access"]').waitFor();
        const t1 = performance.now();
        await demo.api(`/orgs/${ORG}/members/${userId}/access?at=${AT}&explain=true`);
        const t2 = performance.now();
        if (round === 1) {
          // the first round warms both (JIT, caches); the second is measured
          pageMs.push(t1 - t0);
          apiMs.push(t2 - t1);
        }
      }
    }
    // Moving from member to member inside the loaded console (a link followed: the hash changes, no page load).
    for (const round of [0, 1]) {
      for (const [i, userId] of members.entries()) {
        const at = `2026-03-0${1 + ((i + round) % 2)}`;
        const t0 = performance.now();
        await page.evaluate(`location.hash = ${JSON.stringify(`#/orgs/${ORG}/members/${userId}?at=${at}`)}`);
        await page.locator(`[data-ready="member-access"][data-user="${userId}"][data-at="${at}T00:00:00.000Z"]`).waitFor();
        if (round === 1) inAppMs.push(performance.now() - t0);
      }
    }
    const page50 = p50(pageMs);
    const api50 = p50(apiMs);
    process.stdout.write(
      `members: ${members.length} of ${ORG}, at ${AT}; load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}\n`,
    );
    process.stdout.write(`member-at-date page, navigation → rendered: p50 ${page50.toFixed(1)} ms (max ${Math.max(...pageMs).toFixed(1)} ms)\n`);
    process.stdout.write(`the same page reached inside the console:  p50 ${p50(inAppMs).toFixed(1)} ms (hash navigation, no page load)\n`);
    process.stdout.write(`the same API call alone (baseline):        p50 ${api50.toFixed(1)} ms (max ${Math.max(...apiMs).toFixed(1)} ms)\n`);
    process.stdout.write(`ratio in-console/API ${(p50(inAppMs) / api50).toFixed(2)}×\n`);
    process.stdout.write(
      `ratio page/API ${(page50 / api50).toFixed(2)}× (target ≤ 2×: ${page50 <= 2 * api50 ? 'met' : 'NOT met'}); page ≤ 1 s: ${page50 <= 1000 ? 'met' : 'NOT met'}\n`,
    );
  } finally {
    await browser.close();
    await demo.server.close();
    rmSync(demo.dataDir, { recursive: true, force: true });
  }
}

await main();
