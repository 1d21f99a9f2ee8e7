import type { Session } from './api.js';
import { getJson } from './api.js';
import { href, navigate } from './router.js';
import { Field, formValues, INSTANT_HINT, Pager, Show, useLoad, when } from './ui.js';

// An organization's groups: tenant groups with a member or a role there (R30), as the discovery routes give them.

type GroupRole = { roleId: string; name: string };
type GroupEntry = { groupId: string; name: string; source: string; memberCount: number; roles: GroupRole[]; rolesGrant: boolean };
type GroupList = { orgId: string; at: string; groups: GroupEntry[]; nextCursor: string | null };
type GroupDetail = GroupEntry & {
  orgId: string;
  at: string;
  members: { userId: string; email: string | null; role: string; status: string }[];
  nextCursor: string | null;
};

const R31 = 'its roles grant nothing here: a SCIM group, and this organization provisions by invite or JIT (R31)';

function Roles({ group }: { group: GroupEntry }) {
  if (group.roles.length === 0) return <>—</>;
  return (
    <>
      {group.roles.map((r) => r.name).join(', ')}
      {group.rolesGrant ? null : <em class="hint"> ({R31})</em>}
    </>
  );
}

/** The organization page's groups table, a page at a time (`gcursor`/`gback`, beside the members' `cursor`/`back`). */
export function OrgGroups({ session, orgId, params }: { session: Session; orgId: string; params: URLSearchParams }) {
  const cursor = params.get('gcursor') ?? '';
  const loaded = useLoad(() => getJson<GroupList>(session, `/orgs/${encodeURIComponent(orgId)}/groups`, { cursor, limit: '50' }), `groups|${orgId}|${cursor}`);
  return (
    <>
      <h2>Groups</h2>
      <Show loaded={loaded} what="groups">
        {(d) =>
          d.groups.length === 0 ? (
            <p data-ready="org-groups">No group has a member or a role in this organization.</p>
          ) : (
            <>
              <table data-ready="org-groups" aria-label={`Groups of ${orgId}`}>
                <thead>
                  <tr>
                    <th>Group</th>
                    <th>Name</th>
                    <th>Source</th>
                    <th>Members here</th>
                    <th>Roles here</th>
                  </tr>
                </thead>
                <tbody>
                  {d.groups.map((g) => (
                    <tr key={g.groupId} data-group={g.groupId}>
                      <td>
                        <a href={href(['orgs', orgId, 'groups', g.groupId])}>{g.groupId}</a>
                      </td>
                      <td>{g.name}</td>
                      <td>{g.source}</td>
                      <td>{g.memberCount}</td>
                      <td>
                        <Roles group={g} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager label="Pages of groups" path={['orgs', orgId]} params={params} cursorName="gcursor" backName="gback" next={d.nextCursor} what="groups" />
            </>
          )
        }
      </Show>
    </>
  );
}

/** One group as the organization sees it at a date: its members there (linking to their access) and its roles there. */
export function Group({ session, orgId, groupId, params }: { session: Session; orgId: string; groupId: string; params: URLSearchParams }) {
  const at = params.get('at') ?? '';
  const knownAt = params.get('knownAt') ?? '';
  const cursor = params.get('cursor') ?? '';
  const loaded = useLoad(
    () => getJson<GroupDetail>(session, `/orgs/${encodeURIComponent(orgId)}/groups/${encodeURIComponent(groupId)}`, { at, knownAt, cursor, limit: '50' }),
    `${orgId}|${groupId}|${at}|${knownAt}|${cursor}`,
  );
  const submit = (e: Event) => {
    e.preventDefault();
    navigate(href(['orgs', orgId, 'groups', groupId], formValues(e.currentTarget as HTMLFormElement)));
  };
  return (
    <section>
      <h1>
        Group {groupId} <small>in {orgId}</small>
      </h1>
      <nav class="tabs" aria-label="Back to">
        <a href={href(['orgs', orgId])}>organization {orgId} (members, groups, roles)</a>
      </nav>
      <form class="inline" onSubmit={submit} aria-label="Choose the instant">
        <Field label="At" name="at" value={at} hint={INSTANT_HINT} />
        <Field label="As known at" name="knownAt" value={knownAt} hint="What the ledger knew then (late events left out); empty: now" />
        <button type="submit">Show group</button>
      </form>
      <Show loaded={loaded} what="the group">
        {(g) => (
          <div data-ready="group" data-group={g.groupId} data-at={g.at}>
            <p class="summary">
              At <strong>{when(g.at)}</strong>: <strong>{g.name}</strong>, from {g.source === 'scim' ? 'SCIM' : 'manual management'}, {g.memberCount} member
              {g.memberCount === 1 ? '' : 's'} of {orgId}
            </p>
            <h2>Roles in {orgId}</h2>
            {g.roles.length === 0 ? (
              <p>None: this group holds no custom role in {orgId}.</p>
            ) : (
              <>
                {g.rolesGrant ? null : <p class="notice">{`These roles are assigned, but ${R31}.`}</p>}
                <table aria-label={`Roles of ${g.groupId} in ${orgId}`} data-table="roles">
                  <thead>
                    <tr>
                      <th>Role</th>
                      <th>Name</th>
                    </tr>
                  </thead>
                  <tbody>
                    {g.roles.map((r) => (
                      <tr key={r.roleId}>
                        <td>{r.roleId}</td>
                        <td>{r.name}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </>
            )}
            <h2>Members in {orgId}</h2>
            {g.members.length === 0 ? (
              <p>None: no member of {orgId} is in this group.</p>
            ) : (
              <table aria-label={`Members of ${g.groupId} in ${orgId}`} data-table="members">
                <thead>
                  <tr>
                    <th>Member</th>
                    <th>Email</th>
                    <th>Role</th>
                    <th>Status</th>
                  </tr>
                </thead>
                <tbody>
                  {g.members.map((m) => (
                    <tr key={m.userId}>
                      <td>
                        <a href={href(['orgs', orgId, 'members', m.userId], { at })}>{m.userId}</a>
                      </td>
                      <td>{m.email ?? '—'}</td>
                      <td>{m.role}</td>
                      <td>{m.status}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <Pager label="Pages of the group's members" path={['orgs', orgId, 'groups', groupId]} params={params} next={g.nextCursor} what="members" />
          </div>
        )}
      </Show>
    </section>
  );
}
