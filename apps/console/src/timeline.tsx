import { getJson, type Session } from './api.js';
import { href, navigate } from './router.js';
import { EventLink, Field, formValues, INSTANT_HINT, Show, useLoad, when } from './ui.js';
import { MemberNav } from './pages.js';

type Interval = { permission: string; level: string; from: string; to: string | null; openedBy: string | null; closedBy: string | null };

const COLOURS: Record<string, string> = { granted: '#2e7d32', manage: '#1565c0', view: '#64b5f6', always_allow: '#2e7d32', needs_approval: '#f9a825', blocked: '#c62828' };

/**
 * A member's permissions over time as plain SVG (docs/console.md says why not a chart library): one row per
 * permission, one bar per interval coloured by its level, no bar where it is denied; a mark at each instant where
 * something changed, and below, the list of those changes with the events that caused them.
 */
export function Timeline({ session, orgId, userId, params }: { session: Session; orgId: string; userId: string; params: URLSearchParams }) {
  const from = params.get('from') ?? '';
  const to = params.get('to') ?? '';
  const loaded = useLoad(
    () =>
      getJson<{ from: string; to: string; intervals: Interval[] }>(session, `/orgs/${encodeURIComponent(orgId)}/members/${encodeURIComponent(userId)}/access/timeline`, {
        from,
        to,
      }),
    `${orgId}|${userId}|${from}|${to}`,
  );
  const go = (e: Event) => {
    e.preventDefault();
    navigate(href(['orgs', orgId, 'members', userId, 'timeline'], formValues(e.currentTarget as HTMLFormElement)));
  };
  return (
    <section>
      <h1>
        Timeline of {userId} <small>in {orgId}</small>
      </h1>
      <MemberNav orgId={orgId} userId={userId} current="timeline" params={params} />
      <form class="inline" onSubmit={go} aria-label="Timeline window">
        <Field label="From" name="from" value={from} hint={INSTANT_HINT} />
        <Field label="To" name="to" value={to} />
        <button type="submit">Show timeline</button>
      </form>
      <Show loaded={loaded} what="the timeline">
        {(d) => <Chart intervals={d.intervals} end={d.to} />}
      </Show>
    </section>
  );
}

