import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import { AppModule, type AppModuleOptions } from './app.module.js';
import { installAccessLog, type AccessLogEntry, type LogFormat } from './access-log/access-log.js';
import { ApiMetrics } from './metrics/api-metrics.js';
import { parseJsonBody } from './request-body/json-body.js';

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
}

/**
 * The NestJS app on Fastify, ready to `listen`. Each content type gets its own body limit: JSON for
 * commands, NDJSON (read as text) for imports. Every other content type is refused by Fastify (415).
 */
export async function createHttpApp(options: HttpAppOptions): Promise<NestFastifyApplication> {
  const limits = options.bodyLimits ?? DEFAULT_BODY_LIMITS;
  const adapter = new FastifyAdapter({
    bodyLimit: Math.max(limits.commandBytes, limits.importBytes),
    // `__proto__` / `constructor.prototype` keys in JSON are refused (400) rather than stripped.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
  });
  const logLevels = options.logLevels ?? ['error', 'warn'];
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(options), adapter, {
    logger: options.logFormat === 'json' ? new ConsoleLogger({ json: true, logLevels }) : logLevels,
  });
  app.useBodyParser('application/json', { bodyLimit: limits.commandBytes }, (_req: unknown, body: Buffer) => Promise.resolve(parseJsonBody(body.toString('utf8'))));
  app.useBodyParser('application/x-ndjson', { bodyLimit: limits.importBytes }, (_req: unknown, body: Buffer) => Promise.resolve(body.toString('utf8')));

  // Graceful close: the server stops listening and idle connections are closed at once; a response still in
  // flight when the close begins says `Connection: close`, so its keep-alive socket does not hold the close
  // open until the keep-alive timeout.
  const fastify = adapter.getInstance();
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });

  installAccessLog(fastify, options.accessLog);
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
