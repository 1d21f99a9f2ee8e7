import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import type { AuthContext } from '@access-ledger/ledger';
import { ApiKeyStore, type ApiKeyRecord } from '../keys/api-key-store.js';
import type { Scope } from '../keys/scopes.js';
import { ProblemException, problem } from '../problem/problem.js';
import { TokenBuckets } from '../rate-limit/token-bucket.js';
import { authenticateBearer, refusal } from './authenticate.js';
import { REQUIRED_SCOPE } from './require-scope.js';

export interface AuthenticatedRequest extends FastifyRequest {
  /** The key presented, once it is known to be a valid key — also when it is then refused (403, 429): the access
   *  log names who tried. */
  apiKey?: ApiKeyRecord;
}

/** The Ledger's view of the key a guarded route authenticated (its id, principal and scopes). */
export function keyAuth(request: AuthenticatedRequest): AuthContext {
  const key = request.apiKey;
  if (!key) throw new Error('keyAuth on a route the ApiKeyGuard did not authenticate');
  return { via: 'key', keyId: key.id, principal: key.principal, scopes: key.scopes };
}

/**
 * Bearer API keys with tenant scoping. Missing/unknown key → 401. A key of another tenant → 403 "not valid for this
 * tenant", the same whether or not the named tenant exists, so a caller learns nothing about other tenants; a key
 * without the route's scope → 403 naming the scope. Then the key's token bucket (429).
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(ApiKeyStore) private readonly keys: ApiKeyStore,
    @Inject(TokenBuckets) private readonly buckets: TokenBuckets,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const scope = this.reflector.get<Scope | undefined>(REQUIRED_SCOPE, context.getHandler());
    if (scope === undefined) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    // Set by the onRequest hook (authenticate.ts) before the body was read; authenticated here only when the app
    // was assembled without it.
    const key = request.apiKey ?? authenticateBearer(this.keys, request.headers.authorization);
    request.apiKey = key;
    const tenantId = (request.params as Record<string, string | undefined>).tenantId;
    const refused = refusal(key, tenantId, scope);
    if (refused) throw refused;
    const wait = this.buckets.take(key.id, Date.now());
    if (wait > 0) {
      throw new ProblemException(problem(429, 'rate-limited', `Too many requests for this API key; retry in ${wait} s.`), { 'retry-after': String(wait) });
    }
    return true;
  }
}
