import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { redactSecrets } from '../auth/credentials-in-url.js';
import type { ApiKeyRecord } from '../keys/api-key-store.js';

/**
 * One line per HTTP request, and a request id that ties the line to the answer.
 *
 * An operator needs to see who called what and how it went — for an audit ledger, also who read the audit trail.
 * Probes and scrapes (`/health`, `/ready`, `/metrics`) are logged only when they fail.
 * Every answer carries `X-Request-Id`: the caller's own (1–128 characters of [A-Za-z0-9._:-]), or a fresh UUID;
 * the line has it too. `LOG_FORMAT=json` writes one JSON object a line (for a log shipper), `text` a readable line.
 * The line never holds a secret: the API key is named by its id, the `Authorization` header is never read here, no
 * other header is logged, and a key put in the URL is cut to its id (`lk_<id>_[redacted]`).
 */
export interface AccessLogEntry {
  readonly time: string;
  readonly requestId: string;
  readonly method: string;
  /** The path and query as requested, with key-shaped values and credential parameters redacted. */
  readonly url: string;
  /** The route's pattern (`/v1/tenants/:tenantId/commands`), or null when no route matched. */
  readonly route: string | null;
  readonly status: number;
  readonly ms: number;
  readonly bytes: number | null;
  readonly tenantId: string | null;
  /** The id of the valid API key presented (also when it was refused for this route), or null. */
  readonly keyId: string | null;
  readonly remote: string;
}

export type LogFormat = 'text' | 'json';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Probes and scrapes come every few seconds: logged only when they fail. */
const QUIET_ROUTES = new Set(['/health', '/ready', '/metrics']);

/** A tenant id is what the caller put in the path: a key put there instead is logged cut to its id too. */
function redactTenant(tenantId: string | undefined): string | null {
  return tenantId === undefined ? null : redactSecrets(tenantId);
}

/** The caller's request id when it is a sane one, else a new one. */
export function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}

export function formatAccessLog(entry: AccessLogEntry, format: LogFormat): string {
  if (format === 'json') return JSON.stringify({ level: 'info', msg: 'request', ...entry });
  const who = [entry.tenantId ? `tenant=${entry.tenantId}` : '', entry.keyId ? `key=${entry.keyId}` : ''].filter(Boolean).join(' ');
  return `${entry.time} ${entry.method} ${entry.url} ${entry.status} ${entry.ms.toFixed(1)}ms${who ? ` ${who}` : ''} req=${entry.requestId}`;
}

/** Sets the request id on every answer and hands each finished request to `write` as one entry. */
export function installAccessLog(fastify: FastifyInstance, write?: (entry: AccessLogEntry) => void): void {
  const ids = new WeakMap<FastifyRequest, string>();
  fastify.addHook('onRequest', (request, reply, done) => {
    const id = requestIdOf(request.headers['x-request-id']);
    ids.set(request, id);
    reply.header('x-request-id', id);
    done();
  });
  if (!write) return;
  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done) => {
    if (reply.statusCode < 400 && QUIET_ROUTES.has(request.routeOptions.url ?? '')) {
      done();
      return;
    }
    const length = reply.getHeader('content-length');
    write({
      time: new Date().toISOString(),
      requestId: ids.get(request) ?? '',
      method: request.method,
      url: redactSecrets(request.url),
      route: request.routeOptions.url ?? null,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      bytes: length === undefined ? null : Number(length),
      tenantId: redactTenant((request.params as Record<string, string | undefined> | undefined)?.tenantId),
      keyId: (request as FastifyRequest & { apiKey?: ApiKeyRecord }).apiKey?.id ?? null,
      remote: request.ip,
    });
    done();
  });
}
