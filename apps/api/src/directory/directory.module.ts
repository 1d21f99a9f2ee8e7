import { type DynamicModule, Module } from '@nestjs/common';
import type { DirectoryQueries } from '@access-ledger/ledger';
import type { Feature } from '../feature.js';
import { DIRECTORY_QUERIES, DirectoryController } from './directory.controller.js';
import { DIRECTORY_COMPONENTS, DIRECTORY_PATHS } from './directory.routes.js';

/** discovery, docs/api.md § Routes: organizations, members, groups, catalog and one event by id, over the ledger. */
@Module({})
export class DirectoryModule {
  static forQueries(directory: DirectoryQueries): DynamicModule {
    return { module: DirectoryModule, controllers: [DirectoryController], providers: [{ provide: DIRECTORY_QUERIES, useValue: directory }] };
  }
}

export function directoryFeature(directory: DirectoryQueries): Feature {
  return { module: DirectoryModule.forQueries(directory), docs: { paths: DIRECTORY_PATHS, components: DIRECTORY_COMPONENTS } };
}
