import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AuditProjection } from '../src/ingestion/audit-projection.js';
import { customMembersWithoutGroup, CustomMembersWithoutGroupQuery } from '../src/queries/custom-members-without-group.js';
import { orphanedApiKeys, OrphanedApiKeysQuery } from '../src/queries/orphaned-api-keys.js';
import { toCsv } from '../src/queries/csv.js';
import { BACKENDS, openFixture, type ClickHouseFixture } from './clickhouse-fixture.js';
import { fromArray, RecordedHistory } from './recorded-history.js';

const owner = { kind: 'member', orgId: 'acme-eng', userId: 'u-owner' } as const;
const member = (userId: string, role: string, orgId = 'acme-eng') => ({ orgId, userId, email: `${userId}@acme.test`, role });

function history(): RecordedHistory {
  return (
    new RecordedHistory('acme', '2026-01-05T09:00:00.000Z')
      .by(owner)
      .add('MemberAdded', member('u-dev', 'user'))
      .add('MemberAdded', member('u-ops', 'user'))
      .add('MemberAdded', member('u-tmp', 'user'))
      .add('WorkspaceCreated', { orgId: 'acme-eng', workspaceId: 'w-1', name: 'prod' })
      .add('ApiKeyCreated', { orgId: 'acme-eng', workspaceId: 'w-1', apiKeyId: 'k-dev', name: 'dev key', createdBy: 'u-dev' }, { id: 'ev-k-dev' })
      .add('ApiKeyCreated', { orgId: 'acme-eng', workspaceId: 'w-1', apiKeyId: 'k-ops', name: 'ops key', createdBy: 'u-ops' })
      .add('ApiKeyCreated', { orgId: 'acme-eng', workspaceId: 'w-1', apiKeyId: 'k-tmp', name: 'revoked', createdBy: 'u-tmp' })
      .add('ApiKeyRevoked', { orgId: 'acme-eng', workspaceId: 'w-1', apiKeyId: 'k-tmp' })
      .at('2026-02-01T00:00:00.000Z')
      .add('MemberRemoved', { orgId: 'acme-eng', userId: 'u-dev' }, { id: 'ev-dev-left' })
      .add('MemberRemoved', { orgId: 'acme-eng', userId: 'u-tmp' })
      .by({ kind: 'scim' })
      .add('MemberSuspended', { orgId: 'acme-eng', userId: 'u-ops' })
      // Custom members and groups (R6, R30).
      .by(owner)
      .at('2026-03-01T00:00:00.000Z')
      .add('GroupCreated', { groupId: 'g-eng', name: 'Eng', source: 'manual' })
      .add('GroupCreated', { groupId: 'g-gone', name: 'Gone', source: 'manual' })
      .add('MemberAdded', member('c-grouped', 'custom'))
      .add('UserAddedToGroup', { groupId: 'g-eng', userId: 'c-grouped' })
      .add('MemberAdded', member('c-alone', 'custom'))
      .add('MemberAdded', member('c-left-group', 'custom'))
      .add('UserAddedToGroup', { groupId: 'g-eng', userId: 'c-left-group' })
      .add('MemberAdded', member('c-deleted-group', 'user'))
      .add('MemberRoleChanged', { orgId: 'acme-eng', userId: 'c-deleted-group', role: 'custom' }, { id: 'ev-became-custom' })
      .add('UserAddedToGroup', { groupId: 'g-gone', userId: 'c-deleted-group' })
      .add('MemberAdded', member('c-promoted', 'custom'))
      .add('MemberAdded', member('c-other-org', 'custom', 'acme-sales'))
      .add('UserAddedToGroup', { groupId: 'g-eng', userId: 'c-other-org' })
      .at('2026-03-10T00:00:00.000Z')
      .add('UserRemovedFromGroup', { groupId: 'g-eng', userId: 'c-left-group' })
      .add('GroupDeleted', { groupId: 'g-gone' })
      .add('MemberRoleChanged', { orgId: 'acme-eng', userId: 'c-promoted', role: 'admin' })
  );
}

