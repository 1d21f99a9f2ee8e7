import type { PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { InvalidInputError, acceptedKeys, issuesOf } from '@access-ledger/ledger';

/**
 * Parses a route's query or body with its zod schema at the edge, so the handler and the library behind it get typed,
 * trusted values. A failure is the InvalidInputError the libraries throw, so the answer is the same 400
 * problem+json listing every failing field by its `path` (problem.filter.ts); an unknown parameter of a strict schema is
 * named with the accepted ones. A missing query is `{}`.
 */
export class ZodValidationPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown): z.output<S> {
    const parsed = this.schema.safeParse(value ?? {});
    if (!parsed.success) throw new InvalidInputError(issuesOf(parsed.error, acceptedKeys(this.schema)));
    return parsed.data;
  }
}
