import type { DynamicModule, Type } from '@nestjs/common';
import type { z } from 'zod';

/**
 * A group of routes the server serves: its Nest module (controllers and the providers they need) and what it adds to
 * the OpenAPI document. AppModule imports every feature it is given, so the module tree is the list of what is served.
 */
export interface Feature {
  readonly module: Type | DynamicModule;
  readonly docs?: FeatureDocs;
}

export interface FeatureDocs {
  /** OpenAPI path items, merged into the document as given. */
  readonly paths: Readonly<Record<string, unknown>>;
  /** Named schemas the paths reference as `#/components/schemas/<name>`. */
  readonly components?: Readonly<Record<string, z.ZodType>>;
}
