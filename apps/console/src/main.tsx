import { render } from 'preact';
import { useEffect, useLayoutEffect, useState } from 'preact/hooks';
import { clearSession, fetchAhead, forgetAhead, loadSession, type Session, whenUnauthorized } from './api.js';
import { Group } from './groups.js';
import { Audit, EventPage, Exports, Holders, Integrity, Member, memberAccessRequest, Org, Orgs, Reports, SignIn } from './pages.js';
import { href, navigate, type Route, useRoute } from './router.js';
import { Diff, Timeline } from './timeline.js';

function App() {
  const [session, setSession] = useState<Session | null>(loadSession);
  const [message, setMessage] = useState<string | undefined>();
  const route = useRoute((next) => (session ? dataAhead(session, next) : undefined));
  // The new route's page has taken its answer fetched ahead during this render, if it needed it.
  useLayoutEffect(forgetAhead, [route]);
  useEffect(() => {
    // A 401 on any page: the key was revoked or is unknown now. The session ends and the analyst is told why.
    whenUnauthorized((p) => {
      clearSession();
      setSession(null);
      setMessage(`Your session has ended: the server no longer accepts this API key${p.detail ? ` (${p.detail})` : ''}. Sign in again with a valid key.`);
    });
  }, []);
  if (!session)
    return (
      <SignIn
        message={message}
        onSignedIn={(s) => {
          setMessage(undefined);
          setSession(s);
          if (route.segments.length === 0) navigate(href(['orgs']));
        }}
      />
    );
  return (
    <>
      <header>
        <nav aria-label="Main">
          <strong>access-ledger</strong>
          <a href={href(['orgs'])}>Organizations</a>
          <a href={href(['audit'])}>Audit</a>
          <a href={href(['exports'])}>Exports</a>
          <a href={href(['integrity'])}>Integrity</a>
          <span class="tenant">tenant {session.tenant}</span>
          <button
            type="button"
            onClick={() => {
              clearSession();
              setSession(null);
              setMessage('Signed out.');
            }}
          >
            Sign out
          </button>
        </nav>
      </header>
      <main>
        <Page session={session} route={route} />
      </main>
    </>
  );
}

/**
 * The request of the page a navigation goes to, started as the hash changes (see useRoute). The member page, the one
 * analysts move through most (member after member), has it; the other pages appear at once and load.
 */
function dataAhead(session: Session, route: Route): Promise<unknown> | undefined {
  const [a, b, c, d, e] = route.segments;
  if (a === 'orgs' && b && c === 'members' && d && !e) return fetchAhead(session, ...memberAccessRequest(b, d, route.params));
  return undefined;
}

function Page({ session, route }: { session: Session; route: Route }) {
  const [a, b, c, d, e] = route.segments;
  const p = route.params;
  if (!a || (a === 'orgs' && !b)) return <Orgs session={session} />;
  if (a === 'orgs' && b && !c) return <Org key={b} session={session} orgId={b} params={p} />;
  if (a === 'orgs' && b && c === 'members' && d && !e) return <Member session={session} orgId={b} userId={d} params={p} />;
  if (a === 'orgs' && b && c === 'members' && d && e === 'timeline') return <Timeline session={session} orgId={b} userId={d} params={p} />;
  if (a === 'orgs' && b && c === 'members' && d && e === 'diff') return <Diff session={session} orgId={b} userId={d} params={p} />;
  if (a === 'orgs' && b && c === 'groups' && d && !e) return <Group session={session} orgId={b} groupId={d} params={p} />;
  if (a === 'orgs' && b && c === 'holders') return <Holders session={session} orgId={b} params={p} />;
  if (a === 'orgs' && b && c === 'reports') return <Reports session={session} orgId={b} name={d ?? 'access-review'} params={p} />;
  if (a === 'events' && b) return <EventPage session={session} eventId={b} />;
  if (a === 'audit') return <Audit session={session} params={p} />;
  if (a === 'exports') return <Exports session={session} exportId={b} />;
  if (a === 'integrity') return <Integrity session={session} />;
  return (
    <p role="alert">
      There is no page <code>{location.hash}</code>. <a href={href(['orgs'])}>Organizations</a>
    </p>
  );
}

const root = document.getElementById('app')!;
root.textContent = ''; // the page's own 'Loading the console…' line
render(<App />, root);
