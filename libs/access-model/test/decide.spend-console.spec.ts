import { describe, it } from '@jest/globals';
import { acme, aGroup, aMember, anApiKey, as, aWorkspace, consoleRole, workspaceRole } from './builders.js';
import { e, given, scim, system, type GivenEvent } from './given.js';

/** Spend limits (R22: billing = manage; R40–R43) and the Console (R50–R53; decision: Console admin or user_management = manage). */

describe('SetOrgSpendCeiling', () => {
  const ceiling = (cents: number | null) => ({ orgId: 'acme', cents });

  it.each(['bm', 'owner'])('R43, R22: %s (billing = manage) sets the ceiling', (actor) => {
    given(acme())
      .when(as(actor).SetOrgSpendCeiling(ceiling(3_000_000)))
      .then(e.OrgSpendCeilingSet(ceiling(3_000_000)));
  });

  it('R43: the ceiling may be cleared', () => {
    given(acme())
      .when(as('bm').SetOrgSpendCeiling(ceiling(null)))
      .then(e.OrgSpendCeilingSet(ceiling(null)));
  });

  it.each(['admin', 'um', 'idm', 'user'])('R22: %s (no billing = manage) is refused', (actor) => {
    given(acme())
      .when(as(actor).SetOrgSpendCeiling(ceiling(1)))
      .thenRefused('R22', /billing = manage/);
  });

  it('R62: below zero → violation (the schema refuses it first; the decider holds the line too)', () => {
    given(acme())
      .when(as('bm').SetOrgSpendCeiling(ceiling(-1)))
      .thenViolates('R62', /below zero/);
  });
});

describe('SetGroupSpendLimit', () => {
  const limit = (groupId: string, cents: number | null) => ({ orgId: 'acme', groupId, cents });

  it('R42, R22: a billing manager sets a per-user limit for a group', () => {
    given(acme())
      .when(as('bm').SetGroupSpendLimit(limit('g-cm', 20_000)))
      .then(e.GroupSpendLimitSet(limit('g-cm', 20_000)));
  });

  it('R62: an unknown or deleted group → violation; below zero → violation', () => {
    given(acme())
      .when(as('bm').SetGroupSpendLimit(limit('g-ghost', 1)))
      .thenViolates('R62', /unknown group/);
    given(acme(), e.GroupDeleted({ groupId: 'g-cm' }))
      .when(as('bm').SetGroupSpendLimit(limit('g-cm', 1)))
      .thenViolates('R62', /unknown group/);
    given(acme())
      .when(as('bm').SetGroupSpendLimit(limit('g-cm', -5)))
      .thenViolates('R62', /below zero/);
  });

  it('R22: a user manager is refused', () => {
    given(acme())
      .when(as('um').SetGroupSpendLimit(limit('g-cm', 1)))
      .thenRefused('R22');
  });

  it('R30: a tenant group from SCIM may carry a limit in an organization', () => {
    given(acme(), aGroup('idp-x', 'scim'))
      .when(as('bm').SetGroupSpendLimit(limit('idp-x', 100)))
      .then(e.GroupSpendLimitSet(limit('idp-x', 100)));
  });
});

describe('SetMemberSpendLimit', () => {
  const limit = (userId: string, cents: number | null) => ({ orgId: 'acme', userId, cents });

  it('R41, R22: a billing manager sets an individual limit, and clears it', () => {
    given(acme())
      .when(as('bm').SetMemberSpendLimit(limit('cm', 50_000)))
      .then(e.MemberSpendLimitSet(limit('cm', 50_000)));
    given(acme())
      .when(as('bm').SetMemberSpendLimit(limit('cm', null)))
      .then(e.MemberSpendLimitSet(limit('cm', null)));
  });

  it('R62: an unknown member, or below zero → violation', () => {
    given(acme())
      .when(as('bm').SetMemberSpendLimit(limit('nobody', 1)))
      .thenViolates('R62', /unknown member/);
    given(acme())
      .when(as('bm').SetMemberSpendLimit(limit('cm', -1)))
      .thenViolates('R62', /below zero/);
  });

  it('R22: an admin is refused; R24: scim too', () => {
    given(acme())
      .when(as('admin').SetMemberSpendLimit(limit('cm', 1)))
      .thenRefused('R22');
    given(acme())
      .when(scim.SetMemberSpendLimit(limit('cm', 1)))
      .thenRefused('R24');
  });
});

/**
 * acme with two workspaces and Console people (all `user` members of the organization): `cadmin` Console admin,
 * `dev` Console developer, `wsdev` workspace_developer in w1, `wsadmin` workspace_admin in w1, `plain` Console user.
 */
