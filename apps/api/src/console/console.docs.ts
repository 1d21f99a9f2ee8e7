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
const version = {
  name: 'v',
  in: 'query',
  required: false,
  description:
    "The digest of the bundle's content, as the page's URL for it gives it: with this build's `v` the answer is `Cache-Control: public, max-age=31536000, immutable`; without it or with another build's, `no-cache` (the current bundle, revalidated by ETag).",
  schema: { type: 'string' },
};
const file = (operationId: string, summary: string, contentType: string, extra: Record<string, unknown>, bundle: boolean) => ({
  get: {
    operationId,
    summary,
    description: `Public, like /docs: the console carries no data; its script calls the \`/v1\` routes with the API key the analyst signed in with, as \`Authorization: Bearer\` (kept in session storage, never in a URL). Strong ETag, a Content-Security-Policy allowing only this origin, and ${
      bundle
        ? "`Cache-Control: immutable` when asked for by the `v` the page gives (the content's digest), `no-cache` otherwise."
        : '`Cache-Control: no-cache`; the page names its bundles by their digest (`/console/app.js?v=…`).'
    }`,
    ...(bundle ? { parameters: [version] } : {}),
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
  '/console': file('consolePage', 'The web console for compliance analysts (HTML)', 'text/html', {}, false),
  '/console/app.js': file('consoleScript', "The console's script bundle", 'text/javascript', notBuilt, true),
  '/console/app.css': file('consoleStyle', "The console's style sheet", 'text/css', notBuilt, true),
};
