import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  CommandBody,
  COMMAND_TYPES,
  COMMANDS,
  EVENT_DATA,
  FactReader,
  FactStore,
  lookupKey,
  NOW,
  decide,
  evolve,
  isOwner,
  type BuiltInRole,
  type Command,
  type CommandActor,
  type MemberStatus,
} from '../src/index.js';

/**
 * Properties over random command sequences on a small world of ids (fast-check): whatever the actors try, the
 * deciders never throw, every event they emit is valid, refusals change nothing, and the invariants hold after
 * every accepted command — one primary owner at most per organization (R23), owners made or unmade only by owners
 * or system actors (R22), and every reference of an accepted command names something that exists (R62).
 */

const ORGS = ['o1', 'o2'];
const USERS = ['u1', 'u2', 'u3', 'u4', 'u5'];
const GROUPS = ['g1', 'g2', 'g3'];
const ROLES = ['r1', 'r2'];
const TOOLS = ['t1', 't2'];

const field: Record<string, fc.Arbitrary<unknown>> = {
  orgId: fc.constantFrom(...ORGS),
  userId: fc.constantFrom(...USERS),
  toUserId: fc.constantFrom(...USERS),
  createdBy: fc.constantFrom(...USERS),
  groupId: fc.constantFrom(...GROUPS),
  idpGroupId: fc.constantFrom(...GROUPS),
  roleId: fc.constantFrom(...ROLES),
  connectorId: fc.constantFrom('c1', 'c2', '*'),
  toolName: fc.constantFrom(...TOOLS, '*'),
  tools: fc.subarray(TOOLS, { minLength: 1 }),
  workspaceId: fc.constantFrom('w1', 'w2'),
  apiKeyId: fc.constantFrom('k1', 'k2'),
  name: fc.constant('Name'),
  email: fc.constant('someone@example.test'),
  role: fc.constantFrom<unknown>('primary_owner', 'owner', 'admin', 'user', 'custom', null, 'developer', 'workspace_admin', 'workspace_developer'),
  seat: fc.constantFrom('chat', 'chat_claude_code'),
  capability: fc.constantFrom('chat', 'claude_code', 'voice'),
  enabled: fc.boolean(),
  disabled: fc.boolean(),
  granted: fc.boolean(),
  dualSeat: fc.boolean(),
  usageBased: fc.boolean(),
  area: fc.constantFrom('identity_access', 'billing', 'user_management'),
  level: fc.constantFrom('none', 'manage', 'blocked', 'always_allow', 'custom'),
  mode: fc.constantFrom('invite_only', 'jit', 'scim'),
  provisioningMode: fc.constantFrom('invite_only', 'scim'),
  source: fc.constantFrom('manual', 'scim'),
  precedence: fc.constantFrom('lowest', 'highest'),
  cents: fc.constantFrom(null, 0, 100),
};

const actor: fc.Arbitrary<CommandActor> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('member' as const),
      orgId: fc.constantFrom(...ORGS),
      userId: fc.constantFrom('u1', 'u2', 'u2', 'u3', 'u3', 'u4', 'u5'),
    }),
  },
  { weight: 3, arbitrary: fc.constant({ kind: 'system' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'scim' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'platform' as const }) },
);

/** A schema-valid command (those the random fields make invalid are dropped, as the HTTP edge would). */
const command: fc.Arbitrary<Command | undefined> = fc.constantFrom(...COMMAND_TYPES).chain((type) => {
  const shape = Object.keys(COMMANDS[type].payload.shape);
  return fc.record({ actor, payload: fc.record(Object.fromEntries(shape.map((f) => [f, field[f]!]))) }).map(({ actor, payload }) => {
    const parsed = CommandBody.safeParse({ type, actor, payload });
    return parsed.success ? (parsed.data as Command) : undefined;
  });
});

/**
 * Organizations o1 and o2, each with u1 primary owner, u2 owner, u3 admin, u4 user and u5 custom in group g1 with
 * role r1 (identity_access = manage), so that random commands have people with rights and things to act on.
 */
