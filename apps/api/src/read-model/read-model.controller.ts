import { Controller, Get, Inject, Param, Query, Res, UseGuards } from '@nestjs/common';
import type { ClickHouseClient } from '@clickhouse/client';
import type { FastifyReply } from 'fastify';
import { InvalidInputError, NotFoundError } from '../../../../libs/projections/src/ledger.port.js';
import { issuesOf } from '../../../../libs/projections/src/validation.js';
import { AuditSearchQuery, searchAuditEvents, type AuditSearchPage } from '../../../../libs/read-model/src/index.js';
import { ApiKeyGuard } from '../auth/api-key.guard.js';
import { RequireScope } from '../auth/require-scope.js';
import { parseReportRequest, reportNamed, runReport } from './reports.js';

/** Injection token of the read model's ClickHouse client. */
export const READ_MODEL_CLIENT = Symbol('READ_MODEL_CLIENT');

/** http-api.md § Audit and reports: the audit search and the compliance reports, read from ClickHouse. */
@Controller('v1/tenants/:tenantId')
@UseGuards(ApiKeyGuard)
export class ReadModelController {
  constructor(@Inject(READ_MODEL_CLIENT) private readonly client: ClickHouseClient) {}

  /** Newest first; `nextCursor` continues after the page's last event (keyset on occurredAt, position). */
  @Get('audit/events')
  @RequireScope('audit:read')
  async auditEvents(@Param('tenantId') tenantId: string, @Query() query: Record<string, unknown>): Promise<AuditSearchPage> {
    const parsed = AuditSearchQuery.safeParse(query);
    if (!parsed.success) throw new InvalidInputError(issuesOf(parsed.error));
    return searchAuditEvents(this.client, tenantId, parsed.data);
  }

  @Get('orgs/:orgId/reports/:report')
  @RequireScope('audit:read')
  async report(
    @Param('tenantId') tenantId: string,
    @Param('orgId') orgId: string,
    @Param('report') name: string,
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string | Record<string, unknown>> {
    const definition = reportNamed(name);
    if (!definition) throw new NotFoundError(`There is no report named "${name.slice(0, 64)}".`);
    const request = parseReportRequest(definition, orgId, query);
    const rendered = await runReport(this.client, tenantId, definition, request);
    reply.header('content-type', rendered.contentType);
    if (request.format === 'csv') reply.header('content-disposition', `attachment; filename="${definition.name}-${request.orgId}.csv"`);
    return rendered.body;
  }
}
