import { Component } from 'preact';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { answeredAhead, get, getJson, openApiDocument, type Query, saveSession, type Session } from './api.js';
import { OrgGroups } from './groups.js';
import { href, navigate } from './router.js';
import { markRendered } from './timing.js';
import { actorText, EventLink, escapeHtml, eventLinkHtml, Field, formValues, INSTANT_HINT, Loading, ProblemView, Select, Show, useLoad, when, problemOf, type Loaded } from './ui.js';

type Link = { eventId: string; type: string; occurredAt: string; actor: { kind: string; orgId?: string; userId?: string }; says: string };

export function SignIn({ message, onSignedIn }: { message?: string; onSignedIn: (s: Session) => void }) {
  const [failure, setFailure] = useState<Loaded<null> | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const v = formValues(e.currentTarget as HTMLFormElement);
    const session = { tenant: v.tenant ?? '', key: v.key ?? '' };
    setFailure({ state: 'loading' });
    try {
      await get(session, '/orgs', {}, 'application/json', true);
      saveSession(session);
      onSignedIn(session);
    } catch (error) {
      setFailure({ state: 'failed', problem: problemOf(error) });
    }
  };
  return (
    <main class="sign-in">
      <h1>access-ledger console</h1>
      {message ? (
        <p class="notice" role="alert">
          {message}
        </p>
      ) : null}
      <form onSubmit={submit} aria-label="Sign in">
        <Field label="Tenant" name="tenant" value="demo" required />
        <Field label="API key" name="key" type="password" required hint="Kept in this tab's session storage only; sent as an Authorization header." />
        <button type="submit">Sign in</button>
      </form>
      {failure?.state === 'loading' ? <p role="status">Checking the key…</p> : null}
      {failure?.state === 'failed' ? (
        <ProblemView
          problem={failure.problem}
          context={failure.problem.status === 401 ? 'This API key was not accepted' : failure.problem.status === 403 ? 'This key cannot read this tenant' : undefined}
        />
      ) : null}
    </main>
  );
}

type OrgList = { at: string; orgs: { orgId: string; name: string; provisioningMode: string | null; createdAt: string }[] };

