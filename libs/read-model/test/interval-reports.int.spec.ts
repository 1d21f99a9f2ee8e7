import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AccessIntervalWriter, type AccessIntervalChange } from '../src/ingestion/access-intervals.js';
import { ACCESS_PROFILES, ORG_TOOLS_PERMISSION, ORG_TOOLS_USER } from '../src/queries/effective-intervals.js';
import { accessChanges, AccessChangesQuery } from '../src/queries/access-changes.js';
import {
  ACCESS_REVIEW_COLUMNS,
  accessReview,
  accessReviewCsv,
  accessReviewPage,
  AccessReviewQuery,
  accessReviewRows,
  HELD_AT_SQL_FOR_TESTS,
} from '../src/queries/access-review.js';
import { toCsv } from '../src/queries/csv.js';
import { permissionHolders, PermissionHoldersQuery } from '../src/queries/permission-holders.js';
import { bucketStarts, privilegedAccess, PrivilegedAccessQuery } from '../src/queries/privileged-access.js';
import { sodViolations, SodViolationsQuery } from '../src/queries/segregation-of-duties.js';
import { BACKENDS, openFixture, rows, type ClickHouseFixture } from './clickhouse-fixture.js';

const DAY = 86_400_000;
type AccessReviewMemberLike = Awaited<ReturnType<typeof accessReview>>[number];
const Q1 = { from: '2026-01-01T00:00:00.000Z', to: '2026-04-01T00:00:00.000Z' };

function change(
  userId: string,
  permission: string,
  level: string,
  day: string,
  eventId: string,
  kind: 'open' | 'close' = 'open',
  tenantId = 'acme',
): AccessIntervalChange {
  return { tenantId, orgId: 'acme-eng', userId, permission, level, at: `2026-${day}T00:00:00.000Z`, eventId, kind };
}

