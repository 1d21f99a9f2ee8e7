import { createHash } from 'node:crypto';
import { BuiltInRole, FactReader, type FactStore, lookupKey, membersAt, viewAt } from '@access-ledger/access-model';
import { type ComplianceApiClient, ORG_SCOPE, USER_SCOPE } from './compliance-api/client.js';
import { observeRoleUpdate } from './compliance-api/observe.js';
import { type ImportPort, type SourcesStore, type SyncOptions, type SyncReport, syncOnce } from './sync.js';

/**
 * Baseline and drift (docs/sources.md § Baseline, § Drift): both compare the directory endpoints of the Compliance API
 * — `GET /v1/compliance/organizations` and `GET /v1/compliance/organizations/{org_uuid}/users` (Organizations, users,
 * roles, and groups page: `data`, opaque `next_page`, `limit` ≤ 1000) — with the members the ledger projects at the
 * same instant.
 * - The baseline, once, at the first sync: what the directory shows and the ledger does not know becomes the initial
 *   state, recorded at the baseline instant as observed (`evidence.observedAtIngestion`), never back-dated.
 * - Drift, afterwards, on demand and on a schedule: every difference is recorded as a `DriftDetected` event (what the
 *   ledger believes, what the API says, since when at least) and kept open until a later comparison no longer finds
 *   it; nothing is corrected.
 */
export interface LedgerView extends ImportPort {
  factsFor(tenantId: string): Promise<FactStore>;
}

interface DirectoryUser {
  readonly id: string;
  readonly email_address?: string;
  readonly role?: string;
}

export interface DriftItem {
  /** The organization; '' for a group membership (groups belong to the tenant). */
  readonly orgId: string;
  readonly userId: string;
  /** Set for a group membership. */
  readonly groupId?: string;
  readonly ledger: { role: string; status: string } | { member: boolean } | null;
  readonly api: { role: string | null; email: string | null } | { member: boolean } | null;
  readonly sinceAtLeast: string;
}

export interface DriftReport {
  readonly at: string;
  readonly open: readonly DriftItem[];
  readonly detected: number;
  readonly resolved: number;
}

function ensureTables(store: SourcesStore): void {
  store.db.exec(`
    CREATE TABLE IF NOT EXISTS drift (
      source TEXT NOT NULL, org_id TEXT NOT NULL, user_id TEXT NOT NULL, ledger_json TEXT NOT NULL, api_json TEXT NOT NULL,
      since TEXT NOT NULL, last_seen TEXT NOT NULL, resolved_at TEXT,
      PRIMARY KEY (source, org_id, user_id, since)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS baselines (source TEXT PRIMARY KEY, at TEXT NOT NULL, events INTEGER NOT NULL);
  `);
}

interface DirectoryGroup {
  /** The group as the directory lists it (kept as evidence). */
  readonly record: Record<string, unknown>;
  /** Its members by user id, each with its record. */
  readonly members: Map<string, unknown>;
}

/** Every group the directory lists with its members (`GET /v1/compliance/groups`, `…/groups/{id}/members`). */
async function directoryGroups(client: ComplianceApiClient): Promise<Map<string, DirectoryGroup>> {
  const groups = (await client.list('/v1/compliance/groups', ORG_SCOPE)) as Record<string, unknown>[];
  const out = new Map<string, DirectoryGroup>();
  for (const g of groups) {
    if (typeof g.id !== 'string') continue;
    const members = (await client.list(`/v1/compliance/groups/${encodeURIComponent(g.id)}/members`, USER_SCOPE)) as { user_id?: string; id?: string }[];
    const byUser = new Map<string, unknown>();
    for (const m of members) {
      const userId = m.user_id ?? m.id;
      if (typeof userId === 'string') byUser.set(userId, m);
    }
    out.set(g.id, { record: g, members: byUser });
  }
  return out;
}

/** The users the ledger holds in a group at the reader's instant. */
function ledgerGroupMembers(r: FactReader, groupId: string): Set<string> {
  const members = new Set<string>();
  for (const userId of r.items(lookupKey.usersOfGroup(groupId))) if (r.value<boolean>(lookupKey.inGroup(groupId, userId)) === true) members.add(userId);
  return members;
}

/** Memberships of the directory's groups the ledger disagrees with (groups only the ledger has are not compared). */
function compareGroups(facts: FactStore, at: number, groups: Map<string, DirectoryGroup>): Compared[] {
  const r = new FactReader(facts, viewAt(at, at));
  const diffs: Compared[] = [];
  for (const [groupId, { members: apiMembers }] of groups) {
    const ledgerMembers = ledgerGroupMembers(r, groupId);
    for (const userId of apiMembers.keys())
      if (!ledgerMembers.has(userId)) diffs.push({ orgId: '', groupId, userId, ledger: { member: false }, api: { member: true } });
    for (const userId of ledgerMembers)
      if (!apiMembers.has(userId)) diffs.push({ orgId: '', groupId, userId, ledger: { member: true }, api: { member: false } });
  }
  return diffs;
}

