import type { z } from 'zod';
import type { FieldError } from './ledger.port.js';

/** Every failing field of a zod error, as `path: message` pairs (problem+json `errors`). */
export function issuesOf(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
}
