import { applyDecorators, SetMetadata } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { Scope } from '../keys/scopes.js';
import { SCOPE_ROUTE_CONFIG } from './authenticate.js';

export const REQUIRED_SCOPE = 'access-ledger:required-scope';

/**
 * The scope a `/v1/tenants/:tenantId/...` route needs; the ApiKeyGuard enforces it, and the onRequest hook
 * (authenticate.ts) reads it from the Fastify route config to refuse before the body is read.
 */
export const RequireScope = (scope: Scope) => applyDecorators(SetMetadata(REQUIRED_SCOPE, scope), RouteConfig({ [SCOPE_ROUTE_CONFIG]: scope }));
