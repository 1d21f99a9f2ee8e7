import { z } from 'zod';
import {
  BuiltInRole,
  catalogAt,
  groupAt,
  groupsAt,
  membersAt,
  organizationsAt,
  orgExists,
  viewAt,
  type FactStore,
  type GroupEntry,
  type MemberEntry,
} from '@access-ledger/access-model';
import { type EventStore, tenantStream } from '@access-ledger/event-store';
import { ACCESS_QUERY_SCHEMAS, requireRecordedFrom, unknownOrganization } from './access-queries.js';
import { NotFoundError } from './ledger.port.js';

/**
 * Discovery (discovery, docs/api.md § Routes): the ids a client may ask about — the tenant's organizations, an organization's
 * members, groups and catalog at an instant as known at another, and one stored event by id (what an explanation's `eventId`
 * points to). Query strings are parsed with `DIRECTORY_QUERY_SCHEMAS` at the edge, like the access questions'.
 */

/** The access questions' instant (date-only, seconds or milliseconds, `Z` or an offset), the same grammar. */
const At = ACCESS_QUERY_SCHEMAS.access.shape.at;
const KnownAt = ACCESS_QUERY_SCHEMAS.access.shape.knownAt;

const InstantQuery = z.object({ at: At, knownAt: KnownAt }).strict();
const MembersQuery = z
  .object({
    at: At,
    knownAt: KnownAt,
    status: z.enum(['active', 'suspended', 'removed']).optional(),
    role: BuiltInRole.optional(),
    q: z.string().min(1).max(128).optional().describe('a case-insensitive part of the userId or the email'),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    cursor: z.string().max(512).optional().describe('the `nextCursor` of the previous page'),
  })
  .strict();

const Limit = z.coerce.number().int().min(1).max(1000).default(100);
const GroupsQuery = z
  .object({
    at: At,
    knownAt: KnownAt,
    q: z.string().min(1).max(128).optional().describe('a case-insensitive part of the groupId or the name'),
    limit: Limit,
    cursor: z.string().max(512).optional().describe('the `nextCursor` of the previous page'),
  })
  .strict();
const GroupQuery = z
  .object({
    at: At,
    knownAt: KnownAt,
    limit: Limit.describe("how many of the group's members in a page"),
    cursor: z.string().max(512).optional().describe('the `nextCursor` of the previous page of members'),
  })
  .strict();

export const DIRECTORY_QUERY_SCHEMAS = {
  orgs: InstantQuery,
  members: MembersQuery,
  groups: GroupsQuery,
  group: GroupQuery,
  catalog: InstantQuery,
  event: z.object({}).strict(),
} as const;
export type InstantDirectoryQuery = z.output<typeof InstantQuery>;
export type MembersDirectoryQuery = z.output<typeof MembersQuery>;
export type GroupsDirectoryQuery = z.output<typeof GroupsQuery>;
export type GroupDirectoryQuery = z.output<typeof GroupQuery>;

const iso = (ms: number) => new Date(ms).toISOString();
const cursorOf = (id: string) => Buffer.from(id, 'utf8').toString('base64url');
function afterOf(cursor: string | undefined): string | undefined {
  return cursor === undefined ? undefined : Buffer.from(cursor, 'base64url').toString('utf8');
}

export class DirectoryQueries {
  constructor(
    private readonly factsFor: (tenantId: string) => Promise<FactStore>,
    private readonly store: Pick<EventStore, 'eventById'>,
    private readonly now: () => number = Date.now,
  ) {}

  async orgs(tenantId: string, q: InstantDirectoryQuery) {
    const at = q.at ?? this.now();
    const facts = await this.factsFor(tenantId);
    return { at: iso(at), orgs: organizationsAt(facts, viewAt(at, q.knownAt ?? this.now())) };
  }

  /**
   * The organization's facts, or 404: never created (as known at knownAt), or not yet created at `at`; 409 when `at` is
   * before its baseline (what it had then is unknown, not "nothing").
   */
  private async orgFacts(tenantId: string, orgId: string, at: number, knownAt: number): Promise<FactStore> {
    const facts = await this.factsFor(tenantId);
    if (!orgExists(facts, viewAt(Number.POSITIVE_INFINITY, knownAt), orgId)) throw unknownOrganization(orgId, facts, knownAt);
    requireRecordedFrom(facts, orgId, at, knownAt);
    if (!orgExists(facts, viewAt(at, knownAt), orgId)) throw new NotFoundError(`organization ${orgId} did not exist yet at ${iso(at)}`);
    return facts;
  }

