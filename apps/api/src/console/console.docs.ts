import { PUBLIC } from '../docs/openapi.js';

const problem429 = {
  '429': {
    description: 'Rate limited (requests without a key, per client address); see Retry-After',
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  },
};
const notBuilt = {
  '404': {
    description: 'The console is not built (`npm run build`)',
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  },
};
const file = (operationId: string, summary: string, contentType: string, extra: Record<string, unknown>) => ({
  get: {
    operationId,
    summary,
    description:
      'Public, like /docs: the console carries no data; its script calls the `/v1` routes with the API key the analyst signed in with, as `Authorization: Bearer` (kept in session storage, never in a URL). Strong ETag, `Cache-Control: no-cache`, a Content-Security-Policy allowing only this origin.',
    ...PUBLIC,
    responses: {
      '200': { description: summary, content: { [contentType]: { schema: { type: 'string' } } } },
      '304': { description: 'If-None-Match matched the ETag' },
      ...extra,
      ...problem429,
    },
  },
});

/** The console's routes in the OpenAPI document (public; docs/console.md). */
export const CONSOLE_PATHS: Record<string, unknown> = {
  '/console': file('consolePage', 'The web console for compliance analysts (HTML)', 'text/html', {}),
  '/console/app.js': file('consoleScript', "The console's script bundle", 'text/javascript', notBuilt),
  '/console/app.css': file('consoleStyle', "The console's style sheet", 'text/css', notBuilt),
};
