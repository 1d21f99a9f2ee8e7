import { FactStore, accessAt, evolve, viewAt, type Actor, type EventData, type EventType, type MemberAccess } from '../../src/index.js';

/**
 * A test data builder for histories: events are folded straight into a fact store, with a clock that moves
 * forwards one second per event unless told otherwise. Builders name the things of a scenario, not event lists.
 */
export class History {
  readonly facts = new FactStore();
  private position = 0;
  private clock = Date.parse('2026-01-01T00:00:00.000Z');
  private ids = 0;

  /** Move the clock to an instant; later events take effect from there. */
  at(instant: string): this {
    this.clock = Date.parse(instant);
    return this;
  }

  now(): string {
    return new Date(this.clock).toISOString();
  }

  event<E extends EventType>(type: E, data: EventData<E>, options: { actor?: Actor; occurredAt?: string; recordedAt?: string } = {}): string {
    const id = `e${++this.ids}`;
    const occurredAt = options.occurredAt ?? new Date((this.clock += 1000)).toISOString();
    evolve(this.facts, {
      id,
      type,
      data,
      position: ++this.position,
      meta: {
        tenantId: 't',
        occurredAt,
        recordedAt: options.recordedAt ?? occurredAt,
        actor: options.actor ?? { kind: 'system' },
        source: 'seed',
        schemaVersion: 1,
      },
    });
    return id;
  }

  org(orgId: string, options: { dualSeat?: boolean; mode?: 'invite_only' | 'jit' | 'scim' } = {}): this {
    this.event('OrganizationCreated', { orgId, name: orgId, dualSeat: options.dualSeat ?? false, provisioningMode: options.mode ?? 'scim', usageBased: false });
    return this;
  }

  member(orgId: string, userId: string, role: 'primary_owner' | 'owner' | 'admin' | 'user' | 'custom', seat?: 'chat' | 'chat_claude_code'): this {
    this.event('MemberAdded', { orgId, userId, email: `${userId}@example.com`, role, ...(seat ? { seat } : {}) });
    return this;
  }

  group(groupId: string, source: 'manual' | 'scim' = 'manual', ...userIds: string[]): this {
    this.event('GroupCreated', { groupId, name: groupId, source });
    for (const userId of userIds) this.event('UserAddedToGroup', { groupId, userId });
    return this;
  }

  /** A custom role granting the given capabilities (chat is granted by creation, R7, unless listed with a `-`). */
  role(orgId: string, roleId: string, ...capabilities: string[]): this {
    this.event('RoleCreated', { orgId, roleId, name: roleId });
    for (const c of capabilities) {
      if (c.startsWith('-')) this.event('RoleCapabilitySet', { orgId, roleId, capability: c.slice(1), granted: false });
      else this.event('RoleCapabilitySet', { orgId, roleId, capability: c, granted: true });
    }
    return this;
  }

  assign(orgId: string, groupId: string, roleId: string): this {
    this.event('RoleAssignedToGroup', { orgId, groupId, roleId });
    return this;
  }

  connector(orgId: string, connectorId: string, ...tools: string[]): this {
    this.event('ConnectorAdded', { orgId, connectorId, name: connectorId, tools });
    return this;
  }

  access(orgId: string, userId: string, at?: string, knownAt?: string): MemberAccess {
    const view = viewAt(at ? Date.parse(at) : Number.POSITIVE_INFINITY, knownAt ? Date.parse(knownAt) : Number.POSITIVE_INFINITY);
    const a = accessAt(this.facts, view, orgId, userId);
    if (!a) throw new Error(`${userId} is not a member of ${orgId} at ${at ?? 'now'}`);
    return a;
  }
}
