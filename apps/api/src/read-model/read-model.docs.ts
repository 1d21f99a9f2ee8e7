import { z } from 'zod';
import { AuditSearchQuery } from '@access-ledger/read-model';
import { MinPosition } from './freshness.js';
import { REPORTS, ReportFormat } from './reports.js';
import { beforeBaselineProblem, pathParameter, queryParameters, queryProblems, secured as scoped } from '../docs/openapi.js';

/**
 * The audit and report routes in the OpenAPI document. Query parameters come from the zod schemas that validate
 * them (libs/read-model's, through the report catalog), so the document cannot list parameters the server refuses.
 */

const path = pathParameter;
/** Every audit and report answer may also be a 503 while the read model has not reached `minPosition`. */
const problems = {
  ...queryProblems,
  '503': {
    description: 'The read model does not hold `minPosition` yet (`Retry-After`, `Ledger-Projected-Through`)',
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  },
};
const minPosition = queryParameters(z.object({ minPosition: MinPosition }));
const projectedThrough = {
  'Ledger-Projected-Through': {
    description: "The store position through which the table this answer read held every event (every tenant's); -1 before the first batch",
    schema: { type: 'integer' },
  },
};
const secured = scoped('audit:read');

const AuditEvent = z.object({
  id: z.string(),
  position: z.number().int(),
  revision: z.number().int(),
  type: z.string(),
  tenantId: z.string(),
  orgId: z.string().nullable(),
  actor: z.object({ kind: z.string(), orgId: z.string().optional(), userId: z.string().optional() }),
  subject: z.string().nullable(),
  occurredAt: z.string(),
  recordedAt: z.string(),
  source: z.string(),
  correlationId: z.string().nullable(),
  causationId: z.string().nullable(),
  data: z.unknown(),
  hash: z.string(),
  auth: z
    .union([
      z.object({ keyId: z.string(), principal: z.object({ kind: z.string(), orgId: z.string().optional(), userId: z.string().optional() }) }),
      z.object({ via: z.literal('cli') }),
    ])
    .nullable()
    .describe(
      'Who was authenticated when the event was stored: the API key and its principal, or `{via:"cli"}`; null for events stored before this was recorded',
    ),
});
const AuditEventsPage = z.object({
  events: z.array(AuditEvent),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last'),
});

export const READ_MODEL_COMPONENTS: Record<string, z.ZodType> = { AuditEventsPage };

export const READ_MODEL_PATHS: Record<string, unknown> = {
  '/v1/tenants/{tenantId}/audit/events': {
    get: {
      operationId: 'searchAuditEvents',
      summary: 'Search the audit trail',
      description:
        'Newest first (occurredAt, then position). `actor` matches a member userId or an actor kind; `type` is one type or a comma-separated list; `from` inclusive, `to` exclusive; `cursor` is the `nextCursor` of the previous page.',
      ...secured,
      parameters: [path('tenantId'), ...queryParameters(AuditSearchQuery), ...minPosition],
      responses: {
        '200': {
          description: 'A page of events',
          headers: projectedThrough,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/AuditEventsPage' } } },
        },
        ...problems,
      },
    },
  },
  ...Object.fromEntries(
    REPORTS.map((report) => [
      `/v1/tenants/{tenantId}/orgs/{orgId}/reports/${report.name}`,
      {
        get: {
          // `access-review` → `reportAccessReview`
          operationId: `report${report.name.replace(/(^|-)([a-z])/g, (_m, _dash, c: string) => c.toUpperCase())}`,
          summary: report.summary,
          description: `${report.description} \`format=csv\` answers RFC 4180 CSV (one row per line of the report, spreadsheet formulas guarded).`,
          ...secured,
          parameters: [
            path('tenantId'),
            path('orgId'),
            ...queryParameters(report.schema),
            { name: 'format', in: 'query', required: false, schema: z.toJSONSchema(ReportFormat, { io: 'input' }) },
            ...minPosition,
          ],
          responses: {
            '200': {
              description: 'The report',
              headers: projectedThrough,
              content: { 'application/json': { schema: { type: 'object' } }, 'text/csv': { schema: { type: 'string' } } },
            },
            ...problems,
            ...beforeBaselineProblem,
          },
        },
      },
    ]),
  ),
};
