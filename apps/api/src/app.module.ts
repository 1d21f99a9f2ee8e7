import type { DatabaseSync } from 'node:sqlite';
import { type DynamicModule, Inject, Module, type ModuleMetadata, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { Registry } from 'prom-client';
import { CommandBody, EVENT_DATA, ImportLine } from '@access-ledger/access-model';
import { LEDGER, type LedgerUseCases } from '@access-ledger/ledger';
import { ApiKeyGuard } from './auth/api-key.guard.js';
import { CommandsModule } from './commands/commands.module.js';
import { DocsModule } from './docs/docs.module.js';
import { buildOpenApi, type DocumentedSchemas } from './docs/openapi.js';
import type { Feature } from './feature.js';
import { IdempotencyStore } from './idempotency/idempotency-store.js';
import { IdempotentExecution } from './idempotency/idempotent-execution.js';
import { ImportsModule } from './imports/imports.module.js';
import { IntegrityModule } from './integrity/integrity.module.js';
import { ApiKeyStore } from './keys/api-key-store.js';
import { ApiMetrics, METRICS_REGISTRY } from './metrics/api-metrics.js';
import { SourceMetrics } from './metrics/source-metrics.js';
import { collectNodeMetrics } from './metrics/node-metrics.js';
import { OperationsModule } from './operations/operations.module.js';
import { ProblemFilter } from './problem/problem.filter.js';
import { type RateLimit, TokenBuckets } from './rate-limit/token-bucket.js';
import { openApiDatabase } from './storage/api-database.js';

export type ClosableLedger = LedgerUseCases & { close(): Promise<void> };

export interface AppModuleOptions {
  readonly ledger: ClosableLedger;
  /** Where the API's SQLite file (keys, idempotency answers) lives: the same data directory as the stores. */
  readonly dataDir: string;
  /** Pass a Registry to add your own series to /metrics; default: a new one with Node's default metrics. */
  readonly registry?: Registry;
  /** Per API key; default 1 000/s with bursts of 2 000. perSecond 0 disables. */
  readonly rateLimit?: RateLimit;
  /** What /docs describes; CommandBody, ImportLine and the event catalog of libs/access-model unless replaced; add `paths`/`components` for more routes. */
  readonly schemas?: DocumentedSchemas;
  /** Close the ledger when the app shuts down (default true: the app owns it). */
  readonly closeLedgerOnShutdown?: boolean;
  /** More feature modules (access queries, audit and reports, exports: compose.ts chooses them), each with its docs. */
  readonly features?: readonly Feature[];
  /**
   * More routes outside a feature (a test's own controller): modules, controllers and providers. Controllers
   * use `@UseGuards(ApiKeyGuard)` and `@RequireScope(...)` on `/v1/tenants/:tenantId/...` paths and throw
   * `ProblemException` / `NotFoundError` / `InvalidInputError` for errors; LEDGER, METRICS_REGISTRY and the
   * guard's dependencies are available to them.
   */
  readonly imports?: ModuleMetadata['imports'];
  readonly controllers?: ModuleMetadata['controllers'];
  readonly providers?: Provider[];
}

export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 1000, burst: 2000 };

const API_DATABASE = Symbol('API_DATABASE');
const APP_OPTIONS = Symbol('APP_OPTIONS');

/** Closes what the module opened, after the HTTP server has stopped and finished its in-flight requests. */
class ApiLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(APP_OPTIONS) private readonly options: AppModuleOptions,
    @Inject(API_DATABASE) private readonly db: DatabaseSync,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.options.closeLedgerOnShutdown ?? true) await this.options.ledger.close();
    if (this.db.isOpen) this.db.close();
  }
}

@Module({})
export class AppModule {
  static forRoot(options: AppModuleOptions): DynamicModule {
    let registry = options.registry;
    if (!registry) {
      registry = new Registry();
      collectNodeMetrics(registry);
    }
    const features = options.features ?? [];
    const document = buildOpenApi({
      commandBody: CommandBody,
      importLine: ImportLine,
      eventData: EVENT_DATA,
      ...options.schemas,
      paths: Object.assign({}, ...features.map((f) => f.docs?.paths ?? {}), options.schemas?.paths),
      components: Object.assign({}, ...features.map((f) => f.docs?.components ?? {}), options.schemas?.components),
    });
    return {
      module: AppModule,
      // Global, so that the feature modules can use the guard and inject LEDGER / METRICS_REGISTRY.
      global: true,
      // What is served: the write side's routes, operations and docs always; the features compose.ts chose.
      imports: [
        CqrsModule.forRoot(),
        CommandsModule,
        ImportsModule,
        IntegrityModule,
        OperationsModule,
        DocsModule.forDocument(document),
        ...features.map((f) => f.module),
        ...(options.imports ?? []),
      ],
      controllers: [...(options.controllers ?? [])],
      providers: [
        { provide: APP_OPTIONS, useValue: options },
        { provide: LEDGER, useValue: options.ledger },
        { provide: API_DATABASE, useFactory: () => openApiDatabase(options.dataDir) },
        { provide: ApiKeyStore, useFactory: (db: DatabaseSync) => new ApiKeyStore(db), inject: [API_DATABASE] },
        { provide: IdempotencyStore, useFactory: (db: DatabaseSync) => new IdempotencyStore(db), inject: [API_DATABASE] },
        { provide: IdempotentExecution, useFactory: (store: IdempotencyStore) => new IdempotentExecution(store), inject: [IdempotencyStore] },
        { provide: TokenBuckets, useValue: new TokenBuckets(options.rateLimit ?? DEFAULT_RATE_LIMIT) },
        { provide: METRICS_REGISTRY, useValue: registry },
        { provide: ApiMetrics, useValue: new ApiMetrics(registry, options.ledger) },
        { provide: SourceMetrics, useValue: new SourceMetrics(registry, options.dataDir) },
        { provide: APP_FILTER, useClass: ProblemFilter },
        ApiKeyGuard,
        ApiLifecycle,
        ...(options.providers ?? []),
      ],
      exports: [METRICS_REGISTRY, LEDGER, ApiKeyStore, ApiKeyGuard, TokenBuckets, IdempotentExecution, ApiMetrics],
    };
  }
}