export function Orgs({ session }: { session: Session }) {
  const loaded = useLoad(() => getJson<OrgList>(session, '/orgs'), 'orgs');
  return (
    <section>
      <h1>Organizations</h1>
      <Show loaded={loaded} what="organizations">
        {(d) => (
          <table>
            <thead>
              <tr>
                <th>Organization</th>
                <th>Name</th>
                <th>Provisioning</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {d.orgs.map((o) => (
                <tr key={o.orgId}>
                  <td>
                    <a href={href(['orgs', o.orgId])}>{o.orgId}</a>
                  </td>
                  <td>{o.name}</td>
                  <td>{o.provisioningMode ?? '—'}</td>
                  <td>{when(o.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Show>
    </section>
  );
}

type MemberPage = { members: { userId: string; email: string | null; role: string; seat: string | null; status: string }[]; nextCursor: string | null };
type Catalog = {
  capabilities: { capability: string; enabled: boolean; platformDisabled: boolean }[];
  connectors: { connectorId: string; name: string; tools: string[] }[];
  customRoles: { roleId: string; name: string }[];
  adminAreas: string[];
  adminLevels: string[];
  toolLevels: string[];
};

export function OrgNav({ orgId, current }: { orgId: string; current: string }) {
  const items: [string, string][] = [
    ['members', href(['orgs', orgId])],
    ['holders', href(['orgs', orgId, 'holders'])],
    ['reports', href(['orgs', orgId, 'reports', 'access-review'])],
    ['audit', href(['audit'], { orgId })],
  ];
  return (
    <nav class="tabs" aria-label={`Organization ${orgId}`}>
      {items.map(([name, to]) => (
        <a key={name} href={to} aria-current={current === name ? 'page' : undefined}>
          {name}
        </a>
      ))}
    </nav>
  );
}

export function Org({ session, orgId, params }: { session: Session; orgId: string; params: URLSearchParams }) {
  const q = params.get('q') ?? '';
  const status = params.get('status') ?? '';
  const cursor = params.get('cursor') ?? '';
  const back = params.get('back') ?? '';
  const members = useLoad(
    () => getJson<MemberPage>(session, `/orgs/${encodeURIComponent(orgId)}/members`, { q, status, cursor, limit: '25' }),
    `${orgId}|${q}|${status}|${cursor}`,
  );
  const catalog = useLoad(() => getJson<Catalog>(session, `/orgs/${encodeURIComponent(orgId)}/catalog`), `cat|${orgId}`);
  const search = (e: Event) => {
    e.preventDefault();
    navigate(href(['orgs', orgId], formValues(e.currentTarget as HTMLFormElement)));
  };
  return (
    <section>
      <h1>Organization {orgId}</h1>
      <OrgNav orgId={orgId} current="members" />
      <h2>Members</h2>
      <form class="inline" onSubmit={search} aria-label="Search members">
        <Field label="Search (user id or email)" name="q" value={q} />
        <Select label="Status" name="status" value={status} options={['', 'active', 'suspended', 'removed']} />
        <button type="submit">Search</button>
      </form>
      <Show loaded={members} what="members">
        {(d) => (
          <>
            <table>
              <thead>
                <tr>
                  <th>Member</th>
                  <th>Email</th>
                  <th>Role</th>
                  <th>Seat</th>
                  <th>Status</th>
                </tr>
              </thead>
              <tbody>
                {d.members.map((m) => (
                  <tr key={m.userId}>
                    <td>
                      <a href={href(['orgs', orgId, 'members', m.userId])}>{m.userId}</a>
                    </td>
                    <td>{m.email ?? '—'}</td>
                    <td>{m.role}</td>
                    <td>{m.seat ?? '—'}</td>
                    <td>{m.status}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {d.members.length === 0 ? <p>No member matches.</p> : null}
            <nav class="pager" aria-label="Pages of members">
              {cursor ? <a href={href(['orgs', orgId], { q, status, cursor: back.split(',').at(-1) ?? '', back: back.split(',').slice(0, -1).join(',') })}>Previous page</a> : null}
              {d.nextCursor ? <a href={href(['orgs', orgId], { q, status, cursor: d.nextCursor, back: [back, cursor].filter((x, i) => x || i > 0).join(',') })}>Next page</a> : null}
            </nav>
          </>
        )}
      </Show>
      <OrgGroups session={session} orgId={orgId} params={params} />
      <Show loaded={catalog} what="the catalog">
        {(c) => (
          <>
            <h2>Custom roles</h2>
            {c.customRoles.length ? (
              <ul>
                {c.customRoles.map((r) => (
                  <li key={r.roleId}>
                    <code>{r.roleId}</code> {r.name}
                  </li>
                ))}
              </ul>
            ) : (
              <p>None.</p>
            )}
            <h2>Connectors</h2>
            <table>
              <thead>
                <tr>
                  <th>Connector</th>
                  <th>Name</th>
                  <th>Tools</th>
                </tr>
              </thead>
              <tbody>
                {c.connectors.map((k) => (
                  <tr key={k.connectorId}>
                    <td>{k.connectorId}</td>
                    <td>{k.name}</td>
                    <td>{k.tools.length}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <h2>Capabilities</h2>
            <ul class="chips">
              {c.capabilities.map((k) => (
                <li key={k.capability} class={k.enabled ? 'on' : 'off'}>
                  {k.capability}: {k.platformDisabled ? 'disabled by the platform' : k.enabled ? 'on' : 'off'}
                </li>
              ))}
            </ul>
          </>
        )}
      </Show>
    </section>
  );
}

type Access = {
  orgId: string;
  userId: string;
  at: string;
  builtInRole: string;
  seat: string | null;
  status: string;
  capabilities: Record<string, { granted: boolean; why?: Link[] }>;
  tools: Record<string, Record<string, { level: string; why?: Link[] }>>;
  adminAreas: Record<string, { level: string; why?: Link[] }>;
  spendLimitCents: number | null;
};

export function MemberNav({ orgId, userId, current, params }: { orgId: string; userId: string; current: string; params: URLSearchParams }) {
  const keep = { at: params.get('at') ?? undefined };
  return (
    <nav class="tabs" aria-label={`Member ${userId}`}>
      <a href={href(['orgs', orgId, 'members', userId], keep)} aria-current={current === 'access' ? 'page' : undefined}>
        access at a date
      </a>
      <a href={href(['orgs', orgId, 'members', userId, 'timeline'])} aria-current={current === 'timeline' ? 'page' : undefined}>
        timeline
      </a>
      <a href={href(['orgs', orgId, 'members', userId, 'diff'])} aria-current={current === 'diff' ? 'page' : undefined}>
        diff
      </a>
    </nav>
  );
}

/** The member page's one request: the access at `at` as known at `knownAt`, with the explanation chains. */
export function memberAccessRequest(orgId: string, userId: string, params: URLSearchParams): [string, Query] {
  return [
    `/orgs/${encodeURIComponent(orgId)}/members/${encodeURIComponent(userId)}/access`,
    { at: params.get('at') ?? '', knownAt: params.get('knownAt') ?? '', explain: 'true' },
  ];
}

export function Member({ session, orgId, userId, params }: { session: Session; orgId: string; userId: string; params: URLSearchParams }) {
  const at = params.get('at') ?? '';
  const knownAt = params.get('knownAt') ?? '';
  const loaded = useLoad(
    () => getJson<Access>(session, ...memberAccessRequest(orgId, userId, params)),
    `${orgId}|${userId}|${at}|${knownAt}`,
    () => answeredAhead<Access>(session, ...memberAccessRequest(orgId, userId, params)),
  );
  const last = useRef<Access | null>(null);
  if (loaded?.state === 'done') last.current = loaded.data;
  else if (loaded?.state !== 'loading') last.current = null;
  const shown = last.current;
  const submit = (e: Event) => {
    e.preventDefault();
    navigate(href(['orgs', orgId, 'members', userId], formValues(e.currentTarget as HTMLFormElement)));
  };
  return (
    <section>
      <h1>
        Member {userId} <small>in {orgId}</small>
      </h1>
      <MemberNav orgId={orgId} userId={userId} current="access" params={params} />
      <form class="inline" onSubmit={submit} aria-label="Choose the instant">
        <Field label="At" name="at" value={at} hint={INSTANT_HINT} />
        <Field label="As known at" name="knownAt" value={knownAt} hint="What the ledger knew then (late events left out); empty: now" />
        <button type="submit">Show access</button>
      </form>
      {loaded?.state === 'loading' ? <Loading what="the member's access" /> : null}
      {loaded?.state === 'failed' ? <ProblemView problem={loaded.problem} /> : null}
      {shown ? <MemberAccess a={shown} hidden={loaded?.state !== 'done'} /> : null}
    </section>
  );
}

/**
 * The member's access at the instant, each permission with its chain; marks the page rendered once its answer is in
 * the DOM. While the next answer loads, the previous one stays in the DOM, hidden (neither seen nor read out), so that
 * the next is a patch of these rows rather than a thousand nodes removed and as many created.
 */
function MemberAccess({ a, hidden }: { a: Access; hidden: boolean }) {
  useLayoutEffect(() => {
    if (!hidden) markRendered('member-access', { userId: a.userId, at: a.at });
  }, [a, hidden]);
  return (
    <div data-ready={hidden ? undefined : 'member-access'} data-user={a.userId} data-at={a.at} hidden={hidden}>
      <p class="summary">
        At <strong>{when(a.at)}</strong>: role <strong>{a.builtInRole}</strong>, seat {a.seat ?? '—'}, status <strong>{a.status}</strong>, spend limit{' '}
        {a.spendLimitCents === null ? 'none' : `${(a.spendLimitCents / 100).toFixed(2)}`}
      </p>
      <AccessTable
        title="Capabilities"
        subject="Capability"
        levelHeading="Access"
        whyHeading="Why (the chain of events)"
        rows={Object.entries(a.capabilities)
          .sort(([x], [y]) => x.localeCompare(y))
          .map(([name, c]) => ({ name, level: c.granted ? 'granted' : 'denied', levelClass: c.granted ? 'granted' : 'denied', why: c.why, capability: name }))}
      />
      <AccessTable title="Admin areas" subject="Area" rows={Object.entries(a.adminAreas).map(([name, c]) => ({ name, level: c.level, why: c.why }))} />
      <AccessTable
        title="Connector tools"
        subject="Tool"
        rows={Object.entries(a.tools).flatMap(([connector, tools]) =>
          Object.entries(tools).map(([tool, t]) => ({ name: `${connector}/${tool}`, level: t.level, why: t.why })),
        )}
      />
    </div>
  );
}

type AccessRow = { name: string; level: string; levelClass?: string; why?: Link[]; capability?: string };

/**
 * A row's three cells as one string of escaped HTML: the same markup `Why` and `EventLink` make (a chain entry is its
 * text, a link to its event, and the text after). The member page holds a few hundred chain entries; built as
 * virtual nodes, each navigation created and diffed every one of them, where a string per row is built in a few
 * microseconds and compared as a whole: the browser parses only the rows that changed.
 */
function rowHtml(r: AccessRow): string {
  const why = r.why?.length
    ? `<ol class="why">${r.why
        .map(
          (l) =>
            `<li>${escapeHtml(`${l.says} — `)}${eventLinkHtml(l.eventId, l.type)}${escapeHtml(` at ${when(l.occurredAt)} by ${actorText(l.actor)}`)}</li>`,
        )
        .join('')}</ol>`
    : '';
  return `<td>${escapeHtml(r.name)}</td><td${r.levelClass ? ` class="${escapeHtml(r.levelClass)}"` : ''}>${escapeHtml(r.level)}</td><td>${why}</td>`;
}

/**
 * One permission's row. From one member to the next many rows are the same (organization-wide settings, the same
 * connectors' policies): an unchanged row is left alone; a changed one has its cells replaced by the browser's HTML
 * parser, with no virtual nodes for its chain and no read of the row's current HTML back from the DOM.
 */
class AccessRowView extends Component<{ row: AccessRow }> {
  private html = rowHtml(this.props.row);
  private tr: HTMLTableRowElement | null = null;
  override shouldComponentUpdate(next: { row: AccessRow }): boolean {
    const html = rowHtml(next.row);
    if (html === this.html && next.row.capability === this.props.row.capability) return false;
    this.html = html;
    return true;
  }
  override componentDidMount(): void {
    this.componentDidUpdate();
  }
  override componentDidUpdate(): void {
    if (this.tr) this.tr.innerHTML = this.html;
  }
  override render() {
    return (
      <tr
        data-capability={this.props.row.capability}
        ref={(tr) => {
          this.tr = tr;
        }}
      />
    );
  }
}

/** One of the member page's access tables: a permission, its level at the instant, and the chain that explains it. */
function AccessTable({
  title,
  subject,
  rows,
  levelHeading = 'Level',
  whyHeading = 'Why',
}: { title: string; subject: string; rows: AccessRow[]; levelHeading?: string; whyHeading?: string }) {
  return (
    <>
      <h2>{title}</h2>
      <div class="access-block">
        <table class="access">
          <thead>
            <tr>
              <th>{subject}</th>
              <th>{levelHeading}</th>
              <th>{whyHeading}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <AccessRowView key={r.name} row={r} />
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

type StoredEvent = {
  id: string;
  type: string;
  occurredAt: string;
  recordedAt: string;
  actor: { kind: string; orgId?: string; userId?: string };
  source: string;
  auth: unknown;
  position: number;
  revision: number;
  prevHash: string;
  hash: string;
  data: unknown;
};

export function EventPage({ session, eventId }: { session: Session; eventId: string }) {
  const loaded = useLoad(() => getJson<StoredEvent>(session, `/events/${encodeURIComponent(eventId)}`), eventId);
  return (
    <section>
      <h1>Event</h1>
      <Show loaded={loaded} what="the event">
        {(e) => (
          <dl class="event" data-ready="event">
            <dt>Type</dt>
            <dd>{e.type}</dd>
            <dt>Who</dt>
            <dd>{actorText(e.actor)}</dd>
            <dt>When (occurred)</dt>
            <dd>{when(e.occurredAt)}</dd>
            <dt>Recorded</dt>
            <dd>{when(e.recordedAt)}</dd>
            <dt>Source</dt>
            <dd>{e.source}</dd>
            <dt>Stored by</dt>
            <dd>
              <code>{JSON.stringify(e.auth)}</code>
            </dd>
            <dt>Id</dt>
            <dd>
              <code>{e.id}</code>
            </dd>
            <dt>Position / revision</dt>
            <dd>
              {e.position} / {e.revision}
            </dd>
            <dt>Hash</dt>
            <dd>
              <code class="hash">{e.hash}</code>
            </dd>
            <dt>Previous hash</dt>
            <dd>
              <code class="hash">{e.prevHash}</code>
            </dd>
            <dt>Data</dt>
            <dd>
              <pre>{JSON.stringify(e.data, null, 2)}</pre>
            </dd>
          </dl>
        )}
      </Show>
    </section>
  );
}

export function Holders({ session, orgId, params }: { session: Session; orgId: string; params: URLSearchParams }) {
  const capability = params.get('capability') ?? '';
  const at = params.get('at') ?? '';
  const permission = params.get('permission') ?? '';
  const from = params.get('from') ?? '';
  const to = params.get('to') ?? '';
  const catalog = useLoad(() => getJson<Catalog>(session, `/orgs/${encodeURIComponent(orgId)}/catalog`), `cat|${orgId}`);
  const instant = useLoad(
    capability
      ? () => getJson<{ at: string; holders: { userId: string; level?: string }[] }>(session, `/orgs/${encodeURIComponent(orgId)}/access/holders`, { capability, at })
      : null,
    `${capability}|${at}`,
  );
  const during = useLoad(
    permission
      ? () =>
          getJson<{ holders: { userId: string; totalMs: number; intervals: { from: string; to: string; level: string }[] }[] }>(
            session,
            `/orgs/${encodeURIComponent(orgId)}/reports/holders-during`,
            { permission, from, to },
          )
      : null,
    `${permission}|${from}|${to}`,
  );
  const go = (e: Event) => {
    e.preventDefault();
    navigate(href(['orgs', orgId, 'holders'], formValues(e.currentTarget as HTMLFormElement)));
  };
  return (
    <section>
      <h1>Holders in {orgId}</h1>
      <OrgNav orgId={orgId} current="holders" />
      <Show loaded={catalog} what="the catalog">
        {(c) => (
          <form class="inline" onSubmit={go} aria-label="Holders of a capability at an instant">
            <Select label="Capability" name="capability" value={capability} options={c.capabilities.map((k) => k.capability)} />
            <Field label="At" name="at" value={at} hint={INSTANT_HINT} />
            <button type="submit">Who holds it</button>
          </form>
        )}
      </Show>
      <Show loaded={instant} what="holders">
        {(d) => (
          <div data-ready="holders">
            <p>
              {d.holders.length} member(s) hold <strong>{capability}</strong> at {when(d.at)}.
            </p>
            <ul class="holders">
              {d.holders.map((h) => (
                <li key={h.userId}>
                  <a href={href(['orgs', orgId, 'members', h.userId], { at: d.at })}>{h.userId}</a>
                  {h.level ? ` (${h.level})` : ''}
                </li>
              ))}
            </ul>
          </div>
        )}
      </Show>
      <h2>During a period</h2>
      <form class="inline" onSubmit={go} aria-label="Holders of a permission during a period">
        <Field label="Permission" name="permission" value={permission} placeholder="capability:chat, tool:github/create_issue, admin:billing" />
        <Field label="From" name="from" value={from} required />
        <Field label="To" name="to" value={to} required />
        <button type="submit">Who held it</button>
      </form>
      <Show loaded={during} what="holders during the period">
        {(d) => (
          <table data-ready="holders-during">
            <thead>
              <tr>
                <th>Member</th>
                <th>Held for (days)</th>
                <th>Intervals</th>
              </tr>
            </thead>
            <tbody>
              {d.holders.map((h) => (
                <tr key={h.userId}>
                  <td>{h.userId}</td>
                  <td>{(h.totalMs / 86_400_000).toFixed(1)}</td>
                  <td>{h.intervals.map((i) => `${when(i.from)} → ${when(i.to)} (${i.level})`).join('; ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Show>
    </section>
  );
}

type AuditPage = {
  events: { id: string; type: string; orgId: string | null; actor: { kind: string; userId?: string; orgId?: string }; subject: string | null; occurredAt: string }[];
  nextCursor: string | null;
};

const AUDIT_FILTERS = ['orgId', 'actor', 'subject', 'type', 'from', 'to'] as const;

export function Audit({ session, params }: { session: Session; params: URLSearchParams }) {
  const filters = Object.fromEntries(AUDIT_FILTERS.map((k) => [k, params.get(k) ?? ''])) as Record<(typeof AUDIT_FILTERS)[number], string>;
  const cursor = params.get('cursor') ?? '';
  const page = Number(params.get('page') ?? '1');
  const loaded = useLoad(() => getJson<AuditPage>(session, '/audit/events', { ...filters, cursor, limit: '25' }), JSON.stringify([filters, cursor]));
  const go = (e: Event) => {
    e.preventDefault();
    navigate(href(['audit'], formValues(e.currentTarget as HTMLFormElement)));
  };
  return (
    <section>
      <h1>Audit search</h1>
      <form class="inline" onSubmit={go} aria-label="Audit filters">
        <Field label="Organization" name="orgId" value={filters.orgId} />
        <Field label="Actor" name="actor" value={filters.actor} hint="a member's userId, or scim, platform, system, import" />
        <Field label="Subject" name="subject" value={filters.subject} />
        <Field label="Event type" name="type" value={filters.type} hint="one, or several separated by commas" />
        <Field label="From" name="from" value={filters.from} />
        <Field label="To" name="to" value={filters.to} />
        <button type="submit">Search</button>
      </form>
      <Show loaded={loaded} what="audit events">
        {(d) => (
          <div data-ready="audit" data-query={JSON.stringify([filters, cursor])}>
            <p>
              Page {page}: {d.events.length} event(s), newest first.
            </p>
            <table>
              <thead>
                <tr>
                  <th>Occurred</th>
                  <th>Type</th>
                  <th>Organization</th>
                  <th>Actor</th>
                  <th>Subject</th>
                  <th>Event</th>
                </tr>
              </thead>
              <tbody>
                {d.events.map((e) => (
                  <tr key={e.id}>
                    <td>{when(e.occurredAt)}</td>
                    <td>{e.type}</td>
                    <td>{e.orgId ?? '—'}</td>
                    <td>{actorText(e.actor)}</td>
                    <td>{e.subject ?? '—'}</td>
                    <td>
                      <EventLink id={e.id} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <nav class="pager" aria-label="Pages of events">
              {cursor ? <a href={href(['audit'], filters)}>First page</a> : null}
              {d.nextCursor ? <a href={href(['audit'], { ...filters, cursor: d.nextCursor, page: String(page + 1) })}>Next page</a> : null}
            </nav>
          </div>
        )}
      </Show>
    </section>
  );
}

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

export function Reports({ session, orgId, name, params }: { session: Session; orgId: string; name: string; params: URLSearchParams }) {
  const doc = useLoad(() => openApiDocument(), 'openapi');
  const query = Object.fromEntries([...params].filter(([k]) => k !== 'run'));
  const run = params.get('run') === '1';
  const csv = useLoad(
    run
      ? async () => {
          const answer = await get(session, `/orgs/${encodeURIComponent(orgId)}/reports/${encodeURIComponent(name)}`, { ...query, format: 'csv' }, 'text/csv');
          return { text: answer.text, through: answer.res.headers.get('ledger-projected-through') };
        }
      : null,
    JSON.stringify([orgId, name, query, run]),
  );
  const go = (e: Event) => {
    e.preventDefault();
    navigate(href(['orgs', orgId, 'reports', name], { ...formValues(e.currentTarget as HTMLFormElement), run: '1' }));
  };
  return (
    <section>
      <h1>Reports for {orgId}</h1>
      <OrgNav orgId={orgId} current="reports" />
      <Show loaded={doc} what="the list of reports">
        {(d) => {
          const prefix = '/v1/tenants/{tenantId}/orgs/{orgId}/reports/';
          const reports = Object.keys(d.paths)
            .filter((p) => p.startsWith(prefix))
            .map((p) => p.slice(prefix.length));
          const op = d.paths[prefix + name]?.get;
          if (!op) return <ProblemView problem={{ status: 404, title: 'Unknown report', detail: `There is no report named "${name}"; reports: ${reports.join(', ')}.` }} />;
          // The page shows the CSV form, always complete: the JSON form's paging parameters (limit, cursor) are not asked.
          const fields = (op.parameters ?? []).filter((p) => p.in === 'query' && !['format', 'minPosition', 'limit', 'cursor'].includes(p.name));
          return (
            <>
              <nav class="tabs" aria-label="Reports">
                {reports.map((r) => (
                  <a key={r} href={href(['orgs', orgId, 'reports', r])} aria-current={r === name ? 'page' : undefined}>
                    {r}
                  </a>
                ))}
              </nav>
              <p>{op.summary}</p>
              <form class="inline" onSubmit={go} aria-label={`Report ${name}`}>
                {fields.map((p) =>
                  p.schema?.enum ? (
                    <Select key={p.name} label={p.name} name={p.name} value={query[p.name]} options={['', ...p.schema.enum]} />
                  ) : (
                    <Field key={p.name} label={p.name} name={p.name} value={query[p.name]} required={p.required} hint={p.schema?.description ?? p.description} />
                  ),
                )}
                <button type="submit">Run the report</button>
              </form>
            </>
          );
        }}
      </Show>
      <Show loaded={csv} what="the report">
        {(r) => {
          const rows = parseCsv(r.text);
          const [header = [], ...body] = rows;
          const file = `${name}-${orgId}${query.at ? `-${query.at}` : ''}${query.from ? `-${query.from}` : ''}.csv`.replace(/[^A-Za-z0-9._-]/g, '_');
          const url = URL.createObjectURL(new Blob([r.text], { type: 'text/csv' }));
          return (
            <div data-ready="report">
              <p>
                {body.length} row(s); complete through store position {r.through ?? '?'}.{' '}
                <a href={url} download={file} class="button">
                  Download CSV
                </a>
              </p>
              <table class="report">
                <thead>
                  <tr>
                    {header.map((h) => (
                      <th key={h}>{h}</th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {body.slice(0, 500).map((row, i) => (
                    // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity of their own
                    <tr key={i}>
                      {row.map((cell, j) => (
                        // biome-ignore lint/suspicious/noArrayIndexKey: columns are positional
                        <td key={j}>{cell}</td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
              {body.length > 500 ? <p>The first 500 rows are shown; the download has all {body.length}.</p> : null}
            </div>
          );
        }}
      </Show>
    </section>
  );
}

export function Integrity({ session }: { session: Session }) {
  const loaded = useLoad(async () => {
    const a = await get(session, '/integrity');
    return { ...(JSON.parse(a.text) as { events: number; head: string | null; valid: boolean; firstBadPosition?: number }), date: a.res.headers.get('date') };
  }, 'integrity');
  return (
    <section>
      <h1>Integrity</h1>
      <Show loaded={loaded} what="the hash chain (the whole chain is walked)">
        {(i) => (
          <dl data-ready="integrity">
            <dt>Chain</dt>
            <dd class={i.valid ? 'granted' : 'denied'}>{i.valid ? 'valid' : `BROKEN at position ${i.firstBadPosition}`}</dd>
            <dt>Events</dt>
            <dd>{i.events}</dd>
            <dt>Head hash</dt>
            <dd>
              <code class="hash">{i.head ?? '—'}</code>
            </dd>
            <dt>Verified</dt>
            <dd>{i.date ?? '—'} (walked on this request)</dd>
          </dl>
        )}
      </Show>
    </section>
  );
}

type ExportJob = { exportId: string; status: string; sink: string; from: string; to: string; createdAt?: string; progress?: unknown; counts?: unknown };

export function Exports({ session, exportId }: { session: Session; exportId?: string }) {
  const list = useLoad(() => getJson<{ exports: ExportJob[] }>(session, '/exports'), 'exports');
  const one = useLoad(exportId ? () => getJson<Record<string, unknown>>(session, `/exports/${encodeURIComponent(exportId)}`) : null, exportId ?? '');
  return (
    <section>
      <h1>Export jobs</h1>
      <Show loaded={one} what="the export">
        {(e) => <pre data-ready="export">{JSON.stringify(e, null, 2)}</pre>}
      </Show>
      <Show loaded={list} what="export jobs">
        {(d) =>
          d.exports.length === 0 ? (
            <p data-ready="exports">No export job yet (start one with POST /exports or `ledger export`).</p>
          ) : (
            <table data-ready="exports">
              <thead>
                <tr>
                  <th>Export</th>
                  <th>Sink</th>
                  <th>Status</th>
                  <th>From</th>
                  <th>To</th>
                </tr>
              </thead>
              <tbody>
                {d.exports.map((x) => (
                  <tr key={x.exportId}>
                    <td>
                      <a href={href(['exports', x.exportId])}>{x.exportId}</a>
                    </td>
                    <td>{x.sink}</td>
                    <td>{x.status}</td>
                    <td>{when(x.from)}</td>
                    <td>{when(x.to)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Show>
    </section>
  );
}
