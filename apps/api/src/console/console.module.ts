import { type DynamicModule, Module } from '@nestjs/common';
import type { Feature } from '../feature.js';
import { CONSOLE_ASSETS, ConsoleController, type ConsoleAssets, loadConsoleAssets } from './console.controller.js';
import { CONSOLE_PATHS } from './console.docs.js';

/** The web console's page and bundles (docs/console.md), read once from `npm run build`'s output. */
@Module({})
export class ConsoleModule {
  static forAssets(assets: ConsoleAssets): DynamicModule {
    return { module: ConsoleModule, controllers: [ConsoleController], providers: [{ provide: CONSOLE_ASSETS, useValue: assets }] };
  }
}

export function consoleFeature(assets: ConsoleAssets = loadConsoleAssets()): Feature {
  return { module: ConsoleModule.forAssets(assets), docs: { paths: CONSOLE_PATHS } };
}
