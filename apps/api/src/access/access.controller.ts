import { Controller, Get, Inject, Param, Query, UseGuards } from '@nestjs/common';
import { ACCESS_QUERIES, type AccessQueries } from '@access-ledger/ledger';
import { ApiKeyGuard } from '../auth/api-key.guard.js';
import { RequireScope } from '../auth/require-scope.js';

/** http-api.md § Access queries: every route takes `at` and `knownAt` (R60), validated by AccessQueries. */
@Controller('v1/tenants/:tenantId/orgs/:orgId')
@UseGuards(ApiKeyGuard)
export class AccessController {
  constructor(@Inject(ACCESS_QUERIES) private readonly queries: AccessQueries) {}

  @Get('members/:userId/access')
  @RequireScope('access:read')
  access(@Param('tenantId') t: string, @Param('orgId') o: string, @Param('userId') u: string, @Query() q: unknown) {
    return this.queries.memberAccess(t, o, u, q);
  }

  @Get('access/holders')
  @RequireScope('access:read')
  holders(@Param('tenantId') t: string, @Param('orgId') o: string, @Query() q: unknown) {
    return this.queries.holders(t, o, q);
  }

  @Get('members/:userId/access/diff')
  @RequireScope('access:read')
  diff(@Param('tenantId') t: string, @Param('orgId') o: string, @Param('userId') u: string, @Query() q: unknown) {
    return this.queries.diff(t, o, u, q);
  }

  @Get('access/changes')
  @RequireScope('access:read')
  changes(@Param('tenantId') t: string, @Param('orgId') o: string, @Query() q: unknown) {
    return this.queries.changes(t, o, q);
  }

  @Get('members/:userId/access/timeline')
  @RequireScope('access:read')
  timeline(@Param('tenantId') t: string, @Param('orgId') o: string, @Param('userId') u: string, @Query() q: unknown) {
    return this.queries.timeline(t, o, u, q);
  }
}
