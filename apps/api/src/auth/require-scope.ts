import { applyDecorators, SetMetadata } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { Scope } from '../keys/scopes.js';
import { QUERY_ROUTE_CONFIG, SCOPE_ROUTE_CONFIG } from './authenticate.js';

export const REQUIRED_SCOPE = 'access-ledger:required-scope';

/**
 * The scope a `/v1/tenants/:tenantId/...` route needs; the ApiKeyGuard enforces it, and the onRequest hook
 * (authenticate.ts) reads it from the Fastify route config to refuse before the body is read. `query: true` for a
 * route that parses a query string (with a strict schema); any query parameter on the others is a 400
 * (installQuerylessRoutes), so a parameter is never silently ignored.
 */
export const RequireScope = (scope: Scope, options: { query?: boolean } = {}) =>
  applyDecorators(SetMetadata(REQUIRED_SCOPE, scope), RouteConfig({ [SCOPE_ROUTE_CONFIG]: scope, [QUERY_ROUTE_CONFIG]: options.query === true }));
