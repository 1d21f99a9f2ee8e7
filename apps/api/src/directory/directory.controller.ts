import { Controller, Get, Inject, Param, Query, UseGuards } from '@nestjs/common';
import type { DirectoryQueries, GroupDirectoryQuery, GroupsDirectoryQuery, InstantDirectoryQuery, MembersDirectoryQuery } from '@access-ledger/ledger';
import { ApiKeyGuard } from '../auth/api-key.guard.js';
import { RequireScope } from '../auth/require-scope.js';
import { ZodValidationPipe } from '../validation/zod-validation.pipe.js';
import { DIRECTORY_PREFIX, DIRECTORY_ROUTES as R } from './directory.routes.js';

export const DIRECTORY_QUERIES = Symbol('DIRECTORY_QUERIES');

/** discovery, docs/api.md § Routes; path, scope and query schema from directory.routes.ts. */
@Controller(DIRECTORY_PREFIX)
@UseGuards(ApiKeyGuard)
export class DirectoryController {
  constructor(@Inject(DIRECTORY_QUERIES) private readonly directory: DirectoryQueries) {}

  @Get(R.orgs.path)
  @RequireScope(R.orgs.scope, { query: true })
  orgs(@Param('tenantId') t: string, @Query(new ZodValidationPipe(R.orgs.query)) q: InstantDirectoryQuery) {
    return this.directory.orgs(t, q);
  }

  @Get(R.members.path)
  @RequireScope(R.members.scope, { query: true })
  members(@Param('tenantId') t: string, @Param('orgId') o: string, @Query(new ZodValidationPipe(R.members.query)) q: MembersDirectoryQuery) {
    return this.directory.members(t, o, q);
  }

  @Get(R.groups.path)
  @RequireScope(R.groups.scope, { query: true })
  groups(@Param('tenantId') t: string, @Param('orgId') o: string, @Query(new ZodValidationPipe(R.groups.query)) q: GroupsDirectoryQuery) {
    return this.directory.groups(t, o, q);
  }

  @Get(R.group.path)
  @RequireScope(R.group.scope, { query: true })
  group(
    @Param('tenantId') t: string,
    @Param('orgId') o: string,
    @Param('groupId') g: string,
    @Query(new ZodValidationPipe(R.group.query)) q: GroupDirectoryQuery,
  ) {
    return this.directory.group(t, o, g, q);
  }

  @Get(R.catalog.path)
  @RequireScope(R.catalog.scope, { query: true })
  catalog(@Param('tenantId') t: string, @Param('orgId') o: string, @Query(new ZodValidationPipe(R.catalog.query)) q: InstantDirectoryQuery) {
    return this.directory.catalog(t, o, q);
  }

  @Get(R.event.path)
  @RequireScope(R.event.scope)
  event(@Param('tenantId') t: string, @Param('eventId') id: string, @Query(new ZodValidationPipe(R.event.query)) _q: unknown) {
    return this.directory.event(t, id);
  }
}
