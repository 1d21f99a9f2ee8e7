import type { RecordedEvent } from '@access-ledger/event-store';

/**
 * A deterministic synthetic history for crash tests and the benchmark when libs/history is not used:
 * event i of `count`, spread over `tenants` tenants and `orgs` organizations, one event every `stepMs`.
 */
const TYPES = [
  'MemberAdded',
  'UserAddedToGroup',
  'RoleCapabilitySet',
  'MemberRoleChanged',
  'ApiKeyCreated',
  'UserRemovedFromGroup',
  'AccessChangeDenied',
  'SetOrgToolPolicy',
];

export function syntheticEvent(i: number, options: { tenants?: number; orgs?: number; users?: number; start?: number; stepMs?: number } = {}): RecordedEvent {
  const tenants = options.tenants ?? 3;
  const orgs = options.orgs ?? 4;
  const users = options.users ?? 5000;
  const start = options.start ?? Date.parse('2024-01-01T00:00:00.000Z');
  const stepMs = options.stepMs ?? 30_000;
  const tenant = `t${i % tenants}`;
  const orgId = `${tenant}-org${(i >> 2) % orgs}`;
  const userId = `u${(i * 7919) % users}`;
  const type = TYPES[i % TYPES.length]!;
  const at = new Date(start + i * stepMs).toISOString();
  return {
    id: `ev-${i}`,
    type,
    data: { orgId, userId, groupId: `g${i % 50}`, role: 'custom', note: `synthetic event ${i}` },
    metadata: {
      tenantId: tenant,
      occurredAt: at,
      recordedAt: at,
      actor: { kind: 'member', orgId, userId: `u${i % 17}` },
      source: 'api',
      correlationId: `c-${i}`,
      schemaVersion: 1,
    },
    streamId: `tenant-${tenant}`,
    revision: Math.floor(i / tenants),
    position: i,
    prevHash: '0'.repeat(64),
    hash: i.toString(16).padStart(64, '0'),
  };
}

export async function* syntheticEvents(count: number, after = -1): AsyncIterable<RecordedEvent> {
  for (let i = Math.max(0, after + 1); i < count; i++) yield syntheticEvent(i);
}
