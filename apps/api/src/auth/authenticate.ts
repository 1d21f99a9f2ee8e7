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
 * A key of another tenant and a key without the scope get the very same 403, whether or not the named tenant
 * exists, so a caller learns nothing about other tenants.
 */
export function forbidden(scope: Scope | undefined): ProblemException {
  const needs = scope === undefined ? '' : ` (needs scope ${scope})`;
  return new ProblemException(problem(403, 'forbidden', `This API key may not use this route for this tenant${needs}.`));
}

/** Where `RequireScope` puts the route's scope for Fastify hooks (`request.routeOptions.config`). */
export const SCOPE_ROUTE_CONFIG = 'requiredScope';

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
      if (key.tenantId !== tenantId || (scope !== undefined && !key.scopes.includes(scope))) throw forbidden(scope);
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
