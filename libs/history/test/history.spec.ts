import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { demoHistory, estimateCommands, generateHistory, type CommandBody, type HistoryItem, type HistoryOptions, type ImportLine } from '../src/index.js';
import { COMMAND_OF, commandProblems, ImportLineShape, PAYLOADS } from './http-api-shapes.js';
import { Referee } from './referee.js';

const small: HistoryOptions = { ...demoHistory, seed: 7, users: 160, groups: 14, customRoles: 6, connectors: 4, years: 0.5, orgs: 3 };

function collect(options: HistoryOptions): HistoryItem[] {
  return [...generateHistory(options)];
}

function digest(options: HistoryOptions): string {
  const hash = createHash('sha256');
  for (const item of generateHistory(options)) hash.update(JSON.stringify(item)).update('\n');
  return hash.digest('hex');
}

const items = collect(small);
const commands = items.filter((i): i is Extract<HistoryItem, { kind: 'command' }> => i.kind === 'command');

describe('generateHistory — reproducible', () => {
  it('gives byte-identical output for the same seed, and a different history for another seed', () => {
    expect(digest(small)).toBe(digest(small));
    expect(digest({ ...small, seed: 8 })).not.toBe(digest(small));
  });

  it('yields exactly estimateCommands commands (the demo preset too)', () => {
    expect(commands.length).toBe(estimateCommands(small));
    let n = 0;
    for (const item of generateHistory(demoHistory)) if (item.kind === 'command') n++;
    expect(n).toBe(estimateCommands(demoHistory));
  });
});

