import { Controller, Get, Inject, Param, Query, Res, UseGuards } from '@nestjs/common';
import type { ClickHouseClient } from '@clickhouse/client';
import type { FastifyReply } from 'fastify';
import type { Readable } from 'node:stream';
import { NotFoundError } from '@access-ledger/ledger';
import { searchAuditEvents, type AuditSearchPage } from '@access-ledger/read-model';
import { ApiKeyGuard } from '../auth/api-key.guard.js';
import { RequireScope } from '../auth/require-scope.js';
import { PROJECTED_THROUGH_HEADER, readProjected } from './freshness.js';
import { parseAuditSearchRequest, parseReportRequest, REPORTS, reportNamed, reportSince, requireKnownPermissions, runReport } from './reports.js';

/** Injection token of the read model's ClickHouse client. */
export const READ_MODEL_CLIENT = Symbol('READ_MODEL_CLIENT');

/** Injection token of how the routes read: how long `minPosition` may wait (`READ_MODEL_WAIT_MS`). */
export const READ_MODEL_READS = Symbol('READ_MODEL_READS');
export interface ReadModelReads {
  readonly maxWaitMs: number;
}

/**
 * Injection token of which organizations exist: the Ledger's access projection (`AccessQueries.requireOrganization`,
 * 404 for an unknown one), the same answer as the access routes — ClickHouse holding no rows is no evidence.
 */
export const KNOWN_ORGANIZATIONS = Symbol('KNOWN_ORGANIZATIONS');
export interface KnownOrganizations {
  /** 404 for an unknown organization; 409 before-baseline when `from` (ISO-8601) is before its baseline. */
  requireOrganization(tenantId: string, orgId: string, from?: string): Promise<void>;
  /** 400 unless the organization can hold a permission of that name (a misspelt one would be an empty report). */
  requirePermission(tenantId: string, orgId: string, permission: string, path?: string, levels?: readonly string[]): Promise<void>;
}

/** http-api.md § Audit and reports: the audit search and the compliance reports, read from ClickHouse. */
@Controller('v1/tenants/:tenantId')
@UseGuards(ApiKeyGuard)
export class ReadModelController {
  constructor(
    @Inject(READ_MODEL_CLIENT) private readonly client: ClickHouseClient,
    @Inject(READ_MODEL_READS) private readonly reads: ReadModelReads,
    @Inject(KNOWN_ORGANIZATIONS) private readonly orgs: KnownOrganizations,
  ) {}

  /**
   * Newest first; `nextCursor` continues after the page's last event (keyset on occurredAt, position). Every answer
   * says through which store position the audit trail was complete (freshness.ts).
   */
  @Get('audit/events')
  @RequireScope('audit:read', { query: true })
  async auditEvents(
    @Param('tenantId') tenantId: string,
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AuditSearchPage> {
    const search = parseAuditSearchRequest(query);
    const { through, answer } = await readProjected(this.client, 'audit_events', search.minPosition, this.reads.maxWaitMs, () =>
      searchAuditEvents(this.client, tenantId, search.query),
    );
    reply.header(PROJECTED_THROUGH_HEADER, String(through));
    return answer;
  }

  @Get('orgs/:orgId/reports/:report')
  @RequireScope('audit:read', { query: true })
  async report(
    @Param('tenantId') tenantId: string,
    @Param('orgId') orgId: string,
    @Param('report') name: string,
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string | Record<string, unknown> | Readable> {
    const definition = reportNamed(name);
    if (!definition)
      throw new NotFoundError(`There is no report named ${JSON.stringify(name.slice(0, 64))}; reports: ${REPORTS.map((r) => r.name).join(', ')}.`);
    const request = parseReportRequest(definition, orgId, query);
    await this.orgs.requireOrganization(tenantId, request.orgId, reportSince(definition, request));
    await requireKnownPermissions(this.orgs, tenantId, request);
    const { through, answer: rendered } = await readProjected(this.client, definition.reads, request.minPosition, this.reads.maxWaitMs, () =>
      runReport(this.client, tenantId, definition, request),
    );
    reply.header(PROJECTED_THROUGH_HEADER, String(through));
    reply.header('content-type', rendered.contentType);
    if (request.format === 'csv') reply.header('content-disposition', `attachment; filename="${definition.name}-${request.orgId}.csv"`);
    // A stream (the access review's CSV) is piped to the response by Fastify as ClickHouse answers.
    return rendered.body;
  }
}