async function directory(client: ComplianceApiClient): Promise<Map<string, DirectoryUser[]>> {
  const orgs = (await client.list('/v1/compliance/organizations', ORG_SCOPE)) as { uuid?: string; id?: string }[];
  const out = new Map<string, DirectoryUser[]>();
  for (const org of orgs) {
    const uuid = org.uuid ?? org.id;
    if (typeof uuid !== 'string') continue;
    out.set(uuid, (await client.list(`/v1/compliance/organizations/${encodeURIComponent(uuid)}/users`, USER_SCOPE)) as DirectoryUser[]);
  }
  return out;
}

type Compared = { orgId: string; userId: string; groupId?: string; ledger: DriftItem['ledger']; api: DriftItem['api']; user?: DirectoryUser };

async function compare(
  ledger: LedgerView,
  tenantId: string,
  dir: Map<string, DirectoryUser[]>,
  at: number,
): Promise<{ diffs: Compared[]; knownOrgs: Set<string> }> {
  const facts = await ledger.factsFor(tenantId);
  const view = viewAt(at, at);
  const diffs: Compared[] = [];
  const knownOrgs = new Set<string>();
  for (const [orgId, users] of dir) {
    const members = membersAt(facts, view, orgId).filter((m) => m.status !== 'removed');
    if (members.length > 0) knownOrgs.add(orgId);
    const byId = new Map(members.map((m) => [m.userId, m]));
    const seen = new Set<string>();
    for (const u of users) {
      seen.add(u.id);
      const m = byId.get(u.id);
      const api = { role: u.role ?? null, email: u.email_address ?? null };
      if (!m) diffs.push({ orgId, userId: u.id, ledger: null, api, user: u });
      else if (u.role !== undefined && u.role !== m.role) diffs.push({ orgId, userId: u.id, ledger: { role: m.role, status: m.status }, api, user: u });
    }
    for (const m of members) if (!seen.has(m.userId)) diffs.push({ orgId, userId: m.userId, ledger: { role: m.role, status: m.status }, api: null });
  }
  return { diffs, knownOrgs };
}

/**
 * The first sync with its baseline: stage the feed; record the organizations of the directory the ledger does not know
 * (so the feed's activities can refer to them); apply the feed; then record the members the directory shows and the
 * ledger still lacks (or holds with another role), the groups and group memberships likewise, and for each organization
 * the baseline created a `BaselineRecorded` (before it, its access is unknown), all at the baseline instant, observed.
 * Later syncs are plain syncs.
 */
export async function syncWithBaseline(
  store: SourcesStore,
  name: string,
  client: ComplianceApiClient,
  ledger: LedgerView,
  options: SyncOptions = {},
): Promise<SyncReport & { baselineEvents?: number }> {
  ensureTables(store);
  const def = store.get(name);
  if (!def) throw new Error(`no source named ${name}`);
  options = { observe: observeRoleUpdate(client), ...options };
  if (store.db.prepare('SELECT 1 FROM baselines WHERE source = ?').get(name)) return syncOnce(store, name, client, ledger, options);
  const now = Date.now();
  let orgEvents = 0;
  const report = await syncOnce(store, name, client, ledger, {
    ...options,
    beforeApply: async () => {
      // Only once the whole backfill is staged.
      if (store.get(name)!.phase !== 'follow') return;
      orgEvents = await baselineOrganizations(store, name, def.tenantId, client, ledger, now);
    },
  });
  if (store.get(name)!.phase !== 'follow') return report;
  // Compared as known now (after the feed was applied), recorded at now.
  const memberEvents = await recordBaseline(store, name, client, ledger);
  return { ...report, baselineEvents: orgEvents + (memberEvents ?? 0) };
}

const baselineLine = (name: string, at: string, id: string, type: string, data: Record<string, unknown>, record: unknown) =>
  JSON.stringify({
    id: `cab.${name}.${id}`,
    type,
    occurredAt: at,
    actor: { kind: 'import' },
    source: 'compliance-api',
    data,
    evidence: { observedAtIngestion: true, baseline: true, directoryRecord: record },
  });

