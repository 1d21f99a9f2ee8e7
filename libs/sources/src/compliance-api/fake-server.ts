import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local fake of the Compliance API, a real HTTP server on loopback, for the tests and the benchmark. It serves the
 * shapes of the reference pages (docs/sources.md cites the page behind each field):
 * - `GET /v1/compliance/activities?limit=&after_id=` → `{ data, has_more, first_id, last_id }`, newest first;
 * - `GET /v1/compliance/organizations`, `…/organizations/{org_uuid}/users`, `GET /v1/compliance/groups`
 *   → `{ data, next_page }` with an opaque `page` token;
 * - errors as `{ "type": "error", "error": { "type", "message" } }` with 401 (unknown key), 403 (missing scope),
 *   429 with `Retry-After`, 5xx.
 * And the faults a real feed may show: scripted failures (`fail`), a page overlap (`overlap`: every page repeats the
 * last items of the one before, so duplicates across pages), activities hidden until `reveal` (late-visible).
 */
export interface FakeComplianceApiOptions {
  /** Keys and their scopes. */
  readonly keys: Readonly<Record<string, readonly string[]>>;
  /** Repeat this many items of the previous page at the start of the next (duplicates across pages). */
  readonly overlap?: number;
  /** Answer each request after this many milliseconds (tests that kill a sync mid-backfill). */
  readonly delayMs?: number;
}

export interface FakeComplianceApi {
  readonly url: string;
  readonly requests: { count: number; byStatus: Record<number, number>; urls: string[] };
  /** Add activities (any order; the feed sorts newest first). `hidden` ones appear only after `reveal`. */
  add(activities: readonly Record<string, unknown>[], options?: { hidden?: boolean }): void;
  reveal(ids?: readonly string[]): void;
  /** The next requests answer these statuses, in order (then normal service resumes). */
  fail(...failures: { status: number; retryAfter?: string }[]): void;
  setDirectory(directory: FakeDirectory): void;
  close(): Promise<void>;
}

export interface FakeDirectory {
  readonly organizations: readonly { uuid: string; name: string }[];
  readonly users: Readonly<Record<string, readonly { id: string; email_address: string; role: string }[]>>;
  readonly groups: readonly { id: string; name: string; members: readonly string[] }[];
  readonly roles?: Readonly<Record<string, readonly { id: string; name: string; capabilities?: readonly string[] }[]>>;
}

type Activity = Record<string, unknown> & { id: string; created_at: string };

export async function startFakeComplianceApi(options: FakeComplianceApiOptions): Promise<FakeComplianceApi> {
  const visible: Activity[] = [];
  const hidden = new Map<string, Activity>();
  let sorted = true;
  const failures: { status: number; retryAfter?: string }[] = [];
  let directory: FakeDirectory = { organizations: [], users: {}, groups: [] };
  const requests = { count: 0, byStatus: {} as Record<number, number>, urls: [] as string[] };
  // Position of each id in `visible`, rebuilt when sorting.
  let index = new Map<string, number>();

  const ensureSorted = () => {
    if (sorted) return;
    visible.sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    index = new Map(visible.map((a, i) => [a.id, i]));
    sorted = true;
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    requests.byStatus[status] = (requests.byStatus[status] ?? 0) + 1;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };
  const error = (res: ServerResponse, status: number, type: string, message: string, headers: Record<string, string> = {}) =>
    send(res, status, { type: 'error', error: { type, message } }, headers);

  const listPage = <T>(res: ServerResponse, items: readonly T[], params: URLSearchParams) => {
    const limit = Math.min(1000, Math.max(1, Number(params.get('limit') ?? '100') || 100));
    const start = Number(params.get('page') ?? '0') || 0;
    const data = items.slice(start, start + limit);
    send(res, 200, { data, next_page: start + limit < items.length ? String(start + limit) : null });
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    requests.count++;
    requests.urls.push(req.url ?? '/');
    const url = new URL(req.url ?? '/', 'http://fake');
    const key = req.headers['x-api-key'];
    const failure = failures.shift();
    if (failure) {
      return error(
        res,
        failure.status,
        failure.status === 429 ? 'rate_limit_error' : 'api_error',
        `scripted ${failure.status}`,
        failure.retryAfter !== undefined ? { 'retry-after': failure.retryAfter } : {},
      );
    }
    const scopes = typeof key === 'string' ? options.keys[key] : undefined;
    if (!scopes) return error(res, 401, 'authentication_error', 'invalid x-api-key');
    const needs = (scope: string) => {
      if (scopes.includes(scope)) return true;
      error(res, 403, 'permission_error', `this key does not have the ${scope} scope`);
      return false;
    };
    const path = url.pathname;
    if (path === '/v1/compliance/activities') {
      if (!needs('read:compliance_activities')) return;
      ensureSorted();
      const limit = Math.min(1000, Math.max(1, Number(url.searchParams.get('limit') ?? '100') || 100));
      const after = url.searchParams.get('after_id');
      let start = 0;
      if (after !== null) {
        const at = index.get(after);
        if (at === undefined) return error(res, 400, 'invalid_request_error', `after_id ${after} is not a known activity`);
        start = Math.max(0, at + 1 - (options.overlap ?? 0));
      }
      const data = visible.slice(start, start + limit);
      return send(res, 200, {
        data,
        has_more: start + limit < visible.length,
        first_id: data[0]?.id ?? null,
        last_id: data.at(-1)?.id ?? null,
      });
    }
    if (path === '/v1/compliance/organizations') {
      if (!needs('read:compliance_org_data')) return;
      return listPage(res, directory.organizations, url.searchParams);
    }
    const users = /^\/v1\/compliance\/organizations\/([^/]+)\/users$/.exec(path);
    if (users) {
      if (!needs('read:compliance_user_data')) return;
      const list = directory.users[users[1]!];
      if (!list) return error(res, 404, 'not_found_error', `organization ${users[1]} not found`);
      return listPage(res, list, url.searchParams);
    }
    const roles = /^\/v1\/compliance\/organizations\/([^/]+)\/roles$/.exec(path);
    if (roles) {
      if (!needs('read:compliance_org_data')) return;
      return listPage(res, directory.roles?.[roles[1]!] ?? [], url.searchParams);
    }
    if (path === '/v1/compliance/groups') {
      if (!needs('read:compliance_org_data')) return;
      return listPage(
        res,
        directory.groups.map((g) => ({ id: g.id, name: g.name })),
        url.searchParams,
      );
    }
    const members = /^\/v1\/compliance\/groups\/([^/]+)\/members$/.exec(path);
    if (members) {
      if (!needs('read:compliance_user_data')) return;
      const group = directory.groups.find((g) => g.id === members[1]);
      if (!group) return error(res, 404, 'not_found_error', `group ${members[1]} not found`);
      return listPage(
        res,
        group.members.map((id) => ({ user_id: id })),
        url.searchParams,
      );
    }
    return error(res, 404, 'not_found_error', `no route ${path}`);
  };

  const server = createServer((req, res) => {
    if (options.delayMs) setTimeout(() => handle(req, res), options.delayMs);
    else handle(req, res);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    add(activities, opts = {}) {
      for (const a of activities as Activity[]) {
        if (opts.hidden) hidden.set(a.id, a);
        else visible.push(a);
      }
      sorted = false;
    },
    reveal(ids) {
      for (const id of ids ?? [...hidden.keys()]) {
        const a = hidden.get(id);
        if (a) {
          visible.push(a);
          hidden.delete(id);
        }
      }
      sorted = false;
    },
    fail(...f) {
      failures.push(...f);
    },
    setDirectory(d) {
      directory = d;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
