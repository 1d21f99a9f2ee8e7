import { type DynamicModule, Module } from '@nestjs/common';
import { ACCESS_QUERIES, type AccessQueries } from '@access-ledger/ledger';
import type { Feature } from '../feature.js';
import { AccessController } from './access.controller.js';
import { ACCESS_PATHS } from './access.routes.js';

/** http-api.md § Access queries, over the ledger's access projection. */
@Module({})
export class AccessModule {
  static forQueries(queries: AccessQueries): DynamicModule {
    return { module: AccessModule, controllers: [AccessController], providers: [{ provide: ACCESS_QUERIES, useValue: queries }] };
  }
}

export function accessFeature(queries: AccessQueries): Feature {
  return { module: AccessModule.forQueries(queries), docs: { paths: ACCESS_PATHS } };
}