async function baselineOrganizations(
  store: SourcesStore,
  name: string,
  tenantId: string,
  client: ComplianceApiClient,
  ledger: LedgerView,
  now: number,
): Promise<number> {
  const at = new Date(now).toISOString();
  const facts = await ledger.factsFor(tenantId);
  const view = viewAt(now, now);
  const orgs = (await client.list('/v1/compliance/organizations', ORG_SCOPE)) as { uuid?: string; id?: string; name?: string }[];
  const lines: string[] = [];
  for (const org of orgs) {
    const uuid = org.uuid ?? org.id;
    if (typeof uuid !== 'string' || membersAt(facts, view, uuid).length > 0) continue;
    // Created by the feed itself: its own org_created activity makes it, at its own created_at.
    const created = store.db
      .prepare("SELECT 1 FROM activities WHERE source = ? AND type = 'org_created' AND json LIKE ?")
      .get(name, `%"organization_uuid":${JSON.stringify(uuid)}%`);
    if (created) continue;
    lines.push(
      baselineLine(
        name,
        at,
        `org.${uuid}`,
        'OrganizationCreated',
        { orgId: uuid, name: org.name ?? uuid, dualSeat: false, provisioningMode: 'invite_only', usageBased: false },
        org,
      ),
    );
  }
  if (lines.length === 0) return 0;
  const outcome = await ledger.importEvents(tenantId, lines.join('\n'));
  if (outcome.kind !== 'imported') {
    // An organization the feed itself created (org_created) is refused as reused: keep the others.
    let n = 0;
    for (const l of lines) {
      const one = await ledger.importEvents(tenantId, l);
      if (one.kind === 'imported') n += one.appended;
    }
    return n;
  }
  return outcome.appended;
}

/**
 * The directory part of the baseline (a no-op once recorded): members, groups and their members, and the organizations'
 * `BaselineRecorded`. Returns the number of events it recorded.
 */
