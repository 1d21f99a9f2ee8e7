/**
 * The access review's JSON pages against its CSV on the demo history (`ledger demo`'s data, served by the real
 * server on loopback): members who follow their organization's tool profile hold its tools in both forms, every
 * member is on exactly one page, and the pages together are the complete CSV, row for row.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { rmSync } from 'node:fs';
import { toCsv } from '@access-ledger/read-model';
import { type DemoServer, startDemoServer } from './support/console-browser.js';

const ORG = 'acme-eng';
let demo: DemoServer;

beforeAll(async () => {
  demo = await startDemoServer();
}, 180_000);

afterAll(async () => {
  await demo?.server.close();
  if (demo) rmSync(demo.dataDir, { recursive: true, force: true });
});

interface ReviewPage {
  at: string;
  members: { userId: string; permissions: { permission: string; level: string; since: string; grantedBy: string; until: string | null }[] }[];
  nextCursor: string | null;
}

describe('access review pages on the demo history (issue 12)', () => {
  test.each(['2026-03-01', '2026-10-25T12:00:00Z'])('at %s: every member exactly once, and the pages together are the CSV', async (at) => {
    const base = `/orgs/${ORG}/reports/access-review?at=${encodeURIComponent(at)}`;
    const csv = await demo.apiText(`${base}&format=csv`);
    const userIds: string[] = [];
    const rows: Record<string, unknown>[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: ReviewPage = await demo.api<ReviewPage>(`${base}&limit=37${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.members.length).toBeLessThanOrEqual(37);
      if (page.nextCursor) expect(page.members).toHaveLength(37);
      for (const m of page.members) {
        userIds.push(m.userId);
        for (const p of m.permissions) rows.push({ userId: m.userId, ...p });
      }
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBeGreaterThan(2);
    expect(new Set(userIds).size).toBe(userIds.length);
    expect(userIds).toEqual([...userIds].sort());
    expect(toCsv(rows, ['userId', 'permission', 'level', 'since', 'grantedBy', 'until'])).toBe(csv);
    // Tools held through the organization's tool profile are in both forms.
    expect(rows.filter((r) => String(r['permission']).startsWith('tool:')).length).toBeGreaterThan(userIds.length);
    // The default page is 200 members.
    const first = await demo.api<ReviewPage>(base);
    expect(first.members.map((m) => m.userId)).toEqual(userIds.slice(0, 200));
    expect(first.nextCursor === null).toBe(userIds.length <= 200);
  });
});
