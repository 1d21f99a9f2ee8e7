import type { FastifyInstance } from 'fastify';
import { ProblemException, problem } from '../problem/problem.js';
import { sendProblemAndClose } from './authenticate.js';

/**
 * An API key belongs in the `Authorization` header only. A URL is logged (access log, proxies,
 * browser history), so a key put there is refused, and never written anywhere in full.
 */

/** `lk_<16 hex id>_<43 base64url secret>` (api-key-store.ts), anywhere in a string; group 1 keeps the id. */
const KEY_SHAPED = /(lk_[0-9a-f]{16}_)[A-Za-z0-9_-]{43}/g;
const HAS_KEY = new RegExp(KEY_SHAPED.source);
/** Query parameters that carry credentials by convention, whatever their value looks like. */
const CREDENTIAL_PARAMS = /([?&;](?:key|api_key|apikey|api-key|access_token|token|bearer|authorization)=)([^&;#]*)/gi;
/** A key already cut to its id by the first pass: the id is kept, it names which key to revoke. */
const REDACTED_KEY = /^lk_[0-9a-f]{16}_\[redacted\]$/;
const CREDENTIAL_PARAM_NAMES = new Set(['key', 'api_key', 'apikey', 'api-key', 'access_token', 'token', 'bearer', 'authorization']);

function decoded(url: string): string {
  try {
    return decodeURIComponent(url.replaceAll('+', ' '));
  } catch {
    return url; // malformed %-escapes: what is there is what a log would hold
  }
}

/** The URL with every key-shaped value cut to its id (`lk_<id>_[redacted]`) and credential parameters emptied. */
export function redactSecrets(url: string): string {
  const redact = (s: string) =>
    s
      .replace(KEY_SHAPED, '$1[redacted]')
      .replace(CREDENTIAL_PARAMS, (_all, name: string, value: string) => `${name}${REDACTED_KEY.test(value) ? value : '[redacted]'}`);
  const once = redact(url);
  // A %-encoded key or parameter name (`lk%5F…`, `api%5Fkey=`) is only visible decoded: then the decoded URL,
  // redacted, is what gets logged.
  const revealed = decoded(once);
  return redact(revealed) === revealed ? once : redact(decoded(url));
}

/** Whether the request target carries a credential: a key-shaped value anywhere, or a credential parameter. */
export function credentialsInUrl(url: string): boolean {
  if (HAS_KEY.test(url) || HAS_KEY.test(decoded(url))) return true;
  const query = url.indexOf('?');
  if (query < 0) return false;
  return [...new URLSearchParams(url.slice(query + 1).split('#')[0]).keys()].some((name) => CREDENTIAL_PARAM_NAMES.has(name.toLowerCase()));
}

/** The name of a header other than `Authorization` that holds a key-shaped value (`X-Api-Key`, `Cookie`, …), if any. */
export function credentialsInOtherHeader(headers: Readonly<Record<string, string | string[] | undefined>>): string | undefined {
  for (const [name, value] of Object.entries(headers)) {
    if (name === 'authorization' || value === undefined) continue;
    if ((Array.isArray(value) ? value : [value]).some((v) => HAS_KEY.test(v))) return name;
  }
  return undefined;
}

/**
 * Refuses (400 `credentials-in-url`, or `credentials-outside-authorization` for another header) before anything
 * else is done with the request: no handler, no body read.
 */
export function installCredentialsInUrlRefusal(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const header = credentialsInOtherHeader(request.headers);
    if (header !== undefined) {
      sendProblemAndClose(
        reply,
        new ProblemException(
          problem(400, 'credentials-outside-authorization', `The ${header} header holds an API key. Send the key as \`Authorization: Bearer <key>\` only.`),
        ),
      );
      return;
    }
    if (!credentialsInUrl(request.url)) {
      done();
      return;
    }
    sendProblemAndClose(
      reply,
      new ProblemException(
        problem(
          400,
          'credentials-in-url',
          'The request URL holds a credential (an API key or a key/api_key/access_token/token parameter). Send the key as `Authorization: Bearer <key>` only, and revoke this key: URLs are written to logs and proxies.',
        ),
      ),
    );
  });
}
