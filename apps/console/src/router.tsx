import { useEffect, useState } from 'preact/hooks';
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

export function useRoute(): Route {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const changed = () => {
      markNavigation();
      setRoute(currentRoute());
    };
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
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
