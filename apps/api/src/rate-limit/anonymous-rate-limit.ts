import type { FastifyInstance } from 'fastify';
import { sendProblemAndClose } from '../auth/authenticate.js';
import { ProblemException, problem } from '../problem/problem.js';
import { type RateLimit, TokenBuckets } from './token-bucket.js';

/** Default for requests without an API key, per client address: a docs page load is two requests. */
export const DEFAULT_ANONYMOUS_RATE_LIMIT: RateLimit = { perSecond: 20, burst: 100 };

/** Liveness and readiness probes are never refused: an orchestrator that gets a 429 restarts a healthy server. */
const PROBES = new Set(['/health', '/ready']);

/** Buckets kept before full ones are forgotten (TokenBuckets.prune). */
const PRUNE_ABOVE = 10_000;

/**
 * Every route that takes no API key (/docs, /docs/openapi.json, /metrics, unknown paths) is
 * rate-limited per client address, so one client pipelining requests it never reads cannot take the server;
 * `/v1/` routes are limited per key (ApiKeyGuard) and refused before their body without one (authenticate.ts).
 */
export function installAnonymousRateLimit(fastify: FastifyInstance, limit: RateLimit): void {
  if (limit.perSecond <= 0) return;
  const buckets = new TokenBuckets(limit);
  fastify.addHook('onRequest', (request, reply, done) => {
    const route = request.routeOptions.url;
    if (route !== undefined && (PROBES.has(route) || route.startsWith('/v1/'))) {
      done();
      return;
    }
    const now = Date.now();
    if (buckets.size > PRUNE_ABOVE) buckets.prune(now);
    const wait = buckets.take(request.ip, now);
    if (wait === 0) {
      done();
      return;
    }
    sendProblemAndClose(
      reply,
      new ProblemException(
        problem(
          429,
          'rate-limited',
          `Too many requests without an API key from this address (limit ${limit.perSecond}/s, bursts of ${limit.burst}); retry in ${wait} s.`,
        ),
        { 'retry-after': String(wait) },
      ),
    );
  });
}