function Chart({ intervals, end }: { intervals: Interval[]; end: string }) {
  if (intervals.length === 0) return <p data-ready="timeline">No permission in this window.</p>;
  const permissions = [...new Set(intervals.map((i) => i.permission))].sort();
  const t0 = Math.min(...intervals.map((i) => Date.parse(i.from)));
  const t1 = Math.max(Date.parse(end), ...intervals.map((i) => Date.parse(i.to ?? end)));
  const label = 260;
  const width = 1000;
  const row = 14;
  const top = 24;
  const x = (t: number) => label + ((t - t0) / Math.max(1, t1 - t0)) * (width - label - 10);
  // The instants where something changed: each interval's start (after the first instant) and end.
  const changes = new Map<string, { permission: string; what: string; event: string | null }[]>();
  const add = (at: string, permission: string, what: string, event: string | null) => {
    const list = changes.get(at) ?? [];
    list.push({ permission, what, event });
    changes.set(at, list);
  };
  for (const i of intervals) {
    if (Date.parse(i.from) > t0) add(i.from, i.permission, `→ ${i.level}`, i.openedBy);
    if (i.to) add(i.to, i.permission, `${i.level} ended`, i.closedBy);
  }
  const instants = [...changes.keys()].sort();
  const height = top + permissions.length * row + 10;
  const ticks = Array.from({ length: 6 }, (_, k) => t0 + ((t1 - t0) * k) / 5);
  return (
    <div data-ready="timeline">
      <svg class="timeline" viewBox={`0 0 ${width} ${height}`} role="img" aria-label="Permissions over time" data-t0={new Date(t0).toISOString()} data-t1={new Date(t1).toISOString()}>
        {ticks.map((t) => (
          <text key={t} x={x(t)} y={12} class="tick" text-anchor="middle">
            {new Date(t).toISOString().slice(0, 10)}
          </text>
        ))}
        {permissions.map((p, r) => (
          <g key={p}>
            <text x={label - 6} y={top + r * row + 10} class="perm" text-anchor="end">
              {p}
            </text>
            <rect x={label} y={top + r * row + 2} width={width - label - 10} height={row - 4} class="lane" />
            {intervals
              .filter((i) => i.permission === p)
              .map((i) => (
                <rect
                  key={i.from}
                  x={x(Date.parse(i.from))}
                  y={top + r * row + 2}
                  width={Math.max(1, x(Date.parse(i.to ?? end)) - x(Date.parse(i.from)))}
                  height={row - 4}
                  fill={COLOURS[i.level] ?? '#6a1b9a'}
                >
                  <title>{`${p}: ${i.level} from ${when(i.from)} to ${i.to ? when(i.to) : 'now'}`}</title>
                </rect>
              ))}
          </g>
        ))}
        {instants.map((at) => (
          <line key={at} class="change" data-change-at={at} x1={x(Date.parse(at))} x2={x(Date.parse(at))} y1={top - 4} y2={height - 6}>
            <title>{`changed at ${when(at)}`}</title>
          </line>
        ))}
      </svg>
      <p class="legend">
        Bars: <span class="c-2e7d32">granted / always_allow</span>, <span class="c-1565c0">manage</span>, <span class="c-64b5f6">view</span>,{' '}
        <span class="c-f9a825">needs_approval</span>, <span class="c-c62828">blocked</span>; no bar: denied or not held.
      </p>
      <h2>Changes</h2>
      <ol class="changes">
        {instants.map((at) => (
          <li key={at} data-change-at={at}>
            <strong>{when(at)}</strong>
            <ul>
              {changes.get(at)!.map((c) => (
                <li key={c.permission + c.what}>
                  {c.permission} {c.what}
                  {c.event ? (
                    <>
                      {' '}
                      — <EventLink id={c.event} />
                    </>
                  ) : null}
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ol>
    </div>
  );
}

type Change = { permission: string; from: string | null; to: string | null };

export function Diff({ session, orgId, userId, params }: { session: Session; orgId: string; userId: string; params: URLSearchParams }) {
  const from = params.get('from') ?? '';
  const to = params.get('to') ?? '';
  const loaded = useLoad(
    from && to
      ? () =>
          getJson<{ gained: Change[]; lost: Change[]; changed: Change[] }>(session, `/orgs/${encodeURIComponent(orgId)}/members/${encodeURIComponent(userId)}/access/diff`, {
            from,
            to,
          })
      : null,
    `${orgId}|${userId}|${from}|${to}`,
  );
  const go = (e: Event) => {
    e.preventDefault();
    navigate(href(['orgs', orgId, 'members', userId, 'diff'], formValues(e.currentTarget as HTMLFormElement)));
  };
  return (
    <section>
      <h1>
        What changed for {userId} <small>in {orgId}</small>
      </h1>
      <MemberNav orgId={orgId} userId={userId} current="diff" params={params} />
      <form class="inline" onSubmit={go} aria-label="Diff between two dates">
        <Field label="From" name="from" value={from} required hint={INSTANT_HINT} />
        <Field label="To" name="to" value={to} required />
        <button type="submit">Compare</button>
      </form>
      <Show loaded={loaded} what="the diff">
        {(d) => (
          <div data-ready="diff">
            {(['gained', 'lost', 'changed'] as const).map((kind) => (
              <div key={kind} class={`diff-${kind}`}>
                <h2>
                  {kind} ({d[kind].length})
                </h2>
                <table>
                  <thead>
                    <tr>
                      <th>Permission</th>
                      <th>Before</th>
                      <th>After</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d[kind].map((c) => (
                      <tr key={c.permission}>
                        <td>{c.permission}</td>
                        <td>{c.from ?? '—'}</td>
                        <td>{c.to ?? '—'}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ))}
          </div>
        )}
      </Show>
    </section>
  );
}
