import { Controller, HttpCode, Inject, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { LEDGER, type LedgerUseCases } from '@access-ledger/ledger';
import { ApiKeyGuard, keyAuth, type AuthenticatedRequest } from '../auth/api-key.guard.js';
import { RequireScope } from '../auth/require-scope.js';
import { IdempotentExecution } from '../idempotency/idempotent-execution.js';
import { ApiMetrics } from '../metrics/api-metrics.js';
import { PROBLEM_CONTENT_TYPE, ProblemException, problem } from '../problem/problem.js';
import { commandAnswer } from './command-answer.js';
import { expectedRevisionFrom } from './if-match.js';

/**
 * The route calls the Ledger's use case directly, without a CommandBus in between: `Ledger.executeCommand` is already
 * the command handler the style guide describes (validate, load the state, call the pure decider, append — with group
 * commit), and there is one command route and one handler, so a bus would only forward (issue 10 item 5).
 */
@Controller('v1/tenants/:tenantId')
@UseGuards(ApiKeyGuard)
export class CommandsController {
  constructor(
    @Inject(LEDGER) private readonly ledger: LedgerUseCases,
    @Inject(IdempotentExecution) private readonly idempotency: IdempotentExecution,
    @Inject(ApiMetrics) private readonly metrics: ApiMetrics,
  ) {}

  @Post('commands')
  @HttpCode(201)
  @RequireScope('commands:write')
  async execute(@Param('tenantId') tenantId: string, @Req() request: AuthenticatedRequest, @Res() reply: FastifyReply): Promise<void> {
    const body: unknown = request.body;
    if (!isJsonMediaType(request.headers['content-type'])) {
      throw new ProblemException(problem(415, 'unsupported-media-type', 'Send the command as application/json.'));
    }
    const expectedRevision = expectedRevisionFrom(request.headers['if-match']);
    const key = idempotencyKeyOf(body);
    let outcomeKind = 'replayed';
    const answer = await this.idempotency.run(tenantId, key, async () => {
      const outcome = await this.ledger.executeCommand(tenantId, body, expectedRevision === undefined ? {} : { expectedRevision }, keyAuth(request));
      outcomeKind = outcome.kind;
      return commandAnswer(outcome);
    });
    // An invalid body's type is untrusted: it stays out of the labels, which keeps their number bounded.
    this.metrics.commands.inc({ type: outcomeKind === 'invalid' ? '-' : commandTypeOf(body), outcome: answer.replayed ? 'replayed' : outcomeKind });
    if (answer.replayed) reply.header('idempotent-replayed', 'true');
    if (answer.status >= 400) reply.header('content-type', PROBLEM_CONTENT_TYPE);
    reply.status(answer.status).send(answer.body);
  }
}

function isJsonMediaType(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/json\s*(;|$)/i.test(contentType);
}

/** Only a well-formed key is honoured; the Ledger reports a malformed one as an invalid field. */
function idempotencyKeyOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const key = (body as Record<string, unknown>).idempotencyKey;
  return typeof key === 'string' && key.length >= 1 && key.length <= 256 ? key : undefined;
}

function commandTypeOf(body: unknown): string {
  const type = (body as { type?: unknown }).type;
  return typeof type === 'string' && /^[A-Za-z]{1,64}$/.test(type) ? type : '-';
}