export async function recordBaseline(
  store: SourcesStore,
  name: string,
  client: ComplianceApiClient,
  ledger: LedgerView,
  now = Date.now(),
): Promise<number | undefined> {
  ensureTables(store);
  const def = store.get(name);
  if (!def) throw new Error(`no source named ${name}`);
  if (store.db.prepare('SELECT 1 FROM baselines WHERE source = ?').get(name)) return undefined;
  const dir = await directory(client);
  const { diffs } = await compare(ledger, def.tenantId, dir, now);
  const at = new Date(now).toISOString();
  const lines: string[] = [];
  const line = (id: string, type: string, data: Record<string, unknown>, record: unknown) => lines.push(baselineLine(name, at, id, type, data, record));
  for (const d of diffs) {
    if (!d.user || d.api === null) continue; // members only the ledger knows: left to drift detection
    const role = BuiltInRole.safeParse(d.user.role);
    if (!role.success) continue;
    if (d.ledger === null) {
      if (!d.user.email_address) continue;
      line(`member.${d.orgId}.${d.userId}`, 'MemberAdded', { orgId: d.orgId, userId: d.userId, email: d.user.email_address, role: role.data }, d.user);
    } else line(`role.${d.orgId}.${d.userId}`, 'MemberRoleChanged', { orgId: d.orgId, userId: d.userId, role: role.data }, d.user);
  }
  // The directory's groups and their members, as the members: what the ledger lacks, at the baseline instant. A group
  // the ledger deleted is left to drift detection (its id cannot be created again); so are members only the ledger has.
  const facts = await ledger.factsFor(def.tenantId);
  const r = new FactReader(facts, viewAt(now, now));
  for (const [groupId, g] of await directoryGroups(client)) {
    const state = r.value(lookupKey.group(groupId)); // undefined: never created; null: deleted
    if (state === null) continue;
    const known = state !== undefined;
    if (!known) {
      const name = typeof g.record.name === 'string' && g.record.name !== '' ? g.record.name : groupId;
      line(`group.${groupId}`, 'GroupCreated', { groupId, name, source: g.record.source === 'scim' ? 'scim' : 'manual' }, g.record);
    }
    const inLedger = known ? ledgerGroupMembers(r, groupId) : new Set<string>();
    for (const [userId, record] of g.members) if (!inLedger.has(userId)) line(`group.${groupId}.${userId}`, 'UserAddedToGroup', { groupId, userId }, record);
  }
  // The organizations this source's baseline created: their record starts here (docs/sources.md § Baseline).
  for (const [orgId, users] of dir) {
    const created = facts.history(lookupKey.org(orgId))[0];
    if (created?.ev.eventId === `cab.${name}.org.${orgId}`)
      line(`baseline.${orgId}`, 'BaselineRecorded', { orgId, source: name, sourceKind: 'compliance-api' }, { organization: orgId, users: users.length });
  }
  let events = 0;
  if (lines.length > 0) {
    const outcome = await ledger.importEvents(def.tenantId, lines.join('\n'));
    if (outcome.kind !== 'imported')
      throw new Error(`the baseline was refused by the ledger: ${outcome.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
    events = outcome.appended;
  }
  store.db.prepare('INSERT INTO baselines (source, at, events) VALUES (?, ?, ?)').run(name, at, events);
  return events;
}

export function baselineOf(store: SourcesStore, name: string): { at: string; events: number } | undefined {
  ensureTables(store);
  return store.db.prepare('SELECT at, events FROM baselines WHERE source = ?').get(name) as never;
}

/** Compare now; record each new difference as a DriftDetected event; close drift no longer found. */
export async function detectDrift(store: SourcesStore, name: string, client: ComplianceApiClient, ledger: LedgerView, now = Date.now()): Promise<DriftReport> {
  ensureTables(store);
  const def = store.get(name);
  if (!def) throw new Error(`no source named ${name}`);
  const dir = await directory(client);
  const groups = await directoryGroups(client);
  const { diffs } = await compare(ledger, def.tenantId, dir, now);
  diffs.push(...compareGroups(await ledger.factsFor(def.tenantId), now, groups));
  const at = new Date(now).toISOString();
  const open = store.db.prepare('SELECT org_id, user_id, ledger_json, api_json, since FROM drift WHERE source = ? AND resolved_at IS NULL').all(name) as {
    org_id: string;
    user_id: string;
    ledger_json: string;
    api_json: string;
    since: string;
  }[];
  const openByKey = new Map(open.map((o) => [`${o.org_id}\u0000${o.user_id}\u0000${o.ledger_json}\u0000${o.api_json}`, o]));
  const still = new Set<string>();
  const lines: string[] = [];
  const upsert = store.db.prepare('INSERT INTO drift (source, org_id, user_id, ledger_json, api_json, since, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const touch = store.db.prepare('UPDATE drift SET last_seen = ? WHERE source = ? AND org_id = ? AND user_id = ? AND since = ?');
  let detected = 0;
  store.db.exec('BEGIN IMMEDIATE');
  try {
    for (const d of diffs) {
      const l = JSON.stringify(d.ledger);
      const a = JSON.stringify(d.api);
      // A group membership is stored under `group:<groupId>/<userId>` (and orgId '').
      const subjectKey = d.groupId === undefined ? d.userId : `group:${d.groupId}/${d.userId}`;
      const key = `${d.orgId}\u0000${subjectKey}\u0000${l}\u0000${a}`;
      still.add(key);
      const known = openByKey.get(key);
      if (known) {
        touch.run(at, name, d.orgId, subjectKey, known.since);
        continue;
      }
      detected++;
      upsert.run(name, d.orgId, subjectKey, l, a, at, at);
      const id = `drift.${createHash('sha256').update(`${name}\u0000${key}\u0000${at}`).digest('hex').slice(0, 32)}`;
      lines.push(
        JSON.stringify({
          id,
          type: 'DriftDetected',
          occurredAt: at,
          actor: { kind: 'import' },
          source: 'compliance-api',
          data: {
            ...(d.orgId ? { orgId: d.orgId } : {}),
            source: name,
            subject: d.groupId === undefined ? { kind: 'member', userId: d.userId } : { kind: 'group-member', userId: d.userId, groupId: d.groupId },
            ledger: d.ledger,
            api: d.api,
            sinceAtLeast: at,
          },
        }),
      );
    }
    let resolved = 0;
    const resolve = store.db.prepare('UPDATE drift SET resolved_at = ? WHERE source = ? AND org_id = ? AND user_id = ? AND since = ?');
    for (const [key, o] of openByKey) {
      if (still.has(key)) continue;
      resolve.run(at, name, o.org_id, o.user_id, o.since);
      resolved++;
    }
    store.db.exec('COMMIT');
    if (lines.length > 0) {
      const outcome = await ledger.importEvents(def.tenantId, lines.join('\n'));
      if (outcome.kind !== 'imported')
        throw new Error(`DriftDetected refused by the ledger: ${outcome.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
    }
    return { at, open: openDrift(store, name), detected, resolved };
  } catch (error) {
    if (store.db.isTransaction) store.db.exec('ROLLBACK');
    throw error;
  }
}

/** The open drift of a source (the report). */
export function openDrift(store: SourcesStore, name: string): DriftItem[] {
  ensureTables(store);
  return (
    store.db
      .prepare('SELECT org_id, user_id, ledger_json, api_json, since FROM drift WHERE source = ? AND resolved_at IS NULL ORDER BY org_id, user_id')
      .all(name) as {
      org_id: string;
      user_id: string;
      ledger_json: string;
      api_json: string;
      since: string;
    }[]
  ).map((r) => {
    const group = /^group:([^/]+)\/(.+)$/.exec(r.user_id);
    return {
      orgId: r.org_id,
      userId: group ? group[2]! : r.user_id,
      ...(group ? { groupId: group[1]! } : {}),
      ledger: JSON.parse(r.ledger_json),
      api: JSON.parse(r.api_json),
      sinceAtLeast: r.since,
    };
  });
}