const system = { kind: 'system' } as const;
const PRELUDE: Command[] = [
  { type: 'CreateGroup', actor: system, payload: { groupId: 'g1', name: 'g1', source: 'manual' } },
  ...ORGS.flatMap((orgId): Command[] => [
    { type: 'CreateOrganization', actor: system, payload: { orgId, name: orgId, dualSeat: orgId === 'o2', provisioningMode: 'scim', usageBased: false } },
    ...(['primary_owner', 'owner', 'admin', 'user', 'custom'] as const).map(
      (role, i): Command => ({
        type: 'AddMember',
        actor: system,
        payload: { orgId, userId: `u${i + 1}`, email: 'someone@example.test', role },
      }),
    ),
    { type: 'CreateRole', actor: system, payload: { orgId, roleId: 'r1', name: 'r1' } },
    { type: 'SetRoleAdminPermission', actor: system, payload: { orgId, roleId: 'r1', area: 'identity_access', level: 'manage' } },
    { type: 'AssignRoleToGroup', actor: system, payload: { orgId, groupId: 'g1', roleId: 'r1' } },
    { type: 'AddConnector', actor: system, payload: { orgId, connectorId: 'c1', name: 'c1', tools: ['t1'] } },
    { type: 'CreateWorkspace', actor: system, payload: { orgId, workspaceId: 'w1', name: 'w1' } },
  ]),
  { type: 'AddUserToGroup', actor: system, payload: { groupId: 'g1', userId: 'u5' } },
];

function primaryOwners(r: FactReader, orgId: string): string[] {
  return USERS.filter((u) => {
    const status = r.value<MemberStatus>(lookupKey.memberStatus(orgId, u));
    return r.value<BuiltInRole>(lookupKey.memberRole(orgId, u)) === 'primary_owner' && (status === 'active' || status === 'suspended');
  });
}

function run(commands: Array<Command | undefined>): void {
  const facts = new FactStore();
  let position = 0;
  let t = Date.parse('2026-03-01T00:00:00.000Z');
  let ids = 0;
  for (const c of [...PRELUDE, ...commands]) {
    if (c === undefined) continue;
    t += 1000;
    const before = new FactReader(facts, NOW);
    const actorWasOwner = c.actor.kind === 'member' && isOwner(before.value<BuiltInRole>(lookupKey.memberRole(c.actor.orgId, c.actor.userId)));
    const decision = decide(facts, c, { at: t, newId: () => `e${++ids}` });
    if (decision.kind === 'violation') continue;
    const iso = new Date(t).toISOString();
    const size = JSON.stringify(facts.size);
    for (const event of decision.events) {
      expect(EVENT_DATA[event.type]!.safeParse(event.data).error).toBeUndefined();
      if (event.type === 'MemberRoleChanged' || event.type === 'MemberAdded') {
        const { orgId, userId, role } = event.data as { orgId: string; userId: string; role: BuiltInRole };
        const from = before.value<BuiltInRole>(lookupKey.memberRole(orgId, userId));
        const status = before.value<MemberStatus>(lookupKey.memberStatus(orgId, userId));
        // R22: only an owner (or a system actor) makes or unmakes an owner.
        if (c.actor.kind === 'member' && (isOwner(role) || (status !== 'removed' && isOwner(from)))) expect(actorWasOwner).toBe(true);
      }
      evolve(facts, {
        id: event.id,
        type: event.type,
        data: event.data as never,
        position: ++position,
        meta: { tenantId: 't', occurredAt: iso, recordedAt: iso, actor: c.actor, source: 'api', schemaVersion: 1 },
      });
    }
    if (decision.kind === 'refused') {
      expect(decision.events.map((e) => e.type)).toEqual(['AccessChangeDenied']);
      expect(JSON.stringify(facts.size)).toBe(size);
      continue;
    }
    expect(decision.events[0]!.type).toBe(COMMANDS[c.type].event);
    const after = new FactReader(facts, NOW);
    for (const orgId of ORGS) {
      const owners = primaryOwners(after, orgId);
      expect(owners.length).toBeLessThanOrEqual(1); // R23
      if (owners.length === 1) expect(after.value(lookupKey.primaryOwner(orgId))).toBe(owners[0]);
    }
  }
}

describe('decide over random command sequences', () => {
  it('R22, R23, R62: never throws; valid events; refusals change nothing; one primary owner at most; owners made by owners', () => {
    fc.assert(
      fc.property(fc.array(command, { minLength: 20, maxLength: 80 }), (commands) => run(commands)),
      { numRuns: 60 },
    );
  });
});
