import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ApiKeyRecord, ApiKeyStore } from '../keys/api-key-store.js';
import type { Scope } from '../keys/scopes.js';
import { PROBLEM_CONTENT_TYPE, ProblemException, problem } from '../problem/problem.js';
import type { AuthenticatedRequest } from './api-key.guard.js';

/** The key an `Authorization: Bearer <key>` header presents; 401 when missing, malformed, unknown or revoked. */
export function authenticateBearer(keys: ApiKeyStore, header: string | undefined): ApiKeyRecord {
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) {
    throw new ProblemException(problem(401, 'unauthenticated', 'Send an API key as `Authorization: Bearer <key>`.'), { 'www-authenticate': 'Bearer' });
  }
  const key = keys.authenticate(match[1]!);
  if (!key) {
    throw new ProblemException(problem(401, 'unauthenticated', 'The API key is unknown or revoked.'), { 'www-authenticate': 'Bearer error="invalid_token"' });
  }
  return key;
}

/**
 * A key without the route's scope: 403 naming the scope it lacks (the key is valid for this tenant, so naming the
 * scope tells the caller nothing about other tenants).
 */
export function forbidden(scope: Scope | undefined): ProblemException {
  const needs = scope === undefined ? '' : ` (needs scope ${scope})`;
  return new ProblemException(problem(403, 'forbidden', `This API key may not use this route for this tenant${needs}.`));
}

/**
 * A key of another tenant: one 403 whether or not the named tenant exists (tenants are not looked up at all), so a
 * caller learns nothing about other tenants — and no scope is named, since the key has none here.
 */
export function wrongTenant(): ProblemException {
  return new ProblemException(problem(403, 'forbidden', 'This API key is not valid for this tenant: a key belongs to one tenant only.'));
}

/** The 403 for a valid key on a route: another tenant's key first, then a missing scope. */
export function refusal(key: ApiKeyRecord, tenantId: string | undefined, scope: Scope | undefined): ProblemException | undefined {
  if (key.tenantId !== tenantId) return wrongTenant();
  if (scope !== undefined && !key.scopes.includes(scope)) return forbidden(scope);
  return undefined;
}

/** Where `RequireScope` puts the route's scope for Fastify hooks (`request.routeOptions.config`). */
export const SCOPE_ROUTE_CONFIG = 'requiredScope';
/** Where `RequireScope` says whether the route takes a query string. */
export const QUERY_ROUTE_CONFIG = 'takesQuery';

/**
 * `/v1/` routes authenticate in `onRequest`, before Fastify reads the body, so a request without a
 * valid key for the tenant costs its headers only, not a 60 MB import. The refusal says `Connection: close`: Node
 * then closes the socket instead of reading the unread body to reach a next request. The ApiKeyGuard still checks
 * the route's scope and the key's rate limit, with the key set here.
 */
export function installEarlyAuthentication(fastify: FastifyInstance, keys: ApiKeyStore): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const route = request.routeOptions.url;
    if (route === undefined || !route.startsWith('/v1/')) {
      done();
      return;
    }
    const authenticated = request as AuthenticatedRequest;
    try {
      const key = authenticateBearer(keys, request.headers.authorization);
      authenticated.apiKey = key;
      const scope = (request.routeOptions.config as unknown as Record<string, unknown>)[SCOPE_ROUTE_CONFIG] as Scope | undefined;
      const tenantId = (request.params as Record<string, string | undefined>).tenantId;
      const refused = refusal(key, tenantId, scope);
      if (refused) throw refused;
    } catch (error) {
      if (!(error instanceof ProblemException)) {
        done(error as Error);
        return;
      }
      sendProblemAndClose(reply, error);
      return;
    }
    done();
  });
}

/** A refusal sent before the body was read: the connection closes after it (see installEarlyAuthentication). */
export function sendProblemAndClose(reply: FastifyReply, error: ProblemException): void {
  void reply
    .code(error.problem.status)
    .headers({ ...error.headers, connection: 'close' })
    .header('content-type', PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(error.problem));
}

/**
 * A `/v1/` route that takes no query string refuses any query parameter (400 `invalid-input`, each named), after
 * authentication and before the body is read: `commands?dryRun=true` must not append for real. Routes that take a
 * query (`RequireScope(…, { query: true })`) validate it with their own strict schema.
 */
export function installQuerylessRoutes(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const config = request.routeOptions.config as unknown as Record<string, unknown>;
    const route = request.routeOptions.url;
    if (route === undefined || !route.startsWith('/v1/') || config[SCOPE_ROUTE_CONFIG] === undefined || config[QUERY_ROUTE_CONFIG] === true) {
      done();
      return;
    }
    const names = Object.keys((request.query as Record<string, unknown> | undefined) ?? {});
    if (names.length === 0) {
      done();
      return;
    }
    const errors = names.slice(0, 20).map((name) => ({ path: name.slice(0, 64), message: 'is not a parameter of this route, which takes none' }));
    sendProblemAndClose(reply, new ProblemException(problem(400, 'invalid-input', 'This route takes no query parameters.', { errors })));
  });
}