describe.each(BACKENDS)('audit-trail reports (%s)', (backend) => {
  let db: ClickHouseFixture;
  beforeAll(async () => {
    db = await openFixture(backend);
    const events = history().events;
    await new AuditProjection({ client: db.client, source: (after) => fromArray(events, after) }).run();
  });
  afterAll(async () => {
    await db.close();
  });

  it('R53: lists active API keys whose creator was removed, not revoked keys nor present creators', async () => {
    const keys = await orphanedApiKeys(db.client, 'acme', OrphanedApiKeysQuery.parse({ at: '2026-06-01T00:00:00.000Z' }));
    expect(keys).toEqual([
      {
        orgId: 'acme-eng',
        workspaceId: 'w-1',
        apiKeyId: 'k-dev',
        name: 'dev key',
        createdBy: 'u-dev',
        createdAt: '2026-01-05T09:04:00.000Z',
        createdByEvent: 'ev-k-dev',
        creatorStatus: 'removed',
        creatorLeftAt: '2026-02-01T00:00:00.000Z',
        creatorLeftEvent: 'ev-dev-left',
      },
    ]);
    const withSuspended = await orphanedApiKeys(db.client, 'acme', OrphanedApiKeysQuery.parse({ includeSuspended: 'true' }));
    expect(withSuspended.map((k) => [k.apiKeyId, k.creatorStatus])).toEqual([
      ['k-dev', 'removed'],
      ['k-ops', 'suspended'],
    ]);
    // Before the creator left there is nothing to report.
    expect(await orphanedApiKeys(db.client, 'acme', OrphanedApiKeysQuery.parse({ at: '2026-01-31T00:00:00.000Z' }))).toEqual([]);
    expect(await orphanedApiKeys(db.client, 'acme', OrphanedApiKeysQuery.parse({ orgId: 'acme-sales' }))).toEqual([]);
  });

  it('R6: lists custom members in no group, honouring group removals, deleted groups and role changes', async () => {
    const now = await customMembersWithoutGroup(db.client, 'acme', CustomMembersWithoutGroupQuery.parse({ at: '2026-04-01T00:00:00.000Z' }));
    expect(now.map((m) => m.userId)).toEqual(['c-alone', 'c-deleted-group', 'c-left-group']);
    expect(now.find((m) => m.userId === 'c-deleted-group')).toMatchObject({ status: 'active', roleEvent: 'ev-became-custom', orgId: 'acme-eng' });
    const before = await customMembersWithoutGroup(
      db.client,
      'acme',
      CustomMembersWithoutGroupQuery.parse({ orgId: 'acme-eng', at: '2026-03-05T00:00:00.000Z' }),
    );
    expect(before.map((m) => m.userId)).toEqual(['c-alone', 'c-promoted']);
  });

  it('injection strings in report filters match nothing', async () => {
    for (const text of ["' OR 1=1 --", "'; DROP TABLE audit_events; --", '\\']) {
      expect(await orphanedApiKeys(db.client, text, { includeSuspended: true })).toEqual([]);
      expect(await orphanedApiKeys(db.client, 'acme', { orgId: text, includeSuspended: true })).toEqual([]);
      expect(await customMembersWithoutGroup(db.client, 'acme', { orgId: text })).toEqual([]);
      expect(OrphanedApiKeysQuery.safeParse({ at: text }).success).toBe(false);
    }
    expect((await orphanedApiKeys(db.client, 'acme', { includeSuspended: false })).length).toBe(1);
  });

  it('renders rows as CSV with quoting and formula guarding', () => {
    expect(
      toCsv([
        { a: 'x,y', b: '=SUM(A1)', c: null, d: ['p', 'q'] },
        { a: 'he said "hi"', b: 2 },
      ]),
    ).toBe('a,b,c,d\r\n"x,y",\'=SUM(A1),,"[""p"",""q""]"\r\n"he said ""hi""",2,,\r\n');
  });
});
