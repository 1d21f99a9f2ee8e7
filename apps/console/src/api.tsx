// The console's only way to the server: the public HTTP API (docs/api.md), with the analyst's key as a Bearer header.

/** Who is signed in: the tenant and the API key. Kept in session storage (this tab only), never in a URL or a log. */
export interface Session {
  readonly tenant: string;
  readonly key: string;
}

const STORE = 'access-ledger.session';

export function loadSession(): Session | null {
  const raw = sessionStorage.getItem(STORE);
  if (!raw) return null;
  try {
    const s = JSON.parse(raw) as Session;
    return typeof s.tenant === 'string' && typeof s.key === 'string' ? s : null;
  } catch {
    return null; // a value this console did not write: treat as signed out
  }
}

export function saveSession(s: Session): void {
  sessionStorage.setItem(STORE, JSON.stringify(s));
}

export function clearSession(): void {
  sessionStorage.removeItem(STORE);
}

/** RFC 9457 problem+json, as every error of the API is written. */
export interface Problem {
  readonly type?: string;
  readonly title?: string;
  readonly status: number;
  readonly detail?: string;
  readonly errors?: readonly { path: string; message: string }[];
  readonly rule?: string;
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title ?? `HTTP ${problem.status}`);
  }
}

export type Query = Record<string, string | undefined>;

/** Called when the server refuses the key of a session (401): revoked or unknown, the session is over. */
let onUnauthorized: ((p: Problem) => void) | undefined;
export function whenUnauthorized(handler: (p: Problem) => void): void {
  onUnauthorized = handler;
}

export function tenantPath(session: Session, path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, v);
  const qs = params.toString();
  return `/v1/tenants/${encodeURIComponent(session.tenant)}${path}${qs ? `?${qs}` : ''}`;
}

async function problemOf(res: Response): Promise<Problem> {
  const text = await res.text();
  try {
    const p = JSON.parse(text) as Problem;
    if (typeof p === 'object' && p !== null && typeof p.status === 'number') return p;
  } catch {
    // not JSON: the status line is all there is to say
  }
  return { status: res.status, title: res.statusText || `HTTP ${res.status}`, detail: text.slice(0, 500) || undefined };
}

export interface Answer {
  readonly res: Response;
  readonly text: string;
}

/** GET a tenant route; a non-2xx answer throws ApiError with its problem; a 401 also ends the session. */
export async function get(session: Session, path: string, query: Query = {}, accept = 'application/json', signIn = false): Promise<Answer> {
  let res: Response;
  try {
    res = await fetch(tenantPath(session, path, query), { headers: { authorization: `Bearer ${session.key}`, accept } });
  } catch (error) {
    throw new ApiError({ status: 0, title: 'The server cannot be reached', detail: (error as Error).message });
  }
  if (!res.ok) {
    const problem = await problemOf(res);
    if (res.status === 401 && !signIn) onUnauthorized?.(problem);
    throw new ApiError(problem);
  }
  return { res, text: await res.text() };
}

/** A GET started before its page is shown (see `fetchAhead`), waiting for that page to ask for it; `value` once in. */
interface Ahead {
  readonly session: Session;
  readonly url: string;
  readonly answer: Promise<unknown>;
  value?: { data: unknown };
}
let ahead: Ahead | null = null;

/** The GET fetched ahead for this session and URL, taken (it serves one page once), or undefined. */
function takeAhead(session: Session, url: string): Ahead | undefined {
  if (!ahead || ahead.url !== url || ahead.session.key !== session.key) return undefined;
  const taken = ahead;
  ahead = null;
  return taken;
}

/**
 * Starts the GET a page is about to make, so that the navigation can wait for its answer with the previous page still
 * on screen; the page then takes this answer (`answeredAhead`, or `getJson` of the same URL while it is still out)
 * instead of asking again. Only the latest is kept: a navigation overtaken by another leaves nothing behind.
 */
export function fetchAhead(session: Session, path: string, query: Query = {}): Promise<unknown> {
  const entry: Ahead = { session, url: tenantPath(session, path, query), answer: get(session, path, query).then((a) => JSON.parse(a.text) as unknown) };
  entry.answer.then(
    (data) => {
      entry.value = { data };
    },
    () => undefined, // the page's getJson takes this same promise and shows its problem
  );
  ahead = entry;
  return entry.answer;
}

/**
 * Drops what no page took: called once each route is on screen, so that an answer fetched for a navigation that did
 * not need it (the same page asked for again) is never shown later as a fresh one.
 */
export function forgetAhead(): void {
  ahead = null;
}

/** The answer fetched ahead for this GET, if it is in: the page can show it in its first render, with no loading state. */
export function answeredAhead<T>(session: Session, path: string, query: Query = {}): { data: T } | undefined {
  const url = tenantPath(session, path, query);
  if (!ahead?.value || ahead.url !== url) return undefined;
  return takeAhead(session, url)?.value as { data: T } | undefined;
}

export async function getJson<T>(session: Session, path: string, query: Query = {}): Promise<T> {
  const taken = takeAhead(session, tenantPath(session, path, query));
  if (taken) return (await taken.answer) as T;
  return JSON.parse((await get(session, path, query)).text) as T;
}

/** The OpenAPI document (public): the reports and their parameters are read from it. */
let openApi: Promise<OpenApi> | undefined;
export interface OpenApiParameter {
  readonly name: string;
  readonly in: string;
  readonly required?: boolean;
  readonly description?: string;
  readonly schema?: { type?: string; enum?: string[]; default?: unknown; description?: string; anyOf?: unknown[] };
}
export interface OpenApi {
  readonly paths: Record<string, Record<string, { summary?: string; description?: string; parameters?: OpenApiParameter[] }>>;
}
export function openApiDocument(): Promise<OpenApi> {
  openApi ??= fetch('/docs/openapi.json').then(async (res) => {
    if (!res.ok) throw new ApiError(await problemOf(res));
    return (await res.json()) as OpenApi;
  });
  openApi.catch(() => {
    openApi = undefined; // let the next page try again
  });
  return openApi;
}
