import type { z } from 'zod';
import { ACCESS_QUERY_SCHEMAS } from '@access-ledger/ledger';
import { pathParameter, queryParameters, queryProblems } from '../docs/openapi.js';

/**
 * The access routes in the OpenAPI document: their query parameters come from the same zod schemas that validate
 * them (`ACCESS_QUERY_SCHEMAS`), so the document cannot describe parameters the server does not take.
 */

const path = pathParameter;
const problems = queryProblems;
const route = (summary: string, description: string, schema: z.ZodType, params: string[]) => ({
  get: {
    summary,
    description,
    security: [{ apiKey: [] }],
    'x-required-scope': 'access:read',
    parameters: [...params.map(path), ...queryParameters(schema)],
    responses: { '200': { description: 'The answer (see docs/access.md)', content: { 'application/json': { schema: { type: 'object' } } } }, ...problems },
  },
});

export const ACCESS_PATHS: Record<string, unknown> = {
  '/v1/tenants/{tenantId}/orgs/{orgId}/members/{userId}/access': route(
    "A member's effective access at an instant",
    'Capabilities, tools, admin areas, spend limit and Console permissions at `at` as known at `knownAt` (R60), each with the chain of events that explains it when `explain=true` (§10).',
    ACCESS_QUERY_SCHEMAS.access, ['tenantId', 'orgId', 'userId'],
  ),
  '/v1/tenants/{tenantId}/orgs/{orgId}/access/holders': route(
    'Who holds a capability, a tool or an admin area at an instant',
    'Exactly one of `capability`, `tool` (connectorId/toolName, with `minLevel`) or `adminArea` (with `minLevel`); sorted by userId.',
    ACCESS_QUERY_SCHEMAS.holders, ['tenantId', 'orgId'],
  ),
  '/v1/tenants/{tenantId}/orgs/{orgId}/members/{userId}/access/diff': route(
    "What a member gained, lost and had changed between two instants", '`{ gained, lost, changed }` of flattened permissions.',
    ACCESS_QUERY_SCHEMAS.window, ['tenantId', 'orgId', 'userId'],
  ),
  '/v1/tenants/{tenantId}/orgs/{orgId}/access/changes': route(
    "Every member's access changes in a window", 'Each change with the events that caused it.',
    ACCESS_QUERY_SCHEMAS.window, ['tenantId', 'orgId'],
  ),
  '/v1/tenants/{tenantId}/orgs/{orgId}/members/{userId}/access/timeline': route(
    "A member's permissions as intervals", 'Intervals `{ permission, level, from, to, openedBy, closedBy }`; the whole history by default.',
    ACCESS_QUERY_SCHEMAS.timeline, ['tenantId', 'orgId', 'userId'],
  ),
};
