import { Controller, Inject, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { LEDGER, type LedgerUseCases } from '@access-ledger/ledger';
import { ApiKeyGuard, keyAuth, type AuthenticatedRequest } from '../auth/api-key.guard.js';
import { RequireScope } from '../auth/require-scope.js';
import { PROBLEM_CONTENT_TYPE, ProblemException, problem } from '../problem/problem.js';

/** A refused import as HTTP: lines that fail the schema are the client's error (400), unknown references a conflict with the ledger's state (409). */
const IMPORT_REFUSALS = {
  invalid: { status: 400, type: 'invalid-import', detail: 'Some lines failed validation; nothing was imported.' },
  'unknown-reference': { status: 409, type: 'import-reference-error', detail: 'Some lines refer to things that do not exist; nothing was imported.' },
} as const;

@Controller('v1/tenants/:tenantId')
@UseGuards(ApiKeyGuard)
export class ImportController {
  constructor(@Inject(LEDGER) private readonly ledger: LedgerUseCases) {}

  /** NDJSON facts from elsewhere; all or nothing, errors by line (http-api.md "Importing facts"). */
  // `::` is find-my-way's escape for a literal colon: the route is `/events:import`.
  @Post('events::import')
  @RequireScope('events:import')
  async import(@Param('tenantId') tenantId: string, @Req() request: AuthenticatedRequest, @Res() reply: FastifyReply): Promise<void> {
    if (typeof request.body !== 'string' || !/^application\/x-ndjson\s*(;|$)/i.test(request.headers['content-type'] ?? '')) {
      throw new ProblemException(problem(415, 'unsupported-media-type', 'Send the events as application/x-ndjson, one event a line.'));
    }
    const outcome = await this.ledger.importEvents(tenantId, request.body, keyAuth(request));
    if (outcome.kind === 'imported') {
      reply.status(200).send({ appended: outcome.appended, skipped: outcome.skipped });
      return;
    }
    const answer = IMPORT_REFUSALS[outcome.kind];
    reply
      .status(answer.status)
      .header('content-type', PROBLEM_CONTENT_TYPE)
      .send(problem(answer.status, answer.type, answer.detail, { errors: outcome.errors }));
  }
}
