import { z } from 'zod';
import { SCOPES, type Scope } from '../keys/scopes.js';
import { ProblemSchema } from '../problem/problem.js';

/** The request schemas the document describes; they come from libs/access-model, the single source. */
export interface DocumentedSchemas {
  readonly commandBody?: z.ZodType;
  readonly importLine?: z.ZodType;
  /** The `data` schema of every event type (the catalog), shown as `EventData.<Type>`. */
  readonly eventData?: Readonly<Record<string, z.ZodType>>;
  /** More named schemas (e.g. query answers), referenced from `paths` as `#/components/schemas/<name>`. */
  readonly components?: Readonly<Record<string, z.ZodType>>;
  /** More path items (other route modules), merged into the document as given. */
  readonly paths?: Readonly<Record<string, unknown>>;
}

const AppendedEvents = z.object({
  events: z.array(z.object({ id: z.string(), type: z.string(), position: z.number().int() })),
});
const ImportResult = z.object({ appended: z.number().int(), skipped: z.number().int() });
const Integrity = z.object({
  events: z.number().int(),
  head: z.string().nullable(),
  valid: z.boolean(),
  firstBadPosition: z.number().int().optional(),
});
const Health = z.object({ status: z.literal('ok') });

type Json = Record<string, unknown>;

/**
 * OpenAPI 3.1 document generated from the zod schemas with zod 4's `z.toJSONSchema` (JSON Schema 2020-12,
 * the dialect OpenAPI 3.1 uses). Shared definitions a schema extracts (`$defs`) move to
 * `components.schemas`, where the document's `$ref`s can reach them.
 */
