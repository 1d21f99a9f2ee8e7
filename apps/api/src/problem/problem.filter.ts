import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { isStorageFull, StorageFullError } from '@access-ledger/event-store';
import {
  BeforeBaselineError,
  IntegrityBrokenError,
  NotFoundError,
  InvalidInputError,
  STORAGE_FULL_RETRY_AFTER_S,
  WriteContentionError,
} from '@access-ledger/ledger';
import { type Problem, PROBLEM_CONTENT_TYPE, ProblemException, problem } from './problem.js';

/**
 * Every error leaves as application/problem+json (RFC 9457), including Fastify's own
 * (bad JSON, wrong content type, body too large, unknown route), which Nest maps to HttpExceptions
 * whose `cause` is the Fastify error.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const chosen = answerFor(exception);
    const headers = exception instanceof ProblemException ? exception.headers : (chosen?.headers ?? {});
    const body = chosen?.problem ?? this.toProblem(exception);
    // A ProblemException is an answer the code chose (503 read-model-behind, say), not a failure to log.
    if (body.status >= 500 && !(exception instanceof ProblemException) && chosen === undefined)
      this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    reply.status(body.status).headers(headers).header('content-type', PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
  }

  private toProblem(exception: unknown): Problem {
    if (exception instanceof ProblemException) return exception.problem;
    if (exception instanceof NotFoundError) return problem(404, 'not-found', exception.message);
    if (exception instanceof BeforeBaselineError)
      return problem(409, 'before-baseline', exception.message, { title: 'Before the baseline', availableFrom: exception.availableFrom });
    if (exception instanceof InvalidInputError) return problem(400, 'invalid-input', 'The request failed validation.', { errors: exception.errors });
    if (exception instanceof HttpException) return fromHttpException(exception);
    return problem(500, 'internal', 'The server failed to process the request.');
  }
}

/** Failures of the stores that are answers, not bugs. */
function answerFor(exception: unknown): { problem: Problem; headers: Record<string, string> } | undefined {
  if (exception instanceof StorageFullError || isStorageFull(exception)) {
    const where = exception instanceof StorageFullError ? ` (${exception.where})` : '';
    return {
      problem: problem(
        507,
        'storage-full',
        `The server's storage is full${where}; nothing of this request was stored. Retry after ${STORAGE_FULL_RETRY_AFTER_S} s; an operator has to free space (see /ready).`,
        { title: 'Insufficient Storage' },
      ),
      headers: { 'retry-after': String(STORAGE_FULL_RETRY_AFTER_S) },
    };
  }
  if (exception instanceof IntegrityBrokenError)
    return { problem: problem(503, 'integrity-broken', exception.message, { title: 'Integrity broken' }), headers: {} };
  if (exception instanceof WriteContentionError)
    return { problem: problem(503, 'write-contention', exception.message, { title: 'Write contention' }), headers: { 'retry-after': '1' } };
  return undefined;
}

function fromHttpException(exception: HttpException): Problem {
  const status = exception.getStatus();
  const cause = exception.cause as { code?: string; message?: string } | undefined;
  switch (cause?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problem(413, 'body-too-large', 'The request body is larger than this route accepts.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problem(415, 'unsupported-media-type', 'This content type is not accepted here.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return problem(400, 'malformed-body', 'The body is empty although the content type is application/json.', {
        errors: [{ path: '', message: 'empty body' }],
      });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return problem(400, 'malformed-body', 'The body is not valid JSON.', { errors: [{ path: '', message: 'not valid JSON' }] });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return problem(400, 'malformed-body', 'Content-Length does not match the body.');
    case undefined:
      break;
    default:
      return problem(status, 'request-rejected', cause?.message ?? exception.message);
  }
  if (status === 404) return problem(404, 'route-not-found', exception.message);
  if (status === 400 && exception.cause instanceof SyntaxError) {
    return problem(400, 'malformed-body', 'The body is not valid JSON.', { errors: [{ path: '', message: exception.cause.message }] });
  }
  const response = exception.getResponse();
  const detail = typeof response === 'string' ? response : exception.message;
  return problem(status, status === 400 ? 'malformed-body' : 'http-error', detail);
}
