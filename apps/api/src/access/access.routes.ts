import { ACCESS_QUERY_SCHEMAS } from '@access-ledger/ledger';
import { beforeBaselineProblem, pathParameter, queryParameters, queryProblems, secured } from '../docs/openapi.js';
import type { Scope } from '../keys/scopes.js';

/**
 * The access routes, each declared once: its operationId, its path under `/v1/tenants/{tenantId}/orgs/{orgId}`, its scope and its query
 * schema feed the controller's decorators and pipes (access.controller.ts) and the OpenAPI document (`ACCESS_PATHS`),
 * so the document cannot describe a parameter, a path or a scope the server does not have.
 */
const route = <S extends (typeof ACCESS_QUERY_SCHEMAS)[keyof typeof ACCESS_QUERY_SCHEMAS]>(
  operationId: string,
  path: string,
  query: S,
  summary: string,
  description: string,
) => ({ operationId, path, query, scope: 'access:read' satisfies Scope, summary, description }) as const;

export const ACCESS_ROUTES = {
  access: route(
    'memberAccess',
    'members/:userId/access',
    ACCESS_QUERY_SCHEMAS.access,
    "A member's effective access at an instant",
    'Capabilities, tools, admin areas, spend limit and Console permissions at `at` as known at `knownAt` (R60), each with the chain of events that explains it when `explain=true` (§10).',
  ),
  holders: route(
    'accessHolders',
    'access/holders',
    ACCESS_QUERY_SCHEMAS.holders,
    'Who holds a capability, a tool or an admin area at an instant',
    'Exactly one of `capability`, `tool` (connectorId/toolName, with `minLevel`) or `adminArea` (with `minLevel`); sorted by userId.',
  ),
  diff: route(
    'memberAccessDiff',
    'members/:userId/access/diff',
    ACCESS_QUERY_SCHEMAS.window,
    'What a member gained, lost and had changed between two instants',
    '`{ gained, lost, changed }` of flattened permissions.',
  ),
  changes: route(
    'accessChanges',
    'access/changes',
    ACCESS_QUERY_SCHEMAS.window,
    "Every member's access changes in a window",
    'Each change with the events that caused it.',
  ),
  timeline: route(
    'memberAccessTimeline',
    'members/:userId/access/timeline',
    ACCESS_QUERY_SCHEMAS.timeline,
    "A member's permissions as intervals",
    'Intervals `{ permission, level, from, to, openedBy, closedBy }`; the whole history by default.',
  ),
} as const;

/** The controller's prefix, with `:param` segments. */
export const ACCESS_PREFIX = 'v1/tenants/:tenantId/orgs/:orgId';

/** The routes as OpenAPI path items (`:param` → `{param}`). */
export const ACCESS_PATHS: Record<string, unknown> = Object.fromEntries(
  Object.values(ACCESS_ROUTES).map((r) => {
    const full = `/${ACCESS_PREFIX}/${r.path}`;
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
            '200': { description: 'The answer (see docs/access.md)', content: { 'application/json': { schema: { type: 'object' } } } },
            ...queryProblems,
            ...beforeBaselineProblem,
          },
        },
      },
    ];
  }),
);
