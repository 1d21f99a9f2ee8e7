import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { NotFoundError, InvalidInputError } from '../../../../libs/projections/src/ledger.port.js';
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
    const headers = exception instanceof ProblemException ? exception.headers : {};
    const body = this.toProblem(exception);
    // A ProblemException is an answer the code chose (503 read-model-behind, say), not a failure to log.
    if (body.status >= 500 && !(exception instanceof ProblemException)) this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    reply.status(body.status).headers(headers).header('content-type', PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
  }

  private toProblem(exception: unknown): Problem {
    if (exception instanceof ProblemException) return exception.problem;
    if (exception instanceof NotFoundError) return problem(404, 'not-found', exception.message);
    if (exception instanceof InvalidInputError) return problem(400, 'invalid-input', 'The request failed validation.', { errors: exception.errors });
    if (exception instanceof HttpException) return fromHttpException(exception);
    return problem(500, 'internal', 'The server failed to process the request.');
  }
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
      return problem(400, 'malformed-body', 'The body is empty although the content type is application/json.', { errors: [{ path: '', message: 'empty body' }] });
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
