import { Controller, Get, Inject, Param, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { LEDGER, type LedgerUseCases } from '@access-ledger/ledger';
import { ApiKeyGuard } from '../auth/api-key.guard.js';
import { RequireScope } from '../auth/require-scope.js';

@Controller('v1/tenants/:tenantId')
@UseGuards(ApiKeyGuard)
export class IntegrityController {
  constructor(@Inject(LEDGER) private readonly ledger: LedgerUseCases) {}

  /**
   * Walks the tenant's hash chain. The ETag is the stream's current revision, the value a writer sends
   * as If-Match for optimistic concurrency.
   */
  @Get('integrity')
  @RequireScope('audit:read')
  async integrity(@Param('tenantId') tenantId: string, @Res() reply: FastifyReply): Promise<void> {
    const result = await this.ledger.integrity(tenantId);
    if (result.events > 0) reply.header('etag', `"${result.events - 1}"`);
    reply.status(200).send(result);
  }
}
