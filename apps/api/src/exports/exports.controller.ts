import { Body, Controller, Get, HttpCode, Inject, Param, Post, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { SinkConfigurationError, type ExportJob, type ExportJobs, type FollowerStatus } from '@access-ledger/exports';
import { InvalidInputError, NotFoundError, issuesOf } from '@access-ledger/ledger';
import { ApiKeyGuard } from '../auth/api-key.guard.js';
import { RequireScope } from '../auth/require-scope.js';
import { ProblemException, problem } from '../problem/problem.js';

/** Injection token of the server's ExportJobs. */
export const EXPORT_JOBS = Symbol('EXPORT_JOBS');
/** Injection token of what lists the live sinks (the ExportService). */
export const LIVE_SINKS = Symbol('LIVE_SINKS');

/** http-api.md § Exports: one-shot exports of the audit trail to S3 or Splunk, run in the background. */
@Controller('v1/tenants/:tenantId/exports')
@UseGuards(ApiKeyGuard)
export class ExportsController {
  constructor(
    @Inject(EXPORT_JOBS) private readonly jobs: ExportJobs,
    @Inject(LIVE_SINKS) private readonly live: { liveSinks(tenantId: string): FollowerStatus[] },
  ) {}

  /** The live sinks configured for this tenant (LEDGER_SINKS_FILE), each with its checkpoint and last error. */
  @Get('sinks')
  @RequireScope('exports:write')
  sinks(@Param('tenantId') tenantId: string): { sinks: FollowerStatus[] } {
    return { sinks: this.live.liveSinks(tenantId) };
  }

  /** 202 once the sink is known to work (bucket exists, credentials or token accepted); nothing is created otherwise. */
  @Post()
  @HttpCode(202)
  @RequireScope('exports:write')
  async start(@Param('tenantId') tenantId: string, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply): Promise<{ exportId: string }> {
    try {
      const accepted = await this.jobs.start(tenantId, body);
      reply.header('location', `/v1/tenants/${encodeURIComponent(tenantId)}/exports/${encodeURIComponent(accepted.exportId)}`);
      return accepted;
    } catch (error) {
      if (error instanceof z.ZodError) throw new InvalidInputError(issuesOf(error));
      if (error instanceof SinkConfigurationError) throw new ProblemException(problem(400, 'sink-configuration', error.message));
      throw error;
    }
  }

  @Get()
  @RequireScope('exports:write')
  list(@Param('tenantId') tenantId: string): { exports: ExportJob[] } {
    return { exports: this.jobs.list(tenantId) };
  }

  /** Status, progress, counts and digests; another tenant's export is as unknown as a missing one (404). */
  @Get(':exportId')
  @RequireScope('exports:write')
  get(@Param('tenantId') tenantId: string, @Param('exportId') exportId: string): ExportJob {
    const job = this.jobs.get(tenantId, exportId);
    if (!job) throw new NotFoundError('There is no such export for this tenant.');
    return job;
  }
}
