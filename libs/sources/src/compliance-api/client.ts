import { type ActivityPage, type ActivitySource, SourceAuthError, SourceUnavailableError } from '../activity-source.js';

/**
 * The Compliance API adapter over `fetch` (docs/sources.md § The Compliance API, with the reference page behind
 * each field).
 *
 * - Authentication: the key goes in `x-api-key` (Activity Feed page, "Query the Activity Feed": every example sends
 *   `--header "x-api-key: $ANTHROPIC_COMPLIANCE_ACCESS_KEY"`). The key is held in memory only and never appears in
 *   an error message or a log line (`redact`).
 * - Scopes: `read:compliance_activities` for the feed (Activity Feed page, "Required scope"); the directory needs
 *   `read:compliance_org_data` / `read:compliance_user_data` (Organizations, users, roles, and groups page). A 403
 *   stops the source naming the scope the endpoint needs; a 401 says the key was refused.
 * - 429 and 5xx (Errors page): retried after `Retry-After` when the answer carries it, else after an exponential
 *   backoff with full jitter, up to `maxRetries` times.
 * - Pagination of the feed: `limit`, and the cursor `after_id` = the `last_id` of the previous page while `has_more`
 *   is true. The feed pages the stored reference excerpts showed list `data`; the names of the cursor fields were
 *   not in the excerpts this was written from, so the adapter also follows `next_page` (the directory endpoints'
 *   opaque token) when a page carries it — see docs/sources.md § What the reference did not say.
 */
export interface ComplianceApiOptions {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly maxRetries?: number;
  /** Backoff base when no Retry-After is given (ms); doubled per attempt, full jitter, capped at `maxBackoffMs`. */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /** Called before each retry (for status and tests). */
  readonly onRetry?: (info: { status: number | 'network'; attempt: number; waitMs: number }) => void;
}

/** What rebuilds a client in another thread (a staging worker): the options without the functions. */
export interface ComplianceApiSettings {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly maxRetries?: number;
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
}

export const FEED_SCOPE = 'read:compliance_activities';
export const ORG_SCOPE = 'read:compliance_org_data';
export const USER_SCOPE = 'read:compliance_user_data';

const sleepReal = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class ComplianceApiClient implements ActivitySource {
  readonly retries = { count: 0 };
  private readonly base: string;

  constructor(private readonly options: ComplianceApiOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '');
  }

  /**
   * The settings to rebuild this client in another thread, or undefined when it has hooks that must run in this one
   * (`random`, `onRetry`: tests and callers that watch the retries). `sleep` does not count: it is the caller's
   * way to cut a retry wait short when stopping, which a worker does with a sleep of its own (staging-worker.ts).
   */
  settings(): ComplianceApiSettings | undefined {
    const o = this.options;
    if (o.random !== undefined || o.onRetry !== undefined) return undefined;
    return {
      baseUrl: o.baseUrl,
      apiKey: o.apiKey,
      ...(o.maxRetries !== undefined ? { maxRetries: o.maxRetries } : {}),
      ...(o.backoffMs !== undefined ? { backoffMs: o.backoffMs } : {}),
      ...(o.maxBackoffMs !== undefined ? { maxBackoffMs: o.maxBackoffMs } : {}),
    };
  }

  async page(cursor: string | null, limit: number): Promise<ActivityPage> {
    const query: Record<string, string> = { limit: String(limit) };
    if (cursor !== null) {
      if (cursor.startsWith('page:')) query.page = cursor.slice(5);
      else query.after_id = cursor;
    }
    const body = (await this.get('/v1/compliance/activities', query, FEED_SCOPE)) as Record<string, unknown>;
    if (body === null || typeof body !== 'object' || !Array.isArray(body.data)) {
      throw new SourceUnavailableError('the Compliance API answered the activity feed without a `data` array');
    }
    const data = body.data as unknown[];
    let next: string | null = null;
    if (typeof body.next_page === 'string' && body.next_page !== '') next = `page:${body.next_page}`;
    else if (body.has_more === true && typeof body.last_id === 'string') next = body.last_id;
    return { activities: data, next };
  }

  /** Every item of a directory list endpoint, following `next_page` (Organizations, users, roles, and groups page). */
  async list(path: string, scope: string): Promise<unknown[]> {
    const items: unknown[] = [];
    let page: string | undefined;
    for (;;) {
      const query: Record<string, string> = { limit: '1000' };
      if (page) query.page = page;
      const body = (await this.get(path, query, scope)) as { data?: unknown[]; next_page?: string | null };
      items.push(...(body.data ?? []));
      if (!body.next_page) return items;
      page = body.next_page;
    }
  }

  async get(path: string, query: Record<string, string>, scope: string): Promise<unknown> {
    const url = `${this.base}${path}?${new URLSearchParams(query).toString()}`;
    const maxRetries = this.options.maxRetries ?? 8;
    const sleep = this.options.sleep ?? sleepReal;
    const random = this.options.random ?? Math.random;
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(url, { headers: { 'x-api-key': this.options.apiKey, 'anthropic-version': '2023-06-01', accept: 'application/json' } });
      } catch (error) {
        if (attempt >= maxRetries) throw new SourceUnavailableError(`${path}: ${this.redact(String((error as Error).message))} after ${attempt + 1} attempts`);
        const waitMs = this.backoff(attempt, random);
        this.retries.count++;
        this.options.onRetry?.({ status: 'network', attempt, waitMs });
        await sleep(waitMs);
        continue;
      }
      if (response.ok) return await response.json();
      const text = await response.text().catch(() => '');
      const message = this.redact(errorMessageOf(text));
      if (response.status === 401) {
        throw new SourceAuthError(`the Compliance API refused the key (401${message ? `: ${message}` : ''}); check the key file`, 401);
      }
      if (response.status === 403) {
        throw new SourceAuthError(
          `the key lacks the scope ${scope} that ${path.replace(/\/[0-9a-f-]{36}\//, '/{org_uuid}/')} needs (403${message ? `: ${message}` : ''})`,
          403,
          scope,
        );
      }
      if (response.status === 429 || response.status >= 500) {
        if (attempt >= maxRetries)
          throw new SourceUnavailableError(`${path}: ${response.status} after ${attempt + 1} attempts${message ? ` (${message})` : ''}`);
        const waitMs = retryAfterMs(response.headers.get('retry-after')) ?? this.backoff(attempt, random);
        this.retries.count++;
        this.options.onRetry?.({ status: response.status, attempt, waitMs });
        await sleep(waitMs);
        continue;
      }
      throw new SourceUnavailableError(`${path}: ${response.status}${message ? ` (${message})` : ''}`);
    }
  }

  private backoff(attempt: number, random: () => number): number {
    const cap = this.options.maxBackoffMs ?? 30_000;
    const base = this.options.backoffMs ?? 500;
    return Math.floor(random() * Math.min(cap, base * 2 ** attempt));
  }

  /** Never let the key into a message. */
  private redact(text: string): string {
    return this.options.apiKey ? text.split(this.options.apiKey).join('[redacted]') : text;
  }
}

/** `Retry-After` as seconds or an HTTP date (RFC 9110 § 10.2.3); undefined when absent or unreadable. */
export function retryAfterMs(header: string | null): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, 300_000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.min(date - Date.now(), 300_000));
}

/** The `error.message` of an Anthropic error body (`{"type":"error","error":{"type":…,"message":…}}`, Errors page). */
function errorMessageOf(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { type?: string; message?: string } };
    if (body.error?.message) return `${body.error.type ?? 'error'}: ${body.error.message}`;
  } catch {
    // not JSON
  }
  return text.slice(0, 200);
}
