import { z } from 'zod';
import { ExportRequest } from '@access-ledger/exports';
import { secured as scoped } from '../docs/openapi.js';

/** The export routes in the OpenAPI document; the request body is the library's `ExportRequest` schema. */
const problems = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      String(status),
      { description: 'Problem', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } },
    ]),
  );
const path = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } });
const secured = scoped('exports:write');

const ExportAccepted = z.object({ exportId: z.string() });
const ExportView = z.object({
  exportId: z.string(),
  tenantId: z.string(),
  sink: z
    .object({ kind: z.enum(['s3', 'splunk']) })
    .catchall(z.unknown())
    .describe('The resolved sink, secrets redacted'),
  from: z.string(),
  to: z.string(),
  status: z.enum(['queued', 'running', 'succeeded', 'failed']),
  progress: z.object({ rowsTotal: z.number().int(), rowsDone: z.number().int() }),
  counts: z.object({
    rows: z.number().int(),
    objects: z.number().int().optional(),
    deadLettered: z.number().int().optional(),
    eventsSent: z.number().int().optional(),
    retries: z.number().int().optional(),
  }),
  digests: z.object({ location: z.string(), manifestKey: z.string(), digest: z.string(), previousDigest: z.string() }).nullable(),
  upToPosition: z.number().int().nullable(),
  checkpoint: z.number().int().nullable(),
  cursor: z.unknown(),
  error: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().nullable(),
});

export const EXPORT_COMPONENTS: Record<string, z.ZodType> = { ExportAccepted, ExportView, ExportList: z.object({ exports: z.array(ExportView) }) };

export const EXPORT_PATHS: Record<string, unknown> = {
  '/v1/tenants/{tenantId}/exports': {
    post: {
      operationId: 'startExport',
      summary: 'Start a one-shot export of the audit trail (S3 or Splunk HEC)',
      description:
        'The sink is checked before anything is created: an unknown bucket, refused credentials, a wrong HEC token or missing settings answer 400 (`sink-configuration`, the detail says what to fix) and no job exists. See docs/exports.md for the sink settings.',
      ...secured,
      parameters: [path('tenantId')],
      requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(ExportRequest, { io: 'input', unrepresentable: 'any' }) } } },
      responses: {
        '202': { description: 'Accepted; poll the Location', content: { 'application/json': { schema: { $ref: '#/components/schemas/ExportAccepted' } } } },
        ...problems(400, 401, 403, 413, 415, 429),
      },
    },
    get: {
      operationId: 'listExports',
      summary: "The tenant's exports",
      ...secured,
      parameters: [path('tenantId')],
      responses: {
        '200': { description: 'Every export of the tenant', content: { 'application/json': { schema: { $ref: '#/components/schemas/ExportList' } } } },
        ...problems(401, 403, 429),
      },
    },
  },
  '/v1/tenants/{tenantId}/exports/sinks': {
    get: {
      operationId: 'listLiveSinks',
      summary: "The tenant's live sinks (configured in LEDGER_SINKS_FILE): checkpoint, running, last error, delivery counters",
      ...secured,
      parameters: [path('tenantId')],
      responses: {
        '200': { description: '`{ sinks: [...] }`, one entry per live sink of the tenant', content: { 'application/json': { schema: { type: 'object' } } } },
        ...problems(401, 403, 429),
      },
    },
  },
  '/v1/tenants/{tenantId}/exports/{exportId}': {
    get: {
      operationId: 'getExport',
      summary: "An export's status, progress, counts and digests",
      ...secured,
      parameters: [path('tenantId'), path('exportId')],
      responses: {
        '200': { description: 'The export', content: { 'application/json': { schema: { $ref: '#/components/schemas/ExportView' } } } },
        ...problems(401, 403, 404, 429),
      },
    },
  },
};