export function buildOpenApi(schemas: DocumentedSchemas, info: { version: string } = { version: '0.1.0' }): Json {
  const components: Record<string, unknown> = {};
  const add = (name: string, schema: z.ZodType, io: 'input' | 'output'): Json => {
    components[name] = toComponent(schema, io, components);
    return { $ref: `#/components/schemas/${name}` };
  };
  const problemRef = add('Problem', ProblemSchema, 'output');
  const commandRef = schemas.commandBody ? add('CommandBody', schemas.commandBody, 'input') : { type: 'object' };
  if (schemas.importLine) add('ImportLine', schemas.importLine, 'input');
  for (const [type, schema] of Object.entries(schemas.eventData ?? {})) add(`EventData.${type}`, schema, 'input');
  for (const [name, schema] of Object.entries(schemas.components ?? {})) add(name, schema, 'output');
  const appendedRef = add('AppendedEvents', AppendedEvents, 'output');
  const importResultRef = add('ImportResult', ImportResult, 'output');
  const integrityRef = add('Integrity', Integrity, 'output');
  const healthRef = add('Health', Health, 'output');

  const problems = (...statuses: number[]): Json =>
    Object.fromEntries(
      statuses.map((s) => [String(s), { description: PROBLEM_TEXT[s] ?? 'Problem', content: { 'application/problem+json': { schema: problemRef } } }]),
    );
  const tenant = { name: 'tenantId', in: 'path', required: true, schema: { type: 'string' } };

  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    // The document is served by the server it describes: relative to where it was fetched from.
    servers: [{ url: '/', description: 'The server that serves this document' }],
    info: {
      title: 'access-ledger',
      version: info.version,
      description: 'Event-sourced audit and compliance ledger for AI-assistant access control. Every error is application/problem+json (RFC 9457).',
    },
    components: {
      schemas: components,
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: `API key of one tenant. Scopes: ${SCOPES.join(', ')}.` },
      },
    },
    paths: {
      '/v1/tenants/{tenantId}/commands': {
        post: {
          operationId: 'executeCommand',
          summary: 'Execute a command',
          description:
            'Validates, authorizes (R22) and decides the command; appends its events. Without `actor`, the command acts as the API key\'s principal; naming another actor needs the scope for its kind (admin: system, scim: scim, platform: platform, act-as-member: a member), else 403 actor-not-allowed. An `idempotencyKey` in the body makes retries safe: the same key returns the first answer and appends nothing. `If-Match: "<revision>"` makes the append conditional on the tenant stream revision (see the ETag of /integrity).',
          ...secured('commands:write'),
          parameters: [tenant, { name: 'If-Match', in: 'header', required: false, schema: { type: 'string', pattern: '^(W/)?"?\\d+"?$' } }],
          requestBody: { required: true, content: { 'application/json': { schema: commandRef } } },
          responses: {
            '201': { description: 'Events appended', content: { 'application/json': { schema: appendedRef } } },
            ...problems(400, 401, 403, 409, 413, 415, 429, 503, 507),
          },
        },
      },
      '/v1/tenants/{tenantId}/events:import': {
        post: {
          operationId: 'importEvents',
          summary: 'Import facts recorded elsewhere (NDJSON)',
          description:
            'One ImportLine per line. Schema and reference validation, no R22 check. A failing line is reported by number and nothing is stored; ids already stored in this tenant are skipped; a `__proto__` or `constructor.prototype` key anywhere is refused.',
          ...secured('events:import'),
          parameters: [tenant],
          // One ImportLine per line. OpenAPI 3.1 has no keyword for the schema of each line (3.2's itemSchema): the body is
          // a string, and the line's schema is named in its description and kept in components.schemas.ImportLine.
          requestBody: {
            required: true,
            content: {
              'application/x-ndjson': {
                schema: { type: 'string', description: 'Newline-delimited JSON, each line an ImportLine (#/components/schemas/ImportLine)' },
              },
            },
          },
          responses: {
            '200': { description: 'Imported', content: { 'application/json': { schema: importResultRef } } },
            ...problems(400, 401, 403, 409, 413, 415, 429, 503, 507),
          },
        },
      },
      '/v1/tenants/{tenantId}/integrity': {
        get: {
          operationId: 'verifyIntegrity',
          summary: "Verify the tenant's hash chain",
          ...secured('audit:read'),
          parameters: [tenant],
          responses: {
            '200': { description: 'Chain verification; ETag is the current stream revision', content: { 'application/json': { schema: integrityRef } } },
            ...problems(401, 403, 429),
          },
        },
      },
      '/health': {
        get: {
          operationId: 'health',
          summary: 'Liveness',
          ...PUBLIC,
          responses: { '200': { description: 'Alive', content: { 'application/json': { schema: healthRef } } } },
        },
      },
      '/ready': {
        get: {
          operationId: 'ready',
          summary: 'Readiness: event store and read model reachable, every projection caught up with the head found at start',
          ...PUBLIC,
          responses: { '200': { description: 'Ready', content: { 'application/json': { schema: { type: 'object' } } } }, ...problems(503) },
        },
      },
      '/metrics': {
        get: {
          operationId: 'metrics',
          summary: 'Prometheus metrics',
          ...PUBLIC,
          responses: {
            '200': { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } },
            ...problems(429),
          },
        },
      },
      '/docs': {
        get: {
          operationId: 'docsPage',
          summary: 'This document as an HTML page',
          ...PUBLIC,
          responses: {
            '200': { description: 'The page (strong ETag)', content: { 'text/html': { schema: { type: 'string' } } } },
            '304': { description: 'If-None-Match matched the ETag' },
            ...problems(429),
          },
        },
      },
      '/docs/openapi.json': {
        get: {
          operationId: 'openApiDocument',
          summary: 'This OpenAPI document',
          ...PUBLIC,
          responses: {
            '200': { description: 'The document (strong ETag)', content: { 'application/json': { schema: { type: 'object' } } } },
            '304': { description: 'If-None-Match matched the ETag' },
            ...problems(429),
          },
        },
      },
      ...(schemas.paths ?? {}),
    },
  };
}

/**
 * The security of a route under `/v1/tenants/{tenantId}`: an API key of the tenant with `scope`. The scope is the one
 * the route's `@RequireScope` names (apps/api/test/openapi.e2e-spec.ts compares them).
 */
export const secured = (scope: Scope) => ({ security: [{ apiKey: [scope] }], 'x-required-scope': scope });

/** A route without a key (probes, metrics, docs): security says so explicitly, as OpenAPI asks. */
export const PUBLIC = { security: [] as never[] };

