import { z } from 'zod';
import { ADMIN_AREAS, ADMIN_LEVELS, BuiltInRole, ProvisioningMode, Seat, TOOL_LEVELS } from '@access-ledger/access-model';
import { DIRECTORY_QUERY_SCHEMAS } from '@access-ledger/ledger';
import { beforeBaselineProblem, pathParameter, queryParameters, queryProblems, secured } from '../docs/openapi.js';
import type { Scope } from '../keys/scopes.js';

/**
 * The discovery routes (discovery, docs/api.md § Routes), each declared once: its path under `/v1/tenants/{tenantId}`, its
 * scope, its query schema and its answer's schema feed the controller (directory.controller.ts) and the OpenAPI
 * document (`DIRECTORY_PATHS`, `DIRECTORY_COMPONENTS`).
 */

const MemberStatus = z.enum(['active', 'suspended', 'removed']);

const OrganizationList = z.object({
  at: z.string(),
  orgs: z.array(
    z.object({
      orgId: z.string(),
      name: z.string(),
      dualSeat: z.boolean(),
      usageBased: z.boolean(),
      provisioningMode: ProvisioningMode.nullable(),
      createdAt: z.string(),
    }),
  ),
});
const MemberPage = z.object({
  orgId: z.string(),
  at: z.string(),
  members: z.array(z.object({ userId: z.string(), email: z.string().nullable(), role: BuiltInRole, seat: Seat.nullable(), status: MemberStatus })),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last'),
});
const GroupMember = z.object({ userId: z.string(), email: z.string().nullable(), role: BuiltInRole, seat: Seat.nullable(), status: MemberStatus });
const groupFields = {
  groupId: z.string(),
  name: z.string(),
  source: z.enum(['manual', 'scim']),
  memberCount: z.number().int().describe('Members of this organization (active or suspended) in the group'),
  roles: z.array(z.object({ roleId: z.string(), name: z.string() })).describe('The custom roles assigned to the group in this organization (R30)'),
  rolesGrant: z.boolean().describe('False when those roles grant nothing here: a SCIM group in an organization that provisions by invite_only or jit (R31)'),
};
const GroupPage = z.object({
  orgId: z.string(),
  at: z.string(),
  groups: z.array(z.object(groupFields)),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last'),
});
const Group = z.object({
  orgId: z.string(),
  at: z.string(),
  ...groupFields,
  members: z.array(GroupMember).describe('Its members in this organization, sorted by userId, a page of `limit`'),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page of members; null on the last'),
});
const OrganizationCatalog = z.object({
  orgId: z.string(),
  at: z.string(),
  capabilities: z.array(z.object({ capability: z.string(), enabled: z.boolean(), platformDisabled: z.boolean() })),
  connectors: z.array(z.object({ connectorId: z.string(), name: z.string(), tools: z.array(z.string()) })),
  customRoles: z.array(z.object({ roleId: z.string(), name: z.string() })),
  adminAreas: z.array(z.enum(ADMIN_AREAS)),
  adminLevels: z.array(z.enum(ADMIN_LEVELS)),
  toolLevels: z.array(z.enum(TOOL_LEVELS)),
});
const StoredEvent = z.object({
  id: z.string(),
  type: z.string(),
  occurredAt: z.string(),
  recordedAt: z.string(),
  actor: z.object({ kind: z.enum(['member', 'scim', 'platform', 'system', 'import']), orgId: z.string().optional(), userId: z.string().optional() }),
  source: z.string(),
  auth: z.object({}).passthrough().nullable().describe('Who was authenticated when it was stored (key id and principal, or `{ via: "cli" }`)'),
  correlationId: z.string().nullable(),
  causationId: z.string().nullable(),
  schemaVersion: z.number().int(),
  data: z.object({}).passthrough(),
  position: z.number().int().describe('Global store position'),
  revision: z.number().int().describe("Revision in the tenant's stream"),
  prevHash: z.string(),
  hash: z.string().describe('SHA-256 of prevHash and the canonical event (docs/event-store.md)'),
});

const route = <Q extends z.ZodType>(operationId: string, path: string, query: Q, answer: string, summary: string, description: string) =>
  ({ operationId, path, query, answer, scope: 'access:read' satisfies Scope, summary, description }) as const;

export const DIRECTORY_ROUTES = {
  orgs: route(
    'listOrganizations',
    'orgs',
    DIRECTORY_QUERY_SCHEMAS.orgs,
    'OrganizationList',
    "The tenant's organizations at an instant",
    'Sorted by orgId; those created after `at` (default now) are left out.',
  ),
  members: route(
    'listMembers',
    'orgs/:orgId/members',
    DIRECTORY_QUERY_SCHEMAS.members,
    'MemberPage',
    "An organization's members at an instant",
    'Sorted by userId, removed members included (status `removed`); filter by `status`, `role` and `q` (a part of the userId or email), a page of `limit` at a time.',
  ),
  groups: route(
    'listGroups',
    'orgs/:orgId/groups',
    DIRECTORY_QUERY_SCHEMAS.groups,
    'GroupPage',
    "The tenant's groups that concern an organization at an instant",
    'Groups belong to the tenant; listed are those with a member of this organization (active or suspended) or a custom role assigned in it at `at`, each with its member count and roles here. Sorted by groupId, deleted groups left out; filter by `q` (a part of the groupId or name), a page of `limit` at a time.',
  ),
  group: route(
    'getGroup',
    'orgs/:orgId/groups/:groupId',
    DIRECTORY_QUERY_SCHEMAS.group,
    'Group',
    'One group as an organization sees it at an instant',
    'Its members in this organization (with their built-in role and status; a page of `limit`) and its custom roles here. A group of the tenant that concerns this organization in no way has none of either. 404 for a group the tenant never had, or that did not exist at `at` (not yet created, or deleted).',
  ),
  catalog: route(
    'organizationCatalog',
    'orgs/:orgId/catalog',
    DIRECTORY_QUERY_SCHEMAS.catalog,
    'OrganizationCatalog',
    'What access questions may name in an organization at an instant',
    'The capability catalog (with whether the organization has each switched on), connectors and their tools, custom roles, admin areas and the levels.',
  ),
  event: route(
    'getEvent',
    'events/:eventId',
    DIRECTORY_QUERY_SCHEMAS.event,
    'StoredEvent',
    'One stored event',
    "What an explanation's `eventId` points to: the event as stored, with its metadata, position and hashes. 404 for an id this tenant does not have.",
  ),
} as const;

export const DIRECTORY_PREFIX = 'v1/tenants/:tenantId';

export const DIRECTORY_COMPONENTS: Record<string, z.ZodType> = { OrganizationList, MemberPage, GroupPage, Group, OrganizationCatalog, StoredEvent };

export const DIRECTORY_PATHS: Record<string, unknown> = Object.fromEntries(
  Object.values(DIRECTORY_ROUTES).map((r) => {
    const full = `/${DIRECTORY_PREFIX}/${r.path}`;
    const params = [...full.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]!);
    return [
      full.replace(/:([A-Za-z]+)/g, '{$1}'),
      {
        get: {
          operationId: r.operationId,
          summary: r.summary,
          description: r.description,
          ...secured(r.scope),
          parameters: [...params.map(pathParameter), ...queryParameters(r.query)],
          responses: {
            '200': { description: r.summary, content: { 'application/json': { schema: { $ref: `#/components/schemas/${r.answer}` } } } },
            ...queryProblems,
            // members and catalog at an instant before the organization's baseline
            ...(r.path.startsWith('orgs/:orgId/') ? beforeBaselineProblem : {}),
          },
        },
      },
    ];
  }),
);