function withConsole(): GivenEvent[] {
  return [
    ...acme(),
    aWorkspace('acme', 'w1'),
    aWorkspace('acme', 'w2'),
    ...(['cadmin', 'dev', 'wsdev', 'wsadmin', 'plain'] as const).map((u) => aMember('acme', u, 'user')),
    consoleRole('acme', 'cadmin', 'admin'),
    consoleRole('acme', 'dev', 'developer'),
    consoleRole('acme', 'plain', 'user'),
    workspaceRole('acme', 'w1', 'wsdev', 'workspace_developer'),
    workspaceRole('acme', 'w1', 'wsadmin', 'workspace_admin'),
  ];
}

describe('SetConsoleRole', () => {
  const role = { orgId: 'acme', userId: 'plain', role: 'developer' } as const;

  it.each(['cadmin', 'admin', 'um', 'owner'])('R50, R22: %s (Console admin or user_management = manage) sets a Console role', (actor) => {
    given(withConsole()).when(as(actor).SetConsoleRole(role)).then(e.ConsoleRoleSet(role));
  });

  it.each(['dev', 'wsadmin', 'plain', 'idm', 'bm'])('R22: %s is refused', (actor) => {
    given(withConsole())
      .when(as(actor).SetConsoleRole(role))
      .thenRefused('R22', /Console admin/);
  });

  it('R62: an unknown member → violation; R24: scim may not', () => {
    given(withConsole())
      .when(as('cadmin').SetConsoleRole({ ...role, userId: 'nobody' }))
      .thenViolates('R62', /unknown member/);
    given(withConsole()).when(scim.SetConsoleRole(role)).thenRefused('R24');
  });
});

describe('CreateWorkspace', () => {
  const ws = { orgId: 'acme', workspaceId: 'w3', name: 'Three' };

  it('R22: a Console admin creates a workspace; a developer may not', () => {
    given(withConsole()).when(as('cadmin').CreateWorkspace(ws)).then(e.WorkspaceCreated(ws));
    given(withConsole()).when(as('dev').CreateWorkspace(ws)).thenRefused('R22');
  });

  it('R62: a workspace id is never reused, archived or not → violation', () => {
    given(withConsole(), e.WorkspaceArchived({ orgId: 'acme', workspaceId: 'w2' }))
      .when(as('cadmin').CreateWorkspace({ ...ws, workspaceId: 'w2' }))
      .thenViolates('R62', /never reused/);
  });
});

describe('ArchiveWorkspace', () => {
  const ws = { orgId: 'acme', workspaceId: 'w2' };

  it('R22: a user manager archives a workspace; R62: then it is unknown', () => {
    given(withConsole()).when(as('um').ArchiveWorkspace(ws)).then(e.WorkspaceArchived(ws));
    given(withConsole(), e.WorkspaceArchived(ws))
      .when(as('um').ArchiveWorkspace(ws))
      .thenViolates('R62', /unknown workspace/);
  });

  it('R22: a workspace admin may not archive', () => {
    given(withConsole())
      .when(as('wsadmin').ArchiveWorkspace({ orgId: 'acme', workspaceId: 'w1' }))
      .thenRefused('R22');
  });
});

describe('SetWorkspaceRole', () => {
  const role = (workspaceId: string, userId = 'plain') => ({ orgId: 'acme', workspaceId, userId, role: 'workspace_user' }) as const;

  it('R52: a workspace admin manages the members of their workspace, not of another', () => {
    given(withConsole())
      .when(as('wsadmin').SetWorkspaceRole(role('w1')))
      .then(e.WorkspaceRoleSet(role('w1')));
    given(withConsole())
      .when(as('wsadmin').SetWorkspaceRole(role('w2')))
      .thenRefused('R22', /workspace_admin in w2/);
  });

  it('R51, R22: a Console admin or a user manager sets workspace roles anywhere; a workspace role may be cleared', () => {
    given(withConsole())
      .when(as('cadmin').SetWorkspaceRole(role('w2')))
      .then(e.WorkspaceRoleSet(role('w2')));
    given(withConsole())
      .when(as('admin').SetWorkspaceRole({ ...role('w1', 'wsdev'), role: null }))
      .then(e.WorkspaceRoleSet({ ...role('w1', 'wsdev'), role: null }));
  });

  it('R62: an unknown member or an archived workspace → violation', () => {
    given(withConsole())
      .when(as('cadmin').SetWorkspaceRole(role('w1', 'nobody')))
      .thenViolates('R62', /unknown member/);
    given(withConsole(), e.WorkspaceArchived({ orgId: 'acme', workspaceId: 'w2' }))
      .when(as('cadmin').SetWorkspaceRole(role('w2')))
      .thenViolates('R62', /unknown workspace/);
  });

  it('R22: a developer is refused', () => {
    given(withConsole())
      .when(as('dev').SetWorkspaceRole(role('w1')))
      .thenRefused('R22');
  });
});

