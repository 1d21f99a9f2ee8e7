import { pathToFileURL } from 'node:url';
import { evolve, FactStore, groupAt, groupsAt, holdersOf, membersAt, viewAt, type EventData, type EventType, type View } from '@access-ledger/access-model';

/**
 * The groups discovery queries (docs/api.md § Routes: `GET /orgs/{o}/groups`, `GET /orgs/{o}/groups/{g}`) on a tenant
 * shaped like the benchmark preset's: 12 000 members spread over 10 organizations, 600 groups with a role in one
 * organization each, every member in two of them and in one tenant-wide SCIM group. Folded straight into a fact store
 * (no I/O): the figures are the queries' own. Same-run baselines: the organization's member listing (`membersAt`, the
 * members route without paging) and the holders of a capability (`holdersOf`, which evaluates every member).
 */

export interface GroupsBenchResult {
  readonly groupsP50Ms: number;
  readonly groupP50Ms: number;
  readonly membersP50Ms: number;
  readonly holdersP50Ms: number;
}

const ORGS = 10;
const USERS = 12_000;
const GROUPS = 600;

function tenant(): { facts: FactStore; past: View } {
  const facts = new FactStore();
  let position = 0;
  let clock = Date.parse('2025-01-01T00:00:00.000Z');
  const event = <E extends EventType>(type: E, data: EventData<E>) => {
    const occurredAt = new Date((clock += 1000)).toISOString();
    const meta = { tenantId: 't', occurredAt, recordedAt: occurredAt, actor: { kind: 'system' as const }, source: 'seed' as const, schemaVersion: 1 };
    evolve(facts, { id: `e${++position}`, type, data, position, meta });
  };
  for (let o = 0; o < ORGS; o++) {
    event('OrganizationCreated', { orgId: `o${o}`, name: `Org ${o}`, dualSeat: false, provisioningMode: 'scim', usageBased: false });
    for (let r = 0; r < 8; r++) event('RoleCreated', { orgId: `o${o}`, roleId: `r${r}`, name: `Role ${r}` });
  }
  for (let u = 0; u < USERS; u++)
    event('MemberAdded', { orgId: `o${u % ORGS}`, userId: `u${u}`, email: `u${u}@example.test`, role: u % 5 === 0 ? 'user' : 'custom' });
  for (let g = 0; g < GROUPS; g++) {
    event('GroupCreated', { groupId: `g${g}`, name: `Group ${g}`, source: 'manual' });
    event('RoleAssignedToGroup', { orgId: `o${g % ORGS}`, groupId: `g${g}`, roleId: `r${g % 8}` });
  }
  event('GroupCreated', { groupId: 'all-staff', name: 'All staff', source: 'scim' });
  const half = clock;
  for (let u = 0; u < USERS; u++) {
    event('UserAddedToGroup', { groupId: `g${u % GROUPS}`, userId: `u${u}` });
    event('UserAddedToGroup', { groupId: `g${(u * 7 + 3) % GROUPS}`, userId: `u${u}` });
    event('UserAddedToGroup', { groupId: 'all-staff', userId: `u${u}` });
  }
  return { facts, past: viewAt(half + (clock - half) / 2) };
}

function p50(run: () => unknown, rounds = 41): number {
  for (let i = 0; i < 5; i++) run();
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    run();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[rounds >> 1]!;
}

export function benchGroups(log: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): GroupsBenchResult {
  const { facts, past } = tenant();
  const now = viewAt(Number.POSITIVE_INFINITY);
  const org = 'o3';
  const listed = groupsAt(facts, now, org);
  log(
    `tenant: ${facts.events.toLocaleString('en')} events, ${USERS.toLocaleString('en')} members in ${ORGS} organizations, ${GROUPS + 1} groups; ${org}: ${listed.length} groups listed`,
  );
  const groupsP50Ms = p50(() => groupsAt(facts, now, org));
  const groupsPastP50Ms = p50(() => groupsAt(facts, past, org));
  const groupP50Ms = p50(() => groupAt(facts, now, org, 'all-staff'));
  const smallGroupP50Ms = p50(() => groupAt(facts, now, org, 'g3'));
  const membersP50Ms = p50(() => membersAt(facts, now, org));
  const holdersP50Ms = p50(() => holdersOf(facts, now, org, { capability: 'chat' }), 11);
  log(`groups of ${org} now: p50 ${groupsP50Ms.toFixed(2)} ms; at a past instant: p50 ${groupsPastP50Ms.toFixed(2)} ms`);
  log(
    `one group: the tenant-wide group (12 000 users) seen from ${org}: p50 ${groupP50Ms.toFixed(2)} ms; a group of ~40 users: p50 ${smallGroupP50Ms.toFixed(2)} ms`,
  );
  log(
    `baselines, same run: ${org}'s members listed (membersAt) p50 ${membersP50Ms.toFixed(2)} ms; holders of chat in ${org} (holdersOf) p50 ${holdersP50Ms.toFixed(2)} ms`,
  );
  log(`ratios: groups / members ${(groupsP50Ms / membersP50Ms).toFixed(2)}, groups / holders ${(groupsP50Ms / holdersP50Ms).toFixed(2)}`);
  return { groupsP50Ms, groupP50Ms, membersP50Ms, holdersP50Ms };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) benchGroups();