  async members(tenantId: string, orgId: string, q: MembersDirectoryQuery) {
    const at = q.at ?? this.now();
    const knownAt = q.knownAt ?? this.now();
    const facts = await this.orgFacts(tenantId, orgId, at, knownAt);
    const needle = q.q?.toLowerCase();
    const after = afterOf(q.cursor);
    const matches = (m: MemberEntry) =>
      (q.status === undefined || m.status === q.status) &&
      (q.role === undefined || m.role === q.role) &&
      (needle === undefined || m.userId.toLowerCase().includes(needle) || (m.email ?? '').toLowerCase().includes(needle)) &&
      (after === undefined || m.userId > after);
    const found = membersAt(facts, viewAt(at, knownAt), orgId).filter(matches);
    const page = found.slice(0, q.limit);
    return { orgId, at: iso(at), members: page, nextCursor: found.length > q.limit ? cursorOf(page[page.length - 1]!.userId) : null };
  }

  /** The groups that concern the organization at `at` (a member there or a role there), sorted by groupId, a page at a time. */
  async groups(tenantId: string, orgId: string, q: GroupsDirectoryQuery) {
    const at = q.at ?? this.now();
    const knownAt = q.knownAt ?? this.now();
    const facts = await this.orgFacts(tenantId, orgId, at, knownAt);
    const needle = q.q?.toLowerCase();
    const after = afterOf(q.cursor);
    const matches = (g: GroupEntry) =>
      (needle === undefined || g.groupId.toLowerCase().includes(needle) || g.name.toLowerCase().includes(needle)) && (after === undefined || g.groupId > after);
    const found = groupsAt(facts, viewAt(at, knownAt), orgId).filter(matches);
    const page = found.slice(0, q.limit);
    return { orgId, at: iso(at), groups: page, nextCursor: found.length > q.limit ? cursorOf(page[page.length - 1]!.groupId) : null };
  }

  /**
   * One group of the tenant as the organization sees it at `at`: its members there (a page of them) and its roles there.
   * 404 for a group the tenant never had (as known at `knownAt`), not yet created at `at`, or deleted by then.
   */
  async group(tenantId: string, orgId: string, groupId: string, q: GroupDirectoryQuery) {
    const at = q.at ?? this.now();
    const knownAt = q.knownAt ?? this.now();
    const facts = await this.orgFacts(tenantId, orgId, at, knownAt);
    const g = groupAt(facts, viewAt(at, knownAt), orgId, groupId);
    if ('absent' in g) {
      const name = JSON.stringify(groupId.slice(0, 64));
      const listing = `GET /orgs/${orgId}/groups lists the groups of ${orgId}`;
      if (g.absent === 'unknown') throw new NotFoundError(`group ${name} is not known in this tenant; ${listing}`);
      if (g.absent === 'not-yet') throw new NotFoundError(`group ${name} did not exist yet at ${iso(at)}; ${listing}`);
      throw new NotFoundError(`group ${name} was deleted at ${g.at}, so it does not exist at ${iso(at)}; ${listing}`);
    }
    const after = afterOf(q.cursor);
    const found = after === undefined ? g.members : g.members.filter((m) => m.userId > after);
    const page = found.slice(0, q.limit);
    return { orgId, at: iso(at), ...g, members: page, nextCursor: found.length > q.limit ? cursorOf(page[page.length - 1]!.userId) : null };
  }

  async catalog(tenantId: string, orgId: string, q: InstantDirectoryQuery) {
    const at = q.at ?? this.now();
    const knownAt = q.knownAt ?? this.now();
    const facts = await this.orgFacts(tenantId, orgId, at, knownAt);
    return { orgId, at: iso(at), ...catalogAt(facts, viewAt(at, knownAt), orgId) };
  }

  /** One stored event of the tenant; an id stored only under another tenant is "no event" (its existence not revealed). */
  async event(tenantId: string, eventId: string) {
    const e = await this.store.eventById(tenantStream(tenantId), eventId);
    if (e === undefined) throw new NotFoundError(`no event ${eventId} in tenant ${tenantId}`);
    const m = e.metadata as Record<string, unknown>;
    return {
      id: e.id,
      type: e.type,
      occurredAt: m['occurredAt'],
      recordedAt: m['recordedAt'],
      actor: m['actor'],
      source: m['source'],
      auth: m['auth'] ?? null,
      correlationId: m['correlationId'] ?? null,
      causationId: m['causationId'] ?? null,
      schemaVersion: m['schemaVersion'],
      data: e.data,
      position: e.position,
      revision: e.revision,
      prevHash: e.prevHash,
      hash: e.hash,
    };
  }
}
