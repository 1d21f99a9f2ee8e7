import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import { AppModule, type AppModuleOptions } from './app.module.js';
import { installAccessLog, type AccessLogEntry, type LogFormat } from './access-log/access-log.js';
import { ApiMetrics } from './metrics/api-metrics.js';
import { parseJsonBody } from './request-body/json-body.js';
import { installEarlyAuthentication, installQuerylessRoutes } from './auth/authenticate.js';
import { installCredentialsInUrlRefusal } from './auth/credentials-in-url.js';
import { type ConnectionLimits, DEFAULT_CONNECTION_LIMITS, DEFAULT_MAX_PIPELINED, installPipeliningBound, serverOptions } from './http-limits.js';
import { ApiKeyStore } from './keys/api-key-store.js';
import { DEFAULT_ANONYMOUS_RATE_LIMIT, installAnonymousRateLimit } from './rate-limit/anonymous-rate-limit.js';
import type { RateLimit } from './rate-limit/token-bucket.js';

export interface BodyLimits {
  /** Largest command body in bytes (default 1 MiB). */
  readonly commandBytes: number;
  /** Largest NDJSON import body in bytes (default 64 MiB). */
  readonly importBytes: number;
}

export const DEFAULT_BODY_LIMITS: BodyLimits = { commandBytes: 1024 * 1024, importBytes: 64 * 1024 * 1024 };

export interface HttpAppOptions extends AppModuleOptions {
  readonly bodyLimits?: BodyLimits;
  readonly logLevels?: LogLevel[];
  /** Receives one entry per finished request (access-log.ts); every answer gets `X-Request-Id` either way. */
  readonly accessLog?: (entry: AccessLogEntry) => void;
  /** `json`: NestJS's own lines (errors, warnings) as JSON objects too, like the access log's. */
  readonly logFormat?: LogFormat;
  /** Header, request and keep-alive timeouts and the connection cap (http-limits.ts). */
  readonly connectionLimits?: ConnectionLimits;
  /** Requests without an API key, per client address (anonymous-rate-limit.ts); perSecond 0 disables. */
  readonly anonymousRateLimit?: RateLimit;
}

/**
 * The NestJS app on Fastify, ready to `listen`. Each content type gets its own body limit: JSON for
 * commands, NDJSON (read as text) for imports. Every other content type is refused by Fastify (415).
 */
export async function createHttpApp(options: HttpAppOptions): Promise<NestFastifyApplication> {
  const limits = options.bodyLimits ?? DEFAULT_BODY_LIMITS;
  const connections = options.connectionLimits ?? DEFAULT_CONNECTION_LIMITS;
  const adapter = new FastifyAdapter({
    bodyLimit: Math.max(limits.commandBytes, limits.importBytes),
    http: serverOptions(connections),
    requestTimeout: connections.requestTimeoutMs,
    keepAliveTimeout: connections.keepAliveTimeoutMs,
    // `__proto__` / `constructor.prototype` keys in JSON are refused (400) rather than stripped.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
  });
  const logLevels = options.logLevels ?? ['error', 'warn'];
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(options), adapter, {
    logger: options.logFormat === 'json' ? new ConsoleLogger({ json: true, logLevels }) : logLevels,
  });
  app.useBodyParser('application/json', { bodyLimit: limits.commandBytes }, (_req: unknown, body: Buffer) =>
    Promise.resolve(parseJsonBody(body.toString('utf8'))),
  );
  app.useBodyParser('application/x-ndjson', { bodyLimit: limits.importBytes }, (_req: unknown, body: Buffer) => Promise.resolve(body.toString('utf8')));

  // Graceful close: the server stops listening and idle connections are closed at once; a response still in
  // flight when the close begins says `Connection: close`, so its keep-alive socket does not hold the close
  // open until the keep-alive timeout.
  const fastify = adapter.getInstance();
  fastify.server.maxConnections = connections.maxConnections;
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });

  // Order matters: the request id first (every answer has one), then refusals that need no body, cheapest first.
  installAccessLog(fastify, options.accessLog);
  installPipeliningBound(fastify, connections.maxPipelined ?? DEFAULT_MAX_PIPELINED);
  installCredentialsInUrlRefusal(fastify);
  installAnonymousRateLimit(fastify, options.anonymousRateLimit ?? DEFAULT_ANONYMOUS_RATE_LIMIT);
  installEarlyAuthentication(fastify, app.get(ApiKeyStore));
  installQuerylessRoutes(fastify);
  const metrics = app.get(ApiMetrics);
  fastify.addHook('onResponse', (request, reply, done) => {
    metrics.httpDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });
  return app;
}
