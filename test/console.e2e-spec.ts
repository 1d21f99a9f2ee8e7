/**
 * The web console (docs/console.md) in a real headless Chromium (Debian's package, driven by playwright-core), on the
 * demo data as `ledger demo` seeds it: each analyst's question answered on the page equals the public API's answer.
 * The pages' screenshots land in docs/screenshots/ (shown in the README). Without /usr/bin/chromium the suite says how
 * to enable it and skips, except under CI (.ci/run installs the package), where it fails.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
// @ts-expect-error: a plain ES module without types (the console's build script, also run by `npm run build`)
import { buildConsole } from '../apps/console/build.mjs';
import { chromiumMissing, type DemoServer, launchChromium, startDemoServer } from './support/console-browser.js';

const missing = chromiumMissing();
const run = missing === undefined || process.env.CI !== undefined;
const SHOTS = join(import.meta.dirname, '..', 'docs', 'screenshots');
const ORG = 'acme-eng';
const MEMBER = 'u-00003';

let demo: DemoServer;
let browser: Browser;

beforeAll(async () => {
  if (!run) return;
  if (missing) throw new Error(missing);
  await buildConsole(); // the sources under test, bundled as `npm run build` does
  demo = await startDemoServer();
  browser = await launchChromium();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await demo?.server.close();
  if (demo) rmSync(demo.dataDir, { recursive: true, force: true });
});

async function signedIn(key = demo.key): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${demo.server.url}/console`);
  await page.getByLabel('Tenant').fill('demo');
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Organizations' }).waitFor();
  return page;
}

const go = async (page: Page, hash: string, ready: string) => {
  await page.goto(`${demo.server.url}/console${hash}`);
  await page.locator(`[data-ready="${ready}"]`).waitFor();
};

type Link = { eventId: string; type: string; says: string };

(run ? describe : describe.skip)(`the web console in Chromium${missing && !run ? ` (skipped: ${missing})` : ''}`, () => {
  test('sign in: the organizations, never the key in the URL; an organization with its members, groups, roles and connectors', async () => {
    const page = await signedIn();
    const orgs = await demo.api<{ orgs: { orgId: string }[] }>('/orgs');
    expect(await page.locator('main table tbody tr td:first-child').allTextContents()).toEqual(orgs.orgs.map((o) => o.orgId));
    await page.screenshot({ path: join(SHOTS, 'organizations.png') });
    await page.getByRole('link', { name: ORG }).click();
    await page.getByRole('heading', { name: 'Members' }).waitFor();
    await page.getByRole('heading', { name: 'Connectors' }).waitFor();
    const members = await demo.api<{ members: { userId: string }[]; nextCursor: string }>(`/orgs/${ORG}/members?limit=25`);
    expect(await page.locator('main table').first().locator('tbody td:first-child').allTextContents()).toEqual(members.members.map((m) => m.userId));
    await page.getByRole('link', { name: 'Next page' }).click();
    const second = await demo.api<{ members: { userId: string }[] }>(`/orgs/${ORG}/members?limit=25&cursor=${members.nextCursor}`);
    await page.getByRole('cell', { name: second.members[0]!.userId, exact: true }).waitFor();
    await page.getByLabel('Search (user id or email)').fill('garcia.0000');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'u-00001' }).waitFor();
    await page.screenshot({ path: join(SHOTS, 'organization.png'), fullPage: false });
    expect(page.url()).not.toContain(demo.key);
    expect(await page.evaluate(() => sessionStorage.getItem('access-ledger.session'))).toContain(demo.key);
    await page.close();
  });

  test("an organization's groups (name, members, roles) and a group's page (its members, linking to their access, and its roles) equal the API's", async () => {
    type GroupEntry = { groupId: string; name: string; source: string; memberCount: number; roles: { roleId: string; name: string }[]; rolesGrant: boolean };
    const page = await signedIn();
    await go(page, `#/orgs/${ORG}`, 'org-groups');
    const api = await demo.api<{ groups: GroupEntry[]; nextCursor: string | null }>(`/orgs/${ORG}/groups?limit=50`);
    expect(api.groups.length).toBeGreaterThan(1);
    const table = page.getByRole('table', { name: `Groups of ${ORG}` });
    const cells = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    expect(cells.map((row) => row.slice(0, 4))).toEqual(api.groups.map((g) => [g.groupId, g.name, g.source, String(g.memberCount)]));
    for (const [i, g] of api.groups.entries()) {
      const roles = cells[i]![4]!;
      if (g.roles.length === 0) expect(roles).toBe('—');
      else expect(roles.startsWith(g.roles.map((r) => r.name).join(', '))).toBe(true);
      expect(roles.includes('R31')).toBe(g.roles.length > 0 && !g.rolesGrant);
    }
    // The largest group with a role here, opened from the keyboard.
    const chosen = [...api.groups].filter((g) => g.roles.length > 0).sort((a, b) => b.memberCount - a.memberCount)[0] ?? api.groups[0]!;
    await table.getByRole('link', { name: chosen.groupId, exact: true }).focus();
    await page.keyboard.press('Enter');
    await page.locator(`[data-ready="group"][data-group="${chosen.groupId}"]`).waitFor();
    const detail = await demo.api<
      GroupEntry & { members: { userId: string; email: string | null; role: string; status: string }[]; nextCursor: string | null }
    >(`/orgs/${ORG}/groups/${chosen.groupId}?limit=50`);
    expect(detail.memberCount).toBe(chosen.memberCount);
    const membersTable = () => page.getByRole('table', { name: `Members of ${chosen.groupId} in ${ORG}` });
    const members = await membersTable()
      .locator('tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    expect(members).toEqual(detail.members.map((m) => [m.userId, m.email ?? '—', m.role, m.status]));
    const roles = await page
      .getByRole('table', { name: `Roles of ${chosen.groupId} in ${ORG}` })
      .locator('tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    expect(roles).toEqual(detail.roles.map((r) => [r.roleId, r.name]));
    await page.screenshot({ path: join(SHOTS, 'group.png') });
    if (detail.nextCursor !== null) {
      // The next page of its members is the API's next page.
      await page.getByRole('link', { name: 'Next members' }).click();
      const next = await demo.api<{ members: { userId: string }[] }>(`/orgs/${ORG}/groups/${chosen.groupId}?limit=50&cursor=${detail.nextCursor}`);
      await page.getByRole('link', { name: next.members[0]!.userId, exact: true }).waitFor();
      expect(await membersTable().locator('tbody td:first-child').allTextContents()).toEqual(next.members.map((m) => m.userId));
      await page.getByRole('link', { name: 'Previous members' }).click();
      await page.getByRole('link', { name: detail.members[0]!.userId, exact: true }).waitFor();
    }
    // A member links to their access.
    const first = detail.members[0]!;
    await page.getByRole('link', { name: first.userId, exact: true }).click();
    await page.locator(`[data-ready="member-access"][data-user="${first.userId}"]`).waitFor();
    // An unknown group: the 404's detail, naming where the groups are listed.
    await page.goto(`${demo.server.url}/console#/orgs/${ORG}/groups/no-such-group`);
    await expect(page.getByRole('alert').textContent()).resolves.toContain(`group "no-such-group" is not known in this tenant; GET /orgs/${ORG}/groups lists`);
    await page.close();
  });

  test("a member's access on a past date, with its explanation; each event of the chain opens the event (who, when, source, hash)", async () => {
    const page = await signedIn();
    await go(page, `#/orgs/${ORG}/members/${MEMBER}?at=2026-03-01`, 'member-access');
    const api = await demo.api<{ builtInRole: string; capabilities: Record<string, { granted: boolean; why: Link[] }> }>(
      `/orgs/${ORG}/members/${MEMBER}/access?at=2026-03-01&explain=true`,
    );
    for (const [name, c] of Object.entries(api.capabilities)) {
      const row = page.locator(`tr[data-capability="${name}"]`);
      expect(await row.locator('td').nth(1).textContent()).toBe(c.granted ? 'granted' : 'denied');
      expect(await row.locator('.why li').allTextContents()).toEqual(c.why.map((l) => expect.stringContaining(l.says)));
    }
    await expect(page.locator('.summary').textContent()).resolves.toContain(`role ${api.builtInRole}`);
    await page.screenshot({ path: join(SHOTS, 'member-access.png') });
    // web_search was switched off for the organization before 2026-03-01 (R2): the chain names that event.
    const link = api.capabilities.web_search!.why.at(-1)!;
    await page.locator(`tr[data-capability="web_search"] a[data-event-id="${link.eventId}"]`).click();
    await page.locator('[data-ready="event"]').waitFor();
    const event = await demo.api<{ hash: string; source: string; type: string; occurredAt: string }>(`/events/${link.eventId}`);
    const text = await page.locator('[data-ready="event"]').textContent();
    for (const part of [event.hash, event.source, event.type, event.occurredAt.replace('T', ' ').replace('Z', ' UTC'), 'u-00001 (acme-eng)'])
      expect(text).toContain(part);
    await page.screenshot({ path: join(SHOTS, 'event.png') });
    await page.close();
  });

  test("from member to member inside the console: one request each, the answer shown whole, the page's performance measure", async () => {
    type Access = { userId: string; at: string; capabilities: Record<string, { granted: boolean; why: Link[] }> };
    const page = await signedIn();
    await go(page, `#/orgs/${ORG}/members/${MEMBER}?at=2026-03-01`, 'member-access');
    const listed = await demo.api<{ members: { userId: string }[] }>(`/orgs/${ORG}/members?at=2026-03-01&limit=5`);
    for (const { userId } of listed.members.filter((m) => m.userId !== MEMBER).slice(0, 2)) {
      await page.evaluate(() => performance.clearResourceTimings());
      await page.evaluate(`location.hash = ${JSON.stringify(`#/orgs/${ORG}/members/${userId}?at=2026-03-01`)}`);
      await page.locator(`[data-ready="member-access"][data-user="${userId}"]`).waitFor();
      const api = await demo.api<Access>(`/orgs/${ORG}/members/${userId}/access?at=2026-03-01&explain=true`);
      // The previous member's rows were patched into this member's: each row is this member's answer, no more, no less.
      expect(await page.locator('tr[data-capability]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-capability')))).toEqual(
        Object.keys(api.capabilities).sort((a, b) => a.localeCompare(b)),
      );
      for (const [name, c] of Object.entries(api.capabilities)) {
        const row = page.locator(`tr[data-capability="${name}"]`);
        expect(await row.locator('td').nth(1).textContent()).toBe(c.granted ? 'granted' : 'denied');
        expect(await row.locator('.why a').evaluateAll((as) => as.map((a) => a.getAttribute('data-event-id')))).toEqual(c.why.map((l) => l.eventId));
      }
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain(`Member ${userId}`);
      // The request started as the hash changed is the one the page used: it was made once.
      const requests = await page.evaluate(() => performance.getEntriesByType('resource').map((r) => new URL(r.name).pathname));
      expect(requests.filter((path) => path.endsWith('/access'))).toEqual([`/v1/tenants/demo/orgs/${ORG}/members/${userId}/access`]);
      const measure = await page.evaluate(() => {
        const m = performance.getEntriesByName('console:member-access', 'measure').at(-1) as { duration: number; detail: unknown } | undefined;
        return m && { duration: m.duration, detail: m.detail as Record<string, string> };
      });
      expect(measure?.detail).toEqual({ userId, at: '2026-03-01T00:00:00.000Z', from: 'navigation' });
      expect(measure?.duration).toBeGreaterThan(0);
    }
    // An unknown member reached the same way: the 404's detail, and the next member's page after it.
    await page.evaluate(`location.hash = ${JSON.stringify(`#/orgs/${ORG}/members/nobody?at=2026-03-01`)}`);
    await expect(page.getByRole('alert').textContent()).resolves.toContain('member "nobody" is not known in organization acme-eng');
    expect(await page.locator('[data-ready="member-access"]').count()).toBe(0);
    await page.evaluate(`location.hash = ${JSON.stringify(`#/orgs/${ORG}/members/${MEMBER}?at=2026-03-01`)}`);
    await page.locator(`[data-ready="member-access"][data-user="${MEMBER}"]`).waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
    await page.close();
  });

  test('the timeline shows a change at the instant the API gives, with the event that caused it', async () => {
    const page = await signedIn();
    const api = await demo.api<{ intervals: { permission: string; to: string | null; closedBy: string | null }[] }>(
      `/orgs/${ORG}/members/${MEMBER}/access/timeline`,
    );
    const ended = api.intervals.find((i) => i.to !== null && i.closedBy !== null)!;
    await go(page, `#/orgs/${ORG}/members/${MEMBER}/timeline`, 'timeline');
    const item = page.locator(`li[data-change-at="${ended.to}"]`);
    expect(await item.textContent()).toContain(`${ended.permission}`);
    expect(await item.locator(`a[data-event-id="${ended.closedBy}"]`).count()).toBeGreaterThan(0);
    // The mark sits where the instant falls on the chart's time axis.
    const svg = page.locator('svg.timeline');
    const [t0, t1] = [Date.parse((await svg.getAttribute('data-t0'))!), Date.parse((await svg.getAttribute('data-t1'))!)];
    const x = Number(await svg.locator(`line[data-change-at="${ended.to}"]`).getAttribute('x1'));
    expect(x).toBeCloseTo(260 + ((Date.parse(ended.to!) - t0) / (t1 - t0)) * (1000 - 260 - 10), 3);
    await page.screenshot({ path: join(SHOTS, 'timeline.png') });
    await page.close();
  });

  test('the diff between two dates is the API diff', async () => {
    const page = await signedIn();
    await go(page, `#/orgs/${ORG}/members/${MEMBER}/diff?from=2026-01-01&to=2026-06-01`, 'diff');
    const api = await demo.api<Record<'gained' | 'lost' | 'changed', { permission: string }[]>>(
      `/orgs/${ORG}/members/${MEMBER}/access/diff?from=2026-01-01&to=2026-06-01`,
    );
    for (const kind of ['gained', 'lost', 'changed'] as const) {
      expect(await page.locator(`.diff-${kind} tbody td:first-child`).allTextContents()).toEqual(api[kind].map((c) => c.permission));
    }
    expect(api.gained.length).toBeGreaterThan(0);
    await page.screenshot({ path: join(SHOTS, 'diff.png') });
    await page.close();
  });

  test('holders of a capability at an instant, chosen in the form', async () => {
    const page = await signedIn();
    await page.goto(`${demo.server.url}/console#/orgs/${ORG}/holders`);
    await page.getByLabel('Capability', { exact: true }).selectOption('claude_code');
    await page.getByLabel('At', { exact: true }).fill('2026-03-01');
    await page.getByRole('button', { name: 'Who holds it' }).click();
    await page.locator('[data-ready="holders"]').waitFor();
    const api = await demo.api<{ holders: { userId: string }[] }>(`/orgs/${ORG}/access/holders?capability=claude_code&at=2026-03-01`);
    expect(await page.locator('ul.holders li').allTextContents()).toEqual(api.holders.map((h) => h.userId));
    await page.screenshot({ path: join(SHOTS, 'holders.png') });
    await page.close();
  });

  test('an audit search with filters and paging', async () => {
    const page = await signedIn();
    await page.getByRole('link', { name: 'Audit' }).click();
    await page.getByLabel('Organization').fill(ORG);
    await page.getByLabel('Event type').fill('MemberSuspended,MemberReactivated');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator(`[data-ready="audit"][data-query*="MemberReactivated"][data-query*="${ORG}"]`).waitFor();
    const first = await demo.api<{ events: { id: string }[]; nextCursor: string }>(
      `/audit/events?orgId=${ORG}&type=MemberSuspended,MemberReactivated&limit=25`,
    );
    const ids = () => page.locator('[data-ready="audit"] a[data-event-id]').evaluateAll((as) => as.map((a) => a.getAttribute('data-event-id')));
    expect(await ids()).toEqual(first.events.map((e) => e.id));
    await page.screenshot({ path: join(SHOTS, 'audit.png') });
    await page.getByRole('link', { name: 'Next page' }).click();
    await page.locator(`[data-ready="audit"][data-query*="${first.nextCursor}"]`).waitFor();
    const second = await demo.api<{ events: { id: string }[] }>(
      `/audit/events?orgId=${ORG}&type=MemberSuspended,MemberReactivated&limit=25&cursor=${first.nextCursor}`,
    );
    expect(await ids()).toEqual(second.events.map((e) => e.id));
    await page.close();
  });

  test("the access-review CSV downloaded from the page is the API's, row for row", async () => {
    const page = await signedIn();
    await page.goto(`${demo.server.url}/console#/orgs/${ORG}/reports/access-review`);
    await page.getByLabel('at', { exact: true }).fill('2026-03-01');
    await page.getByRole('button', { name: 'Run the report' }).click();
    await page.locator('[data-ready="report"]').waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download CSV' }).click()]);
    const file = await download.path();
    const api = await demo.apiText(`/orgs/${ORG}/reports/access-review?at=2026-03-01&format=csv`);
    const rows = (text: string) => text.split(/\r?\n/).filter(Boolean);
    expect(rows(readFileSync(file, 'utf8'))).toEqual(rows(api));
    expect(rows(api).length).toBeGreaterThan(100);
    expect(download.suggestedFilename()).toBe(`access-review-${ORG}-2026-03-01.csv`);
    await page.screenshot({ path: join(SHOTS, 'access-review.png') });
    await page.close();
  });

  test('integrity and export jobs', async () => {
    const page = await signedIn();
    await page.getByRole('link', { name: 'Integrity' }).click();
    await page.locator('[data-ready="integrity"]').waitFor();
    const api = await demo.api<{ head: string; events: number }>('/integrity');
    const text = await page.locator('[data-ready="integrity"]').textContent();
    expect(text).toContain('valid');
    expect(text).toContain(api.head);
    await page.screenshot({ path: join(SHOTS, 'integrity.png') });
    await page.getByRole('link', { name: 'Exports' }).click();
    await page.locator('[data-ready="exports"]').waitFor();
    await page.close();
  });

  test('a bad key, an expired session (key revoked) and an unknown member each show a clear message', async () => {
    const page = await browser.newPage();
    await page.goto(`${demo.server.url}/console`);
    await page.getByLabel('Tenant').fill('demo');
    await page.getByLabel('API key').fill('lk_0000000000000000_not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('This API key was not accepted (401)');
    await page.screenshot({ path: join(SHOTS, 'bad-key.png') });
    await page.close();

    const member = await signedIn();
    await member.goto(`${demo.server.url}/console#/orgs/${ORG}/members/nobody?at=2026-03-01`);
    await expect(member.getByRole('alert').textContent()).resolves.toContain('member "nobody" is not known in organization acme-eng');
    await member.screenshot({ path: join(SHOTS, 'unknown-member.png') });
    await member.close();

    const revoked = demo.keys.create({ tenantId: 'demo', scopes: ['access:read', 'audit:read'], name: 'revoked' });
    const session = await signedIn(revoked.key);
    expect(demo.keys.revoke(revoked.id)).toBe(true);
    await session.goto(`${demo.server.url}/console#/orgs/${ORG}`);
    await expect(session.getByRole('alert').textContent()).resolves.toContain('Your session has ended');
    await session.getByLabel('API key').waitFor();
    expect(await session.evaluate(() => sessionStorage.getItem('access-ledger.session'))).toBeNull();
    await session.screenshot({ path: join(SHOTS, 'session-ended.png') });
    await session.close();
  });

  // Last: it adds a late fact to the demo history (R61) that the other tests' answers would then include.
  test('"as known at": a fact imported late changes the answer at a past date, and the page shows both (R60, R61)', async () => {
    const before = new Date(Date.now() - 1000).toISOString();
    const importer = demo.keys.create({ tenantId: 'demo', scopes: ['events:import'], principal: { kind: 'system' } });
    const line = {
      id: 'late-chat-off',
      type: 'OrganizationCapabilitySet',
      occurredAt: '2026-02-20T00:00:00.000Z',
      actor: { kind: 'system' },
      source: 'admin_api_import',
      data: { orgId: ORG, capability: 'chat', enabled: false },
    };
    const res = await fetch(`${demo.server.url}/v1/tenants/demo/events:import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${importer.key}`, 'content-type': 'application/x-ndjson' },
      body: `${JSON.stringify(line)}\n`,
    });
    expect(`${res.status} ${await res.text()}`).toMatch(/^200 /);
    const page = await signedIn();
    const chat = () => page.locator('tr[data-capability="chat"]');
    await go(page, `#/orgs/${ORG}/members/${MEMBER}?at=2026-03-01&knownAt=${before}`, 'member-access');
    expect(await chat().locator('td').nth(1).textContent()).toBe('granted');
    await go(page, `#/orgs/${ORG}/members/${MEMBER}?at=2026-03-01`, 'member-access');
    await page.locator('[data-ready="member-access"]').waitFor();
    await chat().locator('a[data-event-id="late-chat-off"]').waitFor();
    expect(await chat().locator('td').nth(1).textContent()).toBe('denied');
  });
});
