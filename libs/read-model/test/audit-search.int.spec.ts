import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AuditProjection } from '../src/ingestion/audit-projection.js';
import { AuditSearchQuery, searchAuditEvents, type AuditEvent } from '../src/queries/audit-search.js';
import { BACKENDS, openFixture, rows, type ClickHouseFixture } from './clickhouse-fixture.js';
import { fromArray, RecordedHistory } from './recorded-history.js';

const INJECTIONS = [
  "' OR 1=1 --",
  "x' OR '1'='1",
  '\\',
  "\\'",
  "'; DROP TABLE audit_events; --",
  '{tenantId:String}',
  "%' OR ''='",
  '") OR ("1"="1',
  'ünïcødé 𝔘 ☃ 名前',
  "o'brien\\",
  'a\u0000b',
];

const owner = { kind: 'member', orgId: 'acme-eng', userId: 'u-owner' } as const;

function acme(): RecordedHistory {
  const h = new RecordedHistory('acme', '2026-03-01T09:00:00.000Z').by(owner);
  for (let i = 0; i < 30; i++) {
    h.add(i % 3 === 0 ? 'MemberAdded' : i % 3 === 1 ? 'UserAddedToGroup' : 'AccessChangeDenied', {
      orgId: i % 2 === 0 ? 'acme-eng' : 'acme-sales',
      userId: `u-${i % 5}`,
      groupId: 'g-1',
    });
  }
  // An id with quotes and backslashes really stored, to be found exactly (imports may carry odd ids).
  h.by({ kind: 'scim' }).add('MemberAdded', { orgId: 'acme-eng', userId: "o'brien\\", email: 'ob@acme.test', role: 'user' });
  return h;
}

describe.each(BACKENDS)('audit search (%s)', (backend) => {
  let db: ClickHouseFixture;
  const events = [
    ...acme().events,
    ...new RecordedHistory('globex', '2026-03-01T09:00:00.000Z', 1000).add('MemberAdded', { orgId: 'acme-eng', userId: 'u-1' }).events,
  ];
  const search = (query: AuditSearchQuery) => searchAuditEvents(db.client, 'acme', AuditSearchQuery.parse(query));

  beforeAll(async () => {
    db = await openFixture(backend);
    await new AuditProjection({ client: db.client, source: (after) => fromArray(events, after) }).run();
  });
  afterAll(async () => {
    await db.close();
  });

  it('returns the newest first and pages through every event of the tenant exactly once with the cursor', async () => {
    const seen: AuditEvent[] = [];
    let cursor: string | undefined;
    do {
      const page = await search({ limit: 7, ...(cursor ? { cursor } : {}) });
      seen.push(...page.events);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen.map((e) => e.position)).toEqual(
      events
        .filter((e) => e.metadata.tenantId === 'acme')
        .map((e) => e.position)
        .reverse(),
    );
    expect(seen.every((e) => e.tenantId === 'acme')).toBe(true);
    expect(seen[0]).toMatchObject({
      type: 'MemberAdded',
      actor: { kind: 'scim' },
      subject: "o'brien\\",
      data: { email: 'ob@acme.test' },
      occurredAt: '2026-03-01T09:30:00.000Z',
    });
  });

  it('keeps ties on occurredAt in position order across pages', async () => {
    const tied = new RecordedHistory('ties', '2026-04-01T00:00:00.000Z', 2000);
    for (let i = 0; i < 9; i++) tied.at('2026-04-01T00:00:00.000Z').add('MemberAdded', { orgId: 'o', userId: `u${i}` });
    await new AuditProjection({ client: db.client, name: 'ties', source: (after) => fromArray(tied.events, after) }).run();
    const positions: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await searchAuditEvents(db.client, 'ties', AuditSearchQuery.parse({ limit: 4, ...(cursor ? { cursor } : {}) }));
      positions.push(...page.events.map((e) => e.position));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(positions).toEqual([2008, 2007, 2006, 2005, 2004, 2003, 2002, 2001, 2000]);
  });

  it('filters by org, actor, subject, type and period', async () => {
    const all = events.filter((e) => e.metadata.tenantId === 'acme');
    const data = (e: (typeof all)[number]) => e.data as Record<string, string>;
    expect((await search({ orgId: 'acme-sales', limit: 1000 })).events.length).toBe(all.filter((e) => data(e).orgId === 'acme-sales').length);
    expect((await search({ actor: 'scim' })).events.map((e) => e.subject)).toEqual(["o'brien\\"]);
    expect((await search({ actor: 'u-owner', limit: 1000 })).events.length).toBe(30);
    expect((await search({ subject: 'u-3', limit: 1000 })).events.length).toBe(all.filter((e) => data(e).userId === 'u-3').length);
    expect((await search({ type: 'AccessChangeDenied,UserAddedToGroup', limit: 1000 })).events.length).toBe(20);
    const period = await search({ from: '2026-03-01T09:05:00.000Z', to: '2026-03-01T09:10:00.000Z' });
    expect(period.events.map((e) => e.occurredAt)).toEqual(['09:09', '09:08', '09:07', '09:06', '09:05'].map((t) => `2026-03-01T${t}:00.000Z`));
  });

  it('treats injection strings in every filter as plain values: exact matches or nothing, tables intact', async () => {
    for (const text of INJECTIONS) {
      for (const filter of ['orgId', 'actor', 'subject'] as const) {
        const page = await search({ [filter]: text, limit: 1000 });
        const expected = filter === 'subject' && text === "o'brien\\" ? 1 : 0;
        expect({ filter, text, found: page.events.length }).toEqual({ filter, text, found: expected });
      }
      // Event types, instants and cursors are validated before any SQL is built.
      expect(AuditSearchQuery.safeParse({ type: text }).success).toBe(false);
      expect(AuditSearchQuery.safeParse({ from: text }).success).toBe(false);
      expect(AuditSearchQuery.safeParse({ to: text }).success).toBe(false);
      expect(AuditSearchQuery.safeParse({ cursor: text }).success).toBe(false);
      expect(AuditSearchQuery.safeParse({ limit: text }).success).toBe(false);
      // And an injection in the tenant (a path parameter) finds nothing.
      expect((await searchAuditEvents(db.client, text, AuditSearchQuery.parse({}))).events).toEqual([]);
    }
    const [count] = await rows<{ n: number }>(db.client, 'SELECT count() AS n FROM audit_events');
    expect(count!.n).toBe(events.length + 9);
  });

  it('rejects unknown parameters and out-of-range limits', () => {
    expect(AuditSearchQuery.safeParse({ limit: 0 }).success).toBe(false);
    expect(AuditSearchQuery.safeParse({ limit: '1001' }).success).toBe(false);
    expect(AuditSearchQuery.safeParse({ tenant: 'x' }).success).toBe(false);
    expect(AuditSearchQuery.parse({ limit: '25' }).limit).toBe(25);
  });
});
