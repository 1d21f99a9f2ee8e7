import { Controller, HttpCode, Inject, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyReply } from 'fastify';
import { ApiKeyGuard, keyAuth, type AuthenticatedRequest } from '../auth/api-key.guard.js';
import { RequireScope } from '../auth/require-scope.js';
import { PROBLEM_CONTENT_TYPE, ProblemException, problem } from '../problem/problem.js';
import { ExecuteCommand } from './execute-command.js';
import { expectedRevisionFrom } from './if-match.js';

/** `POST /v1/tenants/{t}/commands`: reads HTTP, dispatches ExecuteCommand on the bus, writes the answer. */
@Controller('v1/tenants/:tenantId')
@UseGuards(ApiKeyGuard)
export class CommandsController {
  constructor(@Inject(CommandBus) private readonly commandBus: CommandBus) {}

  @Post('commands')
  @HttpCode(201)
  @RequireScope('commands:write')
  async execute(@Param('tenantId') tenantId: string, @Req() request: AuthenticatedRequest, @Res() reply: FastifyReply): Promise<void> {
    if (!isJsonMediaType(request.headers['content-type'])) {
      throw new ProblemException(problem(415, 'unsupported-media-type', 'Send the command as application/json.'));
    }
    const expectedRevision = expectedRevisionFrom(request.headers['if-match']);
    const answer = await this.commandBus.execute(new ExecuteCommand(tenantId, request.body, expectedRevision, keyAuth(request)));
    if (answer.replayed) reply.header('idempotent-replayed', 'true');
    if (answer.status >= 400) reply.header('content-type', PROBLEM_CONTENT_TYPE);
    reply.status(answer.status).send(answer.body);
  }
}

function isJsonMediaType(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/json\s*(;|$)/i.test(contentType);
}
