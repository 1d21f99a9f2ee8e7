import { useEffect, useRef, useState } from 'preact/hooks';
import { markNavigation } from './timing.js';

/**
 * Hash routes (`#/orgs/acme/members/u-1?at=2026-03-01`): the server serves one page, every view is linkable and the
 * back button works. Nothing secret ever goes in them — the key stays in session storage.
 */
export interface Route {
  readonly segments: readonly string[];
  readonly params: URLSearchParams;
}

export function currentRoute(): Route {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path = '/', query = ''] = hash.split('?', 2);
  return { segments: path.split('/').filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(query) };
}

/**
 * How long a navigation waits for its page's data with the previous page still on screen. Within it, the browser has
 * nothing to lay out or paint while the request is out (the request is that much faster on a busy machine), and the
 * page appears once, whole; beyond it, the page appears with its "Loading" line.
 */
const WAIT_FOR_DATA_MS = 100;

/**
 * The current route; `ahead` may start a route's data request as the hash changes (answering it as a promise), and
 * the route then changes when that answer is in (or failed), or after WAIT_FOR_DATA_MS.
 */
export function useRoute(ahead?: (route: Route) => Promise<unknown> | undefined): Route {
  const [route, setRoute] = useState(currentRoute);
  const start = useRef(ahead);
  start.current = ahead;
  useEffect(() => {
    let shown = location.hash;
    let latest = 0;
    // Chromium fires popstate inside the hash's change and hashchange a task later: the first of the two moves the
    // page; the second is dropped, unless it is navigate()'s own (untrusted) event asking for the same hash again.
    const changed = (e: Event) => {
      if (location.hash === shown && e.isTrusted) return;
      shown = location.hash;
      markNavigation();
      const next = currentRoute();
      const navigation = ++latest;
      const show = () => navigation === latest && setRoute(next);
      const answer = start.current?.(next);
      if (!answer) return show();
      answer.then(show, show);
      setTimeout(show, WAIT_FOR_DATA_MS);
    };
    addEventListener('popstate', changed);
    addEventListener('hashchange', changed);
    return () => {
      removeEventListener('popstate', changed);
      removeEventListener('hashchange', changed);
    };
  }, []);
  return route;
}

/** `href('/orgs', o, 'members', u)` with a query of the non-empty values. */
export function href(path: readonly string[], query: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, v);
  const qs = params.toString();
  return `#/${path.map(encodeURIComponent).join('/')}${qs ? `?${qs}` : ''}`;
}

export function navigate(to: string): void {
  if (location.hash === to) dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = to;
}