describe.each(BACKENDS)('interval reports (%s)', (backend) => {
  let db: ClickHouseFixture;
  beforeAll(async () => {
    db = await openFixture(backend);
    const writer = new AccessIntervalWriter(db.client);
    await writer.write([
      change('u-alice', 'role:owner', 'owner', '01-01', 'e-a1'),
      change('u-alice', 'admin:billing', 'manage', '01-01', 'e-a1'),
      change('u-carol', 'capability:claude_code', 'granted', '01-05', 'e-c1'),
      change('u-bob', 'admin:billing', 'view', '01-10', 'e-b1'),
      change('u-bob', 'admin:billing', 'manage', '02-01', 'e-b2'),
      change('u-dan', 'role:admin', 'admin', '02-10', 'e-d1'),
    ]);
    // A second writer (a restart) must find the open intervals in the table to close them.
    const restarted = new AccessIntervalWriter(db.client);
    await restarted.write([
      change('u-dan', 'role:admin', 'admin', '02-12', 'e-d2', 'close'),
      change('u-bob', 'admin:identity_access', 'manage', '02-15', 'e-b3'),
      change('u-carol', 'capability:claude_code', 'granted', '02-20', 'e-c2', 'close'),
      change('u-bob', 'admin:identity_access', 'manage', '03-01', 'e-b4', 'close'),
      change('u-carol', 'capability:claude_code', 'granted', '03-10', 'e-c3'),
      // No-ops: re-opening at the same level, closing what is not open.
      change('u-alice', 'role:owner', 'owner', '03-15', 'e-noop-1'),
      change('u-erin', 'role:owner', 'owner', '03-15', 'e-noop-2', 'close'),
      change('u-x', 'capability:claude_code', 'granted', '01-01', 'e-other', 'open', 'other-tenant'),
    ]);
  });
  afterAll(async () => {
    await db.close();
  });

  it('closing is an insert: the table keeps the latest version of each interval', async () => {
    const [stats] = await rows<{ stored: number; final: number }>(
      db.client,
      'SELECT (SELECT count() FROM access_intervals) AS stored, (SELECT count() FROM access_intervals FINAL) AS final',
    );
    expect(Number(stats!.final)).toBe(9);
    expect(Number(stats!.stored)).toBeGreaterThanOrEqual(9);
  });

  it('access review at an instant lists each member’s permissions with the granting event', async () => {
    const review = await accessReview(db.client, 'acme', 'acme-eng', AccessReviewQuery.parse({ at: '2026-02-16T00:00:00.000Z' }));
    expect(review.map((m) => [m.userId, m.permissions.map((p) => `${p.permission}=${p.level}@${p.grantedBy}`)])).toEqual([
      ['u-alice', ['admin:billing=manage@e-a1', 'role:owner=owner@e-a1']],
      ['u-bob', ['admin:billing=manage@e-b2', 'admin:identity_access=manage@e-b3']],
      ['u-carol', ['capability:claude_code=granted@e-c1']],
    ]);
    expect(review[1]!.permissions[1]).toMatchObject({ since: '2026-02-15T00:00:00.000Z', until: '2026-03-01T00:00:00.000Z' });
    expect(review[0]!.permissions[0]!.until).toBeNull();
  });

  it('who held a permission during a period, with durations clipped to the period', async () => {
    const holders = await permissionHolders(db.client, 'acme', 'acme-eng', PermissionHoldersQuery.parse({ ...Q1, permission: 'capability:claude_code' }));
    expect(holders).toEqual([
      {
        userId: 'u-carol',
        totalMs: 68 * DAY,
        intervals: [
          expect.objectContaining({
            from: '2026-01-05T00:00:00.000Z',
            to: '2026-02-20T00:00:00.000Z',
            durationMs: 46 * DAY,
            openedBy: 'e-c1',
            closedBy: 'e-c2',
          }),
          expect.objectContaining({ from: '2026-03-10T00:00:00.000Z', to: '2026-04-01T00:00:00.000Z', durationMs: 22 * DAY, validTo: null, closedBy: null }),
        ],
      },
    ]);
    const managers = await permissionHolders(
      db.client,
      'acme',
      'acme-eng',
      PermissionHoldersQuery.parse({ ...Q1, permission: 'admin:billing', levels: 'manage' }),
    );
    expect(managers.map((h) => [h.userId, h.totalMs / DAY])).toEqual([
      ['u-alice', 90],
      ['u-bob', 59],
    ]);
  });

  it('the access changes of a period: gained, lost, and level changes as one row', async () => {
    const feb = await accessChanges(
      db.client,
      'acme',
      'acme-eng',
      AccessChangesQuery.parse({ from: '2026-02-01T00:00:00.000Z', to: '2026-03-01T00:00:00.000Z' }),
    );
    expect(feb.map((c) => [c.at.slice(5, 10), c.userId, c.permission, c.change, c.previousLevel, c.level, c.eventId])).toEqual([
      ['02-01', 'u-bob', 'admin:billing', 'changed', 'view', 'manage', 'e-b2'],
      ['02-10', 'u-dan', 'role:admin', 'gained', null, 'admin', 'e-d1'],
      ['02-12', 'u-dan', 'role:admin', 'lost', 'admin', null, 'e-d2'],
      ['02-15', 'u-bob', 'admin:identity_access', 'gained', null, 'manage', 'e-b3'],
      ['02-20', 'u-carol', 'capability:claude_code', 'lost', 'granted', null, 'e-c2'],
    ]);
    const adminOnly = await accessChanges(db.client, 'acme', 'acme-eng', AccessChangesQuery.parse({ ...Q1, permissionPrefix: 'admin:', userId: 'u-bob' }));
    expect(adminOnly.map((c) => c.eventId)).toEqual(['e-b1', 'e-b2', 'e-b3', 'e-b4']);
  });

  it('privileged access over time, per month and per week', async () => {
    const months = await privilegedAccess(db.client, 'acme', 'acme-eng', PrivilegedAccessQuery.parse({ ...Q1, bucket: 'month' }));
    const summary = months.map((b) => `${b.bucketStart.slice(5, 7)} ${b.permission}=${b.level} ${b.userIds.join('/')}`);
    expect(summary).toEqual([
      '01 admin:billing=manage u-alice',
      '01 role:owner=owner u-alice',
      '02 admin:billing=manage u-alice/u-bob',
      '02 admin:identity_access=manage u-bob',
      '02 role:admin=admin u-dan',
      '02 role:owner=owner u-alice',
      '03 admin:billing=manage u-alice/u-bob',
      '03 role:owner=owner u-alice',
    ]);
    expect(bucketStarts('2026-01-01T00:00:00.000Z', '2026-01-20T00:00:00.000Z', 'week')).toEqual([
      '2026-01-01T00:00:00.000Z',
      '2026-01-05T00:00:00.000Z',
      '2026-01-12T00:00:00.000Z',
      '2026-01-19T00:00:00.000Z',
    ]);
    expect(PrivilegedAccessQuery.safeParse({ from: '2000-01-01T00:00:00.000Z', to: '2026-01-01T00:00:00.000Z', bucket: 'day' }).success).toBe(false);
  });

  it('segregation-of-duties violations for the default and for configured pairs', async () => {
    const defaults = await sodViolations(db.client, 'acme', 'acme-eng', SodViolationsQuery.parse(Q1));
    expect(defaults).toEqual([
      expect.objectContaining({
        userId: 'u-bob',
        pair: 'admin:billing=manage+admin:identity_access=manage',
        from: '2026-02-15T00:00:00.000Z',
        to: '2026-03-01T00:00:00.000Z',
        durationMs: 14 * DAY,
        openedByA: 'e-b2',
        openedByB: 'e-b3',
      }),
    ]);
    const configured = await sodViolations(
      db.client,
      'acme',
      'acme-eng',
      SodViolationsQuery.parse({ ...Q1, pairs: ['role:owner+admin:billing=manage', ['admin:billing=view', 'admin:identity_access']] }),
    );
    expect(configured.map((v) => [v.userId, v.pair, v.from.slice(5, 10), v.to.slice(5, 10)])).toEqual([
      ['u-alice', 'role:owner+admin:billing=manage', '01-01', '04-01'],
    ]);
    expect(SodViolationsQuery.safeParse({ ...Q1, pairs: 'only-one-side' }).success).toBe(false);
  });

  it('access profiles (issue 12): a member following the organization’s tool profile holds its tools in every report; moving to tools of their own at the same level is no change', async () => {
    const tenant = 'profiles';
    const at = (day: string) => `2026-${day}T00:00:00.000Z`;
    const c = (userId: string, permission: string, level: string, day: string, eventId: string, kind: 'open' | 'close' = 'open'): AccessIntervalChange => ({
      ...change(userId, permission, level, day, eventId, kind, tenant),
    });
    await new AccessIntervalWriter(db.client).write([
      // The organization's tool profile: jira/search always allowed from 01-01, needs approval from 02-01.
      c(ORG_TOOLS_USER, 'tool:jira/search', 'always_allow', '01-01', 'p-1'),
      c(ORG_TOOLS_USER, 'tool:jira/search', 'always_allow', '02-01', 'p-2', 'close'),
      c(ORG_TOOLS_USER, 'tool:jira/search', 'needs_approval', '02-01', 'p-2'),
      // u-fay follows it from 01-10 to 03-01, then (connector permissions enabled) holds the tool herself.
      c('u-fay', ORG_TOOLS_PERMISSION, 'org', '01-10', 'f-1'),
      c('u-fay', ORG_TOOLS_PERMISSION, 'org', '03-01', 'f-2', 'close'),
      c('u-fay', 'tool:jira/search', 'needs_approval', '03-01', 'f-2'),
    ]);
    const review = await accessReview(db.client, tenant, 'acme-eng', AccessReviewQuery.parse({ at: at('01-20') }));
    expect(review).toEqual([
      { userId: 'u-fay', permissions: [{ permission: 'tool:jira/search', level: 'always_allow', since: at('01-10'), grantedBy: 'f-1', until: at('02-01') }] },
    ]);
    const holders = await permissionHolders(db.client, tenant, 'acme-eng', PermissionHoldersQuery.parse({ permission: 'tool:jira/search', ...Q1 }));
    expect(holders.map((h) => [h.userId, h.intervals.map((i) => [i.level, i.from, i.to, i.openedBy, i.closedBy])])).toEqual([
      [
        'u-fay',
        [
          ['always_allow', at('01-10'), at('02-01'), 'f-1', 'p-2'],
          ['needs_approval', at('02-01'), at('03-01'), 'p-2', 'f-2'],
          ['needs_approval', at('03-01'), Q1.to, 'f-2', null],
        ],
      ],
    ]);
    const changes = await accessChanges(db.client, tenant, 'acme-eng', AccessChangesQuery.parse(Q1));
    expect(changes.map((x) => [x.at, x.userId, x.permission, x.change, x.level, x.previousLevel, x.eventId])).toEqual([
      [at('01-10'), 'u-fay', 'tool:jira/search', 'gained', 'always_allow', null, 'f-1'],
      [at('02-01'), 'u-fay', 'tool:jira/search', 'changed', 'needs_approval', 'always_allow', 'p-2'],
    ]);
  });

  it('access review pages (issue 12): every member exactly once, in order, and the pages together are the unpaged review; the streamed CSV is toCsv of the unpaged rows, byte for byte', async () => {
    const tenant = 'pages';
    const at = (day: string) => `2026-${day}T00:00:00.000Z`;
    const c = (userId: string, permission: string, level: string, day: string, eventId: string, kind: 'open' | 'close' = 'open'): AccessIntervalChange => ({
      ...change(userId, permission, level, day, eventId, kind, tenant),
    });
    // The organization's tool profile (three tools, one blocked from 02-01), 23 members: most follow the profile, every
    // fourth holds a tool of her own, every fifth left on 02-10; ids that need quoting or a formula guard in CSV.
    const ids = [...Array.from({ length: 20 }, (_, i) => `u-${String(i).padStart(2, '0')}`), '=cmd|calc', 'quote"d, user', '-minus'];
    const changes: AccessIntervalChange[] = [
      c(ORG_TOOLS_USER, 'tool:jira/search', 'always_allow', '01-01', 'p-1'),
      c(ORG_TOOLS_USER, 'tool:jira/create', 'needs_approval', '01-01', 'p-1'),
      c(ORG_TOOLS_USER, 'tool:drive/read', 'always_allow', '01-01', 'p-1'),
      c(ORG_TOOLS_USER, 'tool:drive/read', 'always_allow', '02-01', 'p-2', 'close'),
    ];
    ids.forEach((id, i) => {
      changes.push(c(id, 'role:user', 'user', '01-05', `m-${i}`), c(id, 'capability:claude_code', 'granted', '01-05', `m-${i}`));
      if (i % 4 === 0) changes.push(c(id, 'tool:jira/search', 'needs_approval', '01-06', `t-${i}`));
      else changes.push(c(id, ORG_TOOLS_PERMISSION, 'org', '01-05', `m-${i}`));
      if (i % 5 === 1)
        changes.push(c(id, 'role:user', 'user', '02-10', `r-${i}`, 'close'), c(id, 'capability:claude_code', 'granted', '02-10', `r-${i}`, 'close'));
      if (i % 5 === 1 && i % 4 !== 0) changes.push(c(id, ORG_TOOLS_PERMISSION, 'org', '02-10', `r-${i}`, 'close'));
      if (i % 5 === 1 && i % 4 === 0) changes.push(c(id, 'tool:jira/search', 'needs_approval', '02-10', `r-${i}`, 'close'));
    });
    // The closes in a write of their own, merges stopped: the table keeps both versions of every closed interval (the
    // open one still names the leavers at 02-15), as a busy server's parts do until merged. Pages are still full.
    await db.client.command({ query: 'SYSTEM STOP MERGES access_intervals' });
    try {
      await new AccessIntervalWriter(db.client).write(changes.filter((x) => x.kind !== 'close'));
      await new AccessIntervalWriter(db.client).write(changes.filter((x) => x.kind === 'close'));
    } finally {
      await db.client.command({ query: 'SYSTEM START MERGES access_intervals' });
    }
    const [versions] = await (
      await db.client.query({
        query: `SELECT (SELECT count() FROM access_intervals WHERE tenant_id = {t:String}) AS stored, (SELECT count() FROM access_intervals FINAL WHERE tenant_id = {t:String}) AS latest`,
        query_params: { t: tenant },
        format: 'JSONEachRow',
      })
    ).json<{ stored: string; latest: string }>();
    expect(Number(versions!.stored)).toBeGreaterThan(Number(versions!.latest));
    for (const instant of [at('01-20'), at('02-15')]) {
      const unpaged = await accessReview(db.client, tenant, 'acme-eng', { at: instant });
      expect(unpaged.length).toBeGreaterThan(15);
      expect(unpaged.flatMap((m) => m.permissions).filter((p) => p.permission.startsWith('tool:')).length).toBeGreaterThan(20);
      for (const limit of [1, 4, 7, 1000]) {
        const seen: AccessReviewMemberLike[] = [];
        let pages = 0;
        for (let cursor: string | undefined; ; ) {
          const page = await accessReviewPage(db.client, tenant, 'acme-eng', AccessReviewQuery.parse({ at: instant, limit, ...(cursor ? { cursor } : {}) }));
          expect(page.members.length).toBeLessThanOrEqual(limit);
          seen.push(...page.members);
          pages++;
          if (!page.nextCursor) break;
          expect(page.members.length).toBe(limit);
          cursor = page.nextCursor;
        }
        const userIds = seen.map((m) => m.userId);
        expect(new Set(userIds).size).toBe(userIds.length);
        expect(seen).toEqual(unpaged);
        expect(pages).toBe(Math.max(1, Math.ceil(unpaged.length / limit)));
      }
      const rowsText = toCsv(
        (await accessReviewRows(db.client, tenant, 'acme-eng', { at: instant })) as unknown as Record<string, unknown>[],
        ACCESS_REVIEW_COLUMNS,
      );
      for (const membersPerQuery of [1, 3, 500]) {
        let text = '';
        for await (const chunk of await accessReviewCsv(db.client, tenant, 'acme-eng', { at: instant }, membersPerQuery)) text += chunk.toString();
        expect(text).toBe(rowsText);
      }
      expect(rowsText).toContain("'=cmd|calc,");
      expect(rowsText).toContain("'-minus,");
      // This member (the 22nd) left on 02-10.
      expect(rowsText.includes('"quote""d, user",')).toBe(instant === at('01-20'));
    }
    // A page reads only its members' rows: ClickHouse narrows the stored rows and the members' profile rows to the
    // page's ids before the profile join (the index condition of both reads names the set).
    const plan = await db.client.query({
      query: `EXPLAIN indexes = 1 SELECT count() FROM ${HELD_AT_SQL_FOR_TESTS}`,
      query_params: { tenantId: tenant, orgId: 'acme-eng', at: at('01-20'), members: ['u-01', 'u-02', 'u-03'] },
      format: 'TabSeparatedRaw',
    });
    const conditions = (await plan.text()).split('\n').filter((l) => l.includes('Condition:'));
    expect(conditions.filter((l) => l.includes('user_id in 3-element set')).length).toBeGreaterThanOrEqual(2);
    // The members' profile rows: the page's ids and the profile permissions (not their negation, which is the stored rows' read).
    // The fixed profiles' permissions and the role set's.
    const profileRows = `and((permission in ${ACCESS_PROFILES.length + 1}-element set)`;
    expect(conditions.some((l) => l.includes('user_id in 3-element set') && l.includes(profileRows))).toBe(true);
    // One member, and an organization with nobody: an empty page, and a CSV of the header alone.
    const one = await accessReviewPage(db.client, tenant, 'acme-eng', AccessReviewQuery.parse({ at: at('01-20'), userId: 'u-03', limit: 1 }));
    expect(one.members.map((m) => m.userId)).toEqual(['u-03']);
    expect(one.nextCursor).toBeNull();
    expect(await accessReviewPage(db.client, tenant, 'nobody', AccessReviewQuery.parse({ at: at('01-20') }))).toEqual({
      at: at('01-20'),
      members: [],
      nextCursor: null,
    });
    let empty = '';
    for await (const chunk of await accessReviewCsv(db.client, tenant, 'nobody', { at: at('01-20') })) empty += chunk.toString();
    expect(empty).toBe('userId,permission,level,since,grantedBy,until\r\n');
    // Cursors are the API's own: anything else is refused, not read as "from the start".
    for (const cursor of ['u-03', Buffer.from('{"u":""}').toString('base64url'), Buffer.from('{"x":"u-03"}').toString('base64url'), '%%%'])
      expect(AccessReviewQuery.safeParse({ cursor }).success).toBe(false);
    for (const limit of ['0', '1001', 'x', '2.5']) expect(AccessReviewQuery.safeParse({ limit }).success).toBe(false);
  });

  it('injection strings in every filter are plain values', async () => {
    for (const text of ["' OR 1=1 --", "'; DROP TABLE access_intervals; --", '\\', "x') OR ('1'='1", '☃ 名前']) {
      expect(await accessReview(db.client, 'acme', text, {})).toEqual([]);
      expect(await accessReview(db.client, text, 'acme-eng', { userId: text })).toEqual([]);
      expect(await permissionHolders(db.client, 'acme', 'acme-eng', PermissionHoldersQuery.parse({ ...Q1, permission: text }))).toEqual([]);
      expect(
        await permissionHolders(db.client, 'acme', 'acme-eng', PermissionHoldersQuery.parse({ ...Q1, permission: 'admin:billing', levels: [text] })),
      ).toEqual([]);
      expect(await accessChanges(db.client, 'acme', 'acme-eng', { ...Q1, permissionPrefix: text })).toEqual([]);
      expect(await accessChanges(db.client, 'acme', 'acme-eng', { ...Q1, userId: text })).toEqual([]);
      expect(await privilegedAccess(db.client, text, 'acme-eng', { ...Q1, bucket: 'month' })).toEqual([]);
      expect(await sodViolations(db.client, 'acme', 'acme-eng', SodViolationsQuery.parse({ ...Q1, pairs: [[`${text}`, 'admin:billing']] }))).toEqual([]);
      expect(AccessReviewQuery.safeParse({ at: text }).success).toBe(false);
      expect(PermissionHoldersQuery.safeParse({ from: text, to: Q1.to, permission: 'x' }).success).toBe(false);
    }
    const [count] = await rows<{ n: number }>(db.client, "SELECT count() AS n FROM access_intervals FINAL WHERE tenant_id NOT IN ('profiles', 'pages')");
    expect(Number(count!.n)).toBe(9);
  });

  it('R61: after a late event’s rewrite, every report reads the rewritten ends and none reads an interval it made disappear', async () => {
    const late = (userId: string, permission: string, level: string, day: string, eventId: string, kind: 'open' | 'close' = 'open') =>
      change(userId, permission, level, day, eventId, kind, 'late');
    const writer = new AccessIntervalWriter(db.client);
    await writer.write([
      late('u-eve', 'role:admin', 'admin', '01-10', 'e-1'),
      late('u-eve', 'admin:billing', 'manage', '01-10', 'e-1'),
      late('u-eve', 'capability:claude_code', 'granted', '01-15', 'e-3'),
      late('u-eve', 'admin:identity_access', 'manage', '02-01', 'e-2'),
      late('u-fay', 'role:owner', 'owner', '01-10', 'e-4'),
      late('u-gus', 'admin:billing', 'manage', '01-05', 'e-6'),
      late('u-gus', 'admin:identity_access', 'manage', '02-05', 'e-7'),
    ]);
    const sod = () => sodViolations(db.client, 'late', 'acme-eng', SodViolationsQuery.parse(Q1));
    expect((await sod()).map((v) => v.userId)).toEqual(['u-eve', 'u-gus']);
    // u-eve was removed on 01-20, which arrives late: everything closes then, and the 02-01 grant never happened.
    const rewrite = {
      tenantId: 'late',
      members: [['acme-eng', 'u-eve']] as const,
      scope: { names: [], prefixes: [''] },
      from: '2026-01-20T00:00:00.000Z',
      eventsBefore: [],
      changes: ['role:admin=admin', 'admin:billing=manage', 'capability:claude_code=granted'].map((p) =>
        late('u-eve', p.split('=')[0]!, p.split('=')[1]!, '01-20', 'e-late', 'close'),
      ),
    };
    expect(await writer.rewrite(rewrite)).toBe(4);
    expect(await writer.rewrite(rewrite)).toBe(0);
    // u-gus lost identity_access management on 02-01 (late too): only that permission is rewritten, billing stays.
    const gus = {
      tenantId: 'late',
      members: [['acme-eng', 'u-gus']] as const,
      scope: { names: ['admin:identity_access'], prefixes: [] },
      from: '2026-02-01T00:00:00.000Z',
      eventsBefore: [],
      changes: [],
    };
    expect(await writer.rewrite(gus)).toBe(1);
    const [tombstones] = await rows<{ n: number }>(db.client, "SELECT count() AS n FROM access_intervals FINAL WHERE tenant_id = 'late' AND is_deleted");
    expect(Number(tombstones!.n)).toBe(2);

    expect(await accessReview(db.client, 'late', 'acme-eng', AccessReviewQuery.parse({ at: '2026-02-15T00:00:00.000Z', userId: 'u-eve' }))).toEqual([]);
    const january = await accessReview(db.client, 'late', 'acme-eng', AccessReviewQuery.parse({ at: '2026-01-16T00:00:00.000Z', userId: 'u-eve' }));
    expect(january[0]!.permissions.map((p) => [p.permission, p.until])).toEqual([
      ['admin:billing', '2026-01-20T00:00:00.000Z'],
      ['capability:claude_code', '2026-01-20T00:00:00.000Z'],
      ['role:admin', '2026-01-20T00:00:00.000Z'],
    ]);
    expect(await permissionHolders(db.client, 'late', 'acme-eng', PermissionHoldersQuery.parse({ ...Q1, permission: 'admin:identity_access' }))).toEqual([]);
    const changes = await accessChanges(db.client, 'late', 'acme-eng', AccessChangesQuery.parse({ ...Q1, userId: 'u-eve' }));
    expect(changes.map((c) => [c.at.slice(5, 10), c.permission, c.change, c.eventId])).toEqual([
      ['01-10', 'admin:billing', 'gained', 'e-1'],
      ['01-10', 'role:admin', 'gained', 'e-1'],
      ['01-15', 'capability:claude_code', 'gained', 'e-3'],
      ['01-20', 'admin:billing', 'lost', 'e-late'],
      ['01-20', 'capability:claude_code', 'lost', 'e-late'],
      ['01-20', 'role:admin', 'lost', 'e-late'],
    ]);
    const months = await privilegedAccess(db.client, 'late', 'acme-eng', PrivilegedAccessQuery.parse({ ...Q1, bucket: 'month' }));
    expect(months.map((b) => `${b.bucketStart.slice(5, 7)} ${b.permission} ${b.userIds.join('/')}`)).toEqual([
      '01 admin:billing u-eve/u-gus',
      '01 role:admin u-eve',
      '01 role:owner u-fay',
      '02 admin:billing u-gus',
      '02 role:owner u-fay',
      '03 admin:billing u-gus',
      '03 role:owner u-fay',
    ]);
    expect(await sod()).toEqual([]);
    // Another member's intervals are untouched; a restarted writer finds nothing of u-eve open.
    expect((await accessReview(db.client, 'late', 'acme-eng', AccessReviewQuery.parse({ at: '2026-03-01T00:00:00.000Z' }))).map((m) => m.userId)).toEqual([
      'u-fay',
      'u-gus',
    ]);
    // A restarted writer loads the open intervals without the tombstoned ones: granting identity_access again opens it.
    await new AccessIntervalWriter(db.client).write([
      late('u-eve', 'role:admin', 'admin', '03-01', 'e-5'),
      late('u-gus', 'admin:identity_access', 'manage', '03-01', 'e-8'),
    ]);
    const march = await accessReview(db.client, 'late', 'acme-eng', AccessReviewQuery.parse({ at: '2026-03-02T00:00:00.000Z' }));
    expect(march.map((m) => [m.userId, m.permissions.map((p) => `${p.permission}@${p.grantedBy}`)])).toEqual([
      ['u-eve', ['role:admin@e-5']],
      ['u-fay', ['role:owner@e-4']],
      ['u-gus', ['admin:billing@e-6', 'admin:identity_access@e-8']],
    ]);
  });
});
