import { Controller, Get, Inject, Param, Query, UseGuards } from '@nestjs/common';
import {
  ACCESS_QUERIES,
  type AccessQueries,
  type HoldersAccessQuery,
  type MemberAccessQuery,
  type TimelineAccessQuery,
  type WindowAccessQuery,
} from '@access-ledger/ledger';
import { ApiKeyGuard } from '../auth/api-key.guard.js';
import { RequireScope } from '../auth/require-scope.js';
import { ZodValidationPipe } from '../validation/zod-validation.pipe.js';
import { ACCESS_PREFIX, ACCESS_ROUTES as R } from './access.routes.js';

/** http-api.md § Access queries: every route takes `at` and `knownAt` (R60); path, scope and query schema from access.routes.ts. */
@Controller(ACCESS_PREFIX)
@UseGuards(ApiKeyGuard)
export class AccessController {
  constructor(@Inject(ACCESS_QUERIES) private readonly queries: AccessQueries) {}

  @Get(R.access.path)
  @RequireScope(R.access.scope, { query: true })
  access(
    @Param('tenantId') t: string,
    @Param('orgId') o: string,
    @Param('userId') u: string,
    @Query(new ZodValidationPipe(R.access.query)) q: MemberAccessQuery,
  ) {
    return this.queries.memberAccess(t, o, u, q);
  }

  @Get(R.holders.path)
  @RequireScope(R.holders.scope, { query: true })
  holders(@Param('tenantId') t: string, @Param('orgId') o: string, @Query(new ZodValidationPipe(R.holders.query)) q: HoldersAccessQuery) {
    return this.queries.holders(t, o, q);
  }

  @Get(R.diff.path)
  @RequireScope(R.diff.scope, { query: true })
  diff(@Param('tenantId') t: string, @Param('orgId') o: string, @Param('userId') u: string, @Query(new ZodValidationPipe(R.diff.query)) q: WindowAccessQuery) {
    return this.queries.diff(t, o, u, q);
  }

  @Get(R.changes.path)
  @RequireScope(R.changes.scope, { query: true })
  changes(@Param('tenantId') t: string, @Param('orgId') o: string, @Query(new ZodValidationPipe(R.changes.query)) q: WindowAccessQuery) {
    return this.queries.changes(t, o, q);
  }

  @Get(R.timeline.path)
  @RequireScope(R.timeline.scope, { query: true })
  timeline(
    @Param('tenantId') t: string,
    @Param('orgId') o: string,
    @Param('userId') u: string,
    @Query(new ZodValidationPipe(R.timeline.query)) q: TimelineAccessQuery,
  ) {
    return this.queries.timeline(t, o, u, q);
  }
}