describe('generateHistory — the HTTP contract (http-api.md)', () => {
  it('every command body parses against the command shapes, with valid ids', () => {
    const bad = commands.map((c) => ({ type: c.command.type, problems: commandProblems(c.command) })).filter((x) => x.problems.length > 0);
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it('uses every command type of the catalog at least once over the demo history', () => {
    const seen = new Set<string>();
    for (const item of generateHistory(demoHistory)) if (item.kind === 'command') seen.add(item.command.type);
    expect([...Object.keys(PAYLOADS)].filter((t) => !seen.has(t))).toEqual([]);
  });

  it('occurredAt never goes backwards between commands and stays inside the requested years', () => {
    let last = '';
    for (const { command } of commands) {
      expect(command.occurredAt >= last).toBe(true);
      last = command.occurredAt;
    }
    expect(commands[0]!.command.occurredAt).toBe(small.start);
    expect(Date.parse(last)).toBeLessThanOrEqual(Date.parse(small.start) + small.years * 366 * 86_400_000);
  });

  it('R61: every import line is a valid event line dated before commands already yielded', () => {
    let latest = '';
    const ids = new Set<string>();
    let batches = 0;
    for (const item of items) {
      if (item.kind === 'command') {
        if (item.command.occurredAt > latest) latest = item.command.occurredAt;
        continue;
      }
      batches++;
      for (const line of item.lines) {
        expect(ImportLineShape.safeParse(line).success).toBe(true);
        expect(line.occurredAt < latest).toBe(true);
        expect(ids.has(line.id)).toBe(false);
        ids.add(line.id);
        // data holds the payload fields of the event's command
        expect(PAYLOADS[COMMAND_OF[line.type]!]!.safeParse(line.data).success).toBe(true);
      }
    }
    expect(batches).toBe(small.lateImports ?? 4);
  });

  it('idempotency keys are unique', () => {
    const keys = new Set(commands.map((c) => c.command.idempotencyKey));
    expect(keys.size).toBe(commands.length);
  });
});

describe('generateHistory — valid in order (R22, R23, R24, R62)', () => {
  function referee(options: HistoryOptions) {
    const ref = new Referee();
    const problems: string[] = [];
    let refused = 0;
    let index = 0;
    for (const item of generateHistory(options)) {
      if (item.kind === 'import') {
        for (const line of item.lines) {
          const why = ref.importLine(line as ImportLine);
          if (why) problems.push(`import ${line.id} ${line.type}: ${why}`);
        }
        continue;
      }
      const verdict = ref.judge(item.command as CommandBody);
      if (item.refused) {
        refused++;
        if (verdict.refusal === undefined) problems.push(`#${index} ${item.command.type} marked refused but allowed`);
      } else if (verdict.refusal !== undefined || verdict.invalid !== undefined) {
        problems.push(
          `#${index} ${item.command.type} ${JSON.stringify(item.command.actor)} ${JSON.stringify(item.command.payload)}: ${verdict.refusal ?? verdict.invalid}`,
        );
      }
      index++;
    }
    return { problems, refused, ref };
  }

  it('every command is allowed and references only what exists, except the ones marked refused', () => {
    const { problems, refused } = referee(small);
    expect(problems.slice(0, 8)).toEqual([]);
    expect(refused).toBeGreaterThanOrEqual(6);
  });

  it('stays valid for other seeds and shapes (one organization, many organizations)', () => {
    for (const options of [
      { ...small, seed: 1, orgs: 1 },
      { ...small, seed: 2, orgs: 6, users: 220 },
      { ...demoHistory, seed: 99 },
    ]) {
      expect(referee(options).problems.slice(0, 8)).toEqual([]);
    }
  });

  it('R23: each organization starts with its primary owner, added by system', () => {
    const firstMember = new Map<string, CommandBody>();
    for (const { command } of commands) {
      if (command.type === 'AddMember' && !firstMember.has(command.payload.orgId)) firstMember.set(command.payload.orgId, command);
    }
    expect(firstMember.size).toBe(small.orgs);
    for (const c of firstMember.values()) {
      expect(c.actor).toEqual({ kind: 'system' });
      expect((c.payload as { role: string }).role).toBe('primary_owner');
    }
  });
});

describe('generateHistory — what it models', () => {
  const count = (type: string, list = commands) => list.filter((c) => c.command.type === type).length;

  it('models the brief: SCIM churn, platform overrides, catalog additions, mappings, refusals, keys of leavers', () => {
    const actors = new Set(commands.map((c) => c.command.actor.kind));
    expect([...actors].sort()).toEqual(['member', 'platform', 'scim', 'system']);
    expect(commands.filter((c) => c.command.type === 'AddUserToGroup' && c.command.actor.kind === 'scim').length).toBeGreaterThan(100);
    expect(count('AddCapabilityToCatalog')).toBe(2);
    expect(count('SetGroupRoleMapping')).toBeGreaterThan(0);
    expect(count('EnableConnectorPermissions')).toBe(2);
    expect(commands.some((c) => c.command.type === 'SetOrgToolPolicy' && (c.command.payload as { level: string }).level === 'blocked')).toBe(true);
    // R53: some keys' creators have left their organization while the key is still active
    const creator = new Map<string, string>();
    const active = new Set<string>();
    const gone = new Set<string>();
    for (const { command: c } of commands) {
      if (c.type === 'CreateApiKey') {
        creator.set(c.payload.apiKeyId, `${c.payload.orgId}|${c.payload.createdBy}`);
        active.add(c.payload.apiKeyId);
      }
      if (c.type === 'RevokeApiKey') active.delete(c.payload.apiKeyId);
      if (c.type === 'RemoveMember') gone.add(`${c.payload.orgId}|${c.payload.userId}`);
    }
    expect([...active].some((k) => gone.has(creator.get(k)!))).toBe(true);
  });

  it('counts grow with the parameters (users, groups, roles, connectors)', () => {
    const bigger = collect({
      ...small,
      users: small.users * 2,
      groups: small.groups * 2,
      customRoles: small.customRoles * 2,
      connectors: small.connectors * 2,
    }).filter((i): i is Extract<HistoryItem, { kind: 'command' }> => i.kind === 'command');
    const ratio = bigger.length / commands.length;
    expect(ratio).toBeGreaterThan(1.7);
    expect(ratio).toBeLessThan(2.3);
    const distinctUsers = (list: typeof commands) =>
      new Set(list.filter((c) => c.command.type === 'AddMember' && !c.refused).map((c) => (c.command.payload as { userId: string }).userId)).size;
    expect(distinctUsers(commands)).toBe(small.users);
    expect(distinctUsers(bigger)).toBe(small.users * 2);
    expect(count('CreateGroup')).toBe(small.groups);
    expect(count('CreateGroup', bigger)).toBe(small.groups * 2);
    const created = (list: typeof commands) => list.filter((c) => c.command.type === 'CreateRole' && !c.refused).length;
    expect(created(commands)).toBe(small.customRoles);
    expect(created(bigger)).toBe(small.customRoles * 2);
    expect(count('AddConnector')).toBe(small.connectors * small.orgs);
    expect(count('AddConnector', bigger)).toBe(small.connectors * 2 * small.orgs);
  });
});

describe('the referee used above catches what it should', () => {
  it('refuses an admin making an owner (R22) and flags references to unknown things (R62)', () => {
    const ref = new Referee();
    const at = small.start;
    const sys = { kind: 'system' } as const;
    const c = (type: string, actor: CommandBody['actor'], payload: object) => ({ type, actor, occurredAt: at, payload }) as CommandBody;
    expect(ref.judge(c('CreateOrganization', sys, { orgId: 'o', name: 'O', dualSeat: false, provisioningMode: 'invite_only', usageBased: true }))).toEqual({});
    expect(ref.judge(c('AddMember', sys, { orgId: 'o', userId: 'a', email: 'a@x', role: 'user' })).invalid).toMatch(/R23/);
    expect(ref.judge(c('AddMember', sys, { orgId: 'o', userId: 'p', email: 'p@x', role: 'primary_owner' }))).toEqual({});
    expect(ref.judge(c('AddMember', { kind: 'member', orgId: 'o', userId: 'p' }, { orgId: 'o', userId: 'ad', email: 'ad@x', role: 'admin' }))).toEqual({});
    expect(ref.judge(c('AddMember', { kind: 'member', orgId: 'o', userId: 'ad' }, { orgId: 'o', userId: 'z', email: 'z@x', role: 'owner' })).refusal).toMatch(
      /R22/,
    );
    expect(ref.judge(c('AddUserToGroup', sys, { groupId: 'nope', userId: 'p' })).invalid).toMatch(/unknown group/);
    expect(ref.judge(c('SetMemberSpendLimit', sys, { orgId: 'o', userId: 'ghost', cents: 5 })).invalid).toMatch(/unknown member/);
    expect(ref.judge(c('CreateRole', { kind: 'scim' }, { orgId: 'o', roleId: 'r', name: 'R' })).refusal).toMatch(/R24/);
  });
});