describe('CreateApiKey', () => {
  const key = (createdBy: string, workspaceId = 'w1', apiKeyId = 'k-new') => ({ orgId: 'acme', workspaceId, apiKeyId, name: 'ci', createdBy });

  it.each(['dev', 'cadmin', 'wsdev', 'wsadmin'])('R50–R53: %s (manage_api_keys in w1) creates a key in their own name', (actor) => {
    given(withConsole())
      .when(as(actor).CreateApiKey(key(actor)))
      .then(e.ApiKeyCreated(key(actor)));
  });

  it('R52: a workspace developer has manage_api_keys only in their workspace', () => {
    given(withConsole())
      .when(as('wsdev').CreateApiKey(key('wsdev', 'w2')))
      .thenRefused('R22', /w2/);
  });

  it.each(['plain', 'user', 'bm'])('R22: %s (no manage_api_keys) is refused', (actor) => {
    given(withConsole())
      .when(as(actor).CreateApiKey(key(actor)))
      .thenRefused('R22');
  });

  it("R22, R53: only a Console admin (or user manager) creates a key in another member's name", () => {
    given(withConsole())
      .when(as('dev').CreateApiKey(key('plain')))
      .thenRefused('R22', /own name/);
    given(withConsole())
      .when(as('cadmin').CreateApiKey(key('dev')))
      .then(e.ApiKeyCreated(key('dev')));
  });

  it.each([
    ['not a member', 'nobody', []],
    ['suspended', 'dev', [e.MemberSuspended({ orgId: 'acme', userId: 'dev' })]],
    ['removed', 'dev', [e.MemberRemoved({ orgId: 'acme', userId: 'dev' })]],
  ])('R53, R62: a creator who is %s → violation', (_, createdBy, events) => {
    given(withConsole(), events)
      .when(system.CreateApiKey(key(createdBy)))
      .thenViolates('R62');
  });

  it('R62: a key id is never reused in its workspace, even revoked → violation', () => {
    given(withConsole(), anApiKey('acme', 'w1', 'k-old', 'dev'), e.ApiKeyRevoked({ orgId: 'acme', workspaceId: 'w1', apiKeyId: 'k-old' }))
      .when(as('dev').CreateApiKey(key('dev', 'w1', 'k-old')))
      .thenViolates('R62', /never reused/);
  });

  it('R62: an archived or unknown workspace → violation', () => {
    given(withConsole(), e.WorkspaceArchived({ orgId: 'acme', workspaceId: 'w2' }))
      .when(as('dev').CreateApiKey(key('dev', 'w2')))
      .thenViolates('R62', /unknown workspace/);
    given(withConsole())
      .when(as('dev').CreateApiKey(key('dev', 'w9')))
      .thenViolates('R62', /unknown workspace/);
  });

  it('R24: scim may not create keys', () => {
    given(withConsole())
      .when(scim.CreateApiKey(key('dev')))
      .thenRefused('R24');
  });
});

describe('RevokeApiKey', () => {
  const revoke = { orgId: 'acme', workspaceId: 'w1', apiKeyId: 'k-1' };
  const withKey = () => [...withConsole(), anApiKey('acme', 'w1', 'k-1', 'wsdev')];

  it.each(['dev', 'wsadmin', 'cadmin', 'admin', 'wsdev'])('R50–R53: %s revokes a key', (actor) => {
    given(withKey()).when(as(actor).RevokeApiKey(revoke)).then(e.ApiKeyRevoked(revoke));
  });

  it('R53: the creator may revoke their key even after losing manage_api_keys', () => {
    given(withKey(), workspaceRole('acme', 'w1', 'wsdev', null))
      .when(as('wsdev').RevokeApiKey(revoke))
      .then(e.ApiKeyRevoked(revoke));
  });

  it('R22: a member without manage_api_keys who did not create the key is refused', () => {
    given(withKey())
      .when(as('plain').RevokeApiKey(revoke))
      .thenRefused('R22', /did not create/);
  });

  it('R53, R62: an already revoked or unknown key → violation', () => {
    given(withKey(), e.ApiKeyRevoked(revoke))
      .when(as('dev').RevokeApiKey(revoke))
      .thenViolates('R62', /unknown API key/);
    given(withKey())
      .when(as('dev').RevokeApiKey({ ...revoke, apiKeyId: 'k-9' }))
      .thenViolates('R62', /unknown API key/);
  });

  it('R53: a key whose creator has left may still be revoked', () => {
    given(withKey(), e.MemberRemoved({ orgId: 'acme', userId: 'wsdev' }))
      .when(as('cadmin').RevokeApiKey(revoke))
      .then(e.ApiKeyRevoked(revoke));
  });

  it('R24: the system may; scim may not', () => {
    given(withKey()).when(system.RevokeApiKey(revoke)).then(e.ApiKeyRevoked(revoke));
    given(withKey()).when(scim.RevokeApiKey(revoke)).thenRefused('R24');
  });
});
