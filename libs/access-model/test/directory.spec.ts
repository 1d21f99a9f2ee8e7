import { describe, expect, test } from '@jest/globals';
import { groupAt, groupsAt, NOW, viewAt } from '../src/index.js';
import { History } from './evaluate/history.js';

/** The groups an organization's pages list (discovery): what the evaluator reads, described rather than evaluated. */

const summary = (h: History, orgId: string, at = Number.POSITIVE_INFINITY) =>
  groupsAt(h.facts, viewAt(at), orgId).map((g) => ({ id: g.groupId, n: g.memberCount, roles: g.roles.map((r) => r.roleId), grant: g.rolesGrant }));

describe('groupsAt, groupAt', () => {
  test('R30 — one tenant group, members and roles counted per organization', () => {
    const h = new History().org('X').org('Y').member('X', 'u', 'custom').member('Y', 'v', 'custom').group('G', 'manual', 'u', 'v');
    h.role('X', 'R').assign('X', 'G', 'R');
    expect(summary(h, 'X')).toEqual([{ id: 'G', n: 1, roles: ['R'], grant: true }]);
    expect(summary(h, 'Y')).toEqual([{ id: 'G', n: 1, roles: [], grant: true }]);
    // G has more users than X has members: its members in X are found from X's side.
    expect(groupAt(h.facts, NOW, 'X', 'G')).toMatchObject({
      memberCount: 1,
      members: [{ userId: 'u', role: 'custom', status: 'active' }],
      roles: [{ roleId: 'R' }],
    });
    expect(h.access('X', 'u').capabilities['chat']!.granted).toBe(true);
    expect(h.access('Y', 'v').capabilities['chat']!.granted).toBe(false); // R6: G holds no role in Y
  });

  test('R31 — a SCIM group in a jit organization is listed with its roles, which grant nothing there', () => {
    const h = new History().org('J', { mode: 'jit' }).member('J', 'u', 'custom').group('S', 'scim', 'u').role('J', 'R').assign('J', 'S', 'R');
    expect(summary(h, 'J')).toEqual([{ id: 'S', n: 1, roles: ['R'], grant: false }]);
    expect(h.access('J', 'u').capabilities['chat']!.granted).toBe(false);
  });

  test('a group with neither a member nor a role in the organization is not listed, but is described; deleted roles and removed members are left out', () => {
    const h = new History().org('X').member('X', 'u', 'custom').member('X', 'w', 'user').group('G', 'manual', 'u', 'w').group('E');
    h.role('X', 'R').role('X', 'Gone').assign('X', 'G', 'R').assign('X', 'G', 'Gone');
    h.event('RoleDeleted', { orgId: 'X', roleId: 'Gone' });
    const before = h.now();
    h.event('MemberRemoved', { orgId: 'X', userId: 'w' });
    expect(summary(h, 'X')).toEqual([{ id: 'G', n: 1, roles: ['R'], grant: true }]);
    expect(summary(h, 'X', Date.parse(before))).toEqual([{ id: 'G', n: 2, roles: ['R'], grant: true }]);
    expect(groupAt(h.facts, NOW, 'X', 'G')).toMatchObject({ memberCount: 1, members: [{ userId: 'u' }] }); // found from G's side
    expect(groupAt(h.facts, NOW, 'X', 'E')).toMatchObject({ groupId: 'E', memberCount: 0, members: [], roles: [] });
  });

  test('unknown, not yet created and deleted groups say which', () => {
    const h = new History().org('X');
    const early = Date.parse(h.now());
    h.group('G');
    h.event('GroupDeleted', { groupId: 'G' });
    expect(groupAt(h.facts, NOW, 'X', 'nope')).toEqual({ absent: 'unknown' });
    expect(groupAt(h.facts, viewAt(early), 'X', 'G')).toEqual({ absent: 'not-yet' });
    expect(groupAt(h.facts, NOW, 'X', 'G')).toEqual({ absent: 'deleted', at: h.now() });
    expect(summary(h, 'X')).toEqual([]);
  });
});