const PROBLEM_TEXT: Record<number, string> = {
  400: 'Invalid body or parameter; every failing field is listed',
  401: 'Missing or unknown API key',
  403: 'Key of another tenant or without the scope; or the command was refused (R22)',
  409: 'Invariant violated, concurrency conflict, or import references unknown things',
  413: 'Body over the limit',
  415: 'Wrong content type',
  429: 'Rate limited; see Retry-After',
  404: 'Unknown thing named in the path or the query',
  503: "Not ready; on writes: integrity-broken (the tenant's hash chain does not verify) or write-contention (see Retry-After)",
  507: 'storage-full: nothing was stored; see Retry-After',
};

function toComponent(schema: z.ZodType, io: 'input' | 'output', components: Record<string, unknown>): Json {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
  delete json.$schema;
  const defs = (json.$defs ?? {}) as Record<string, unknown>;
  delete json.$defs;
  for (const [name, def] of Object.entries(defs)) components[name] = def;
  return JSON.parse(JSON.stringify(json).replaceAll('"#/$defs/', '"#/components/schemas/')) as Json;
}

/** A dependency-free page listing the document: every route, its answers, and the request schemas. */
export function renderDocsPage(doc: Json): string {
  const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const paths = doc.paths as Record<string, Record<string, Json>>;
  const routes = Object.entries(paths)
    .flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => {
        const responses = Object.entries((op.responses ?? {}) as Record<string, Json>)
          .map(([code, r]) => `<li><code>${esc(code)}</code> ${esc(String(r.description ?? ''))}</li>`)
          .join('');
        const scope = op['x-required-scope'] ? `<p>Scope: <code>${esc(String(op['x-required-scope']))}</code></p>` : '';
        return `<section><h2><code>${method.toUpperCase()} ${esc(path)}</code></h2><p>${esc(String(op.summary ?? ''))}</p>${
          op.description ? `<p>${esc(String(op.description))}</p>` : ''
        }${scope}<ul>${responses}</ul></section>`;
      }),
    )
    .join('\n');
  const schemas = Object.entries(((doc.components as Json).schemas ?? {}) as Record<string, unknown>)
    .map(([name, s]) => `<details><summary><code>${esc(name)}</code></summary><pre>${esc(JSON.stringify(s, null, 2))}</pre></details>`)
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>access-ledger API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}code,pre{font-family:ui-monospace,monospace}pre{background:#f4f4f4;padding:.75rem;overflow:auto;max-height:40rem}section{border-top:1px solid #ddd}</style>
</head><body><h1>access-ledger API</h1><p>${esc(String((doc.info as Json).description ?? ''))} The machine-readable document is at <a href="/docs/openapi.json">/docs/openapi.json</a> (OpenAPI 3.1).</p>
${routes}
<h2>Schemas</h2>
${schemas}
</body></html>`;
}

/**
 * OpenAPI query parameters from the zod schema that validates a route's query string (its input side), so the
 * document cannot list parameters the server refuses nor miss ones it takes.
 */
export function queryParameters(schema: z.ZodType): object[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, object>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({ name, in: 'query', required: (json.required ?? []).includes(name), schema: s }));
}

/** An id in a route's path (ids are 1–128 characters of [A-Za-z0-9._:@-]). */
export const pathParameter = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9._:@-]{1,128}$' } });

/**
 * 409 before-baseline: the access routes, the organization's reports and its directory at an instant before the
 * organization's baseline (docs/sources.md § Baseline) — unknown, neither empty nor 404.
 */
export const beforeBaselineProblem = {
  '409': {
    description:
      "before-baseline (`urn:access-ledger:problem:before-baseline`): the instant (or the start of the period) is before the organization's baseline — the source that recorded it has nothing earlier, so the answer is unknown; `availableFrom` is the first instant that can be asked about",
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  },
};

/** problem+json answers of the query routes. */
export const queryProblems = Object.fromEntries(
  [400, 401, 403, 404, 429].map((status) => [
    String(status),
    { description: 'Problem', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } },
  ]),
);
