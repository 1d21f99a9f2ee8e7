import { HttpException } from '@nestjs/common';
import { z } from 'zod';
import type { FieldError } from '@access-ledger/ledger';

/** An RFC 9457 problem document, the body of every error answer (http-api.md "Errors"); also its OpenAPI schema. */
export const ProblemSchema = z.object({
  type: z.string().describe('A stable URN naming the kind of problem'),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  errors: z
    .array(z.object({ path: z.string().describe('Dotted path of the failing field; `line N: …` for imports'), message: z.string() }))
    .optional()
    .describe('Every failing field'),
  rule: z.string().optional().describe('The access-model rule (R-number) that refused the command or would have been broken'),
  availableFrom: z
    .string()
    .optional()
    .describe("before-baseline: the organization's baseline instant (ISO-8601 UTC), the first instant its access can be asked about"),
});
export type Problem = z.infer<typeof ProblemSchema>;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  507: 'Insufficient Storage',
};

/** Problem types are URNs: stable identifiers a client can switch on, with nothing to dereference. */
export function problem(
  status: number,
  slug: string,
  detail: string,
  extra: { errors?: readonly FieldError[]; rule?: string; title?: string; availableFrom?: string } = {},
): Problem {
  return {
    type: `urn:access-ledger:problem:${slug}`,
    title: extra.title ?? TITLES[status] ?? 'Error',
    status,
    detail,
    ...(extra.errors !== undefined ? { errors: [...extra.errors] } : {}),
    ...(extra.rule !== undefined ? { rule: extra.rule } : {}),
    ...(extra.availableFrom !== undefined ? { availableFrom: extra.availableFrom } : {}),
  };
}

/** Thrown anywhere in the HTTP app; the ProblemFilter writes it as is. */
export class ProblemException extends HttpException {
  constructor(
    readonly problem: Problem,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(problem, problem.status);
  }
}
