import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type Problem } from './api.js';
import { href } from './router.js';

/** The state of one request to the API: loading, answered, or its problem. */
export type Loaded<T> = { state: 'loading' } | { state: 'done'; data: T } | { state: 'failed'; problem: Problem };

/**
 * Runs `load` whenever `key` changes; an answer that arrives after a newer request started is dropped, and the answer
 * to an older key is never shown as the answer to the new one (it is `loading` from the first render with the new key,
 * unless `known` already has the answer: then that render shows it).
 * The request leaves during the first render with the new key, before the DOM of that render is diffed and committed
 * (an effect would wait for the commit, a plain one even for the next frame to be painted); the commit's layout effect
 * then waits for its answer.
 */
export function useLoad<T>(load: (() => Promise<T>) | null, key: string, known?: () => { data: T } | undefined): Loaded<T> | null {
  const [loaded, setLoaded] = useState<{ key: string; value: Loaded<T> | null }>({ key: '', value: null });
  const request = useRef<{ key: string; answer: Promise<T> } | { key: string; data: T } | null>(null);
  if (!load) request.current = null;
  else if (request.current?.key !== key) {
    const answered = known?.();
    request.current = answered ? { key, data: answered.data } : { key, answer: load() };
  }
  useLayoutEffect(() => {
    const started = request.current;
    if (!load || started?.key !== key || !('answer' in started)) return;
    let current = true;
    started.answer.then(
      (data) => current && setLoaded({ key, value: { state: 'done', data } }),
      (error) => current && setLoaded({ key, value: { state: 'failed', problem: problemOf(error) } }),
    );
    return () => {
      current = false;
    };
  }, [key]);
  if (loaded.key !== key) {
    if (!load) return null;
    return request.current && 'data' in request.current ? { state: 'done', data: request.current.data } : { state: 'loading' };
  }
  return loaded.value;
}

export function problemOf(error: unknown): Problem {
  if (error instanceof ApiError) return error.problem;
  return { status: 0, title: 'Unexpected error in the console', detail: (error as Error)?.message ?? String(error) };
}

/** A problem as the API said it: title, status, detail, and every failing field. */
export function ProblemView({ problem, context }: { problem: Problem; context?: string }) {
  return (
    <div class="problem" role="alert">
      <p>
        <strong>{context ?? problem.title ?? 'Error'}</strong>
        {problem.status ? <span class="status"> ({problem.status})</span> : null}
      </p>
      {problem.detail ? <p class="detail">{problem.detail}</p> : null}
      {problem.errors?.length ? (
        <ul>
          {problem.errors.map((e) => (
            <li key={e.path}>
              <code>{e.path}</code>: {e.message}
            </li>
          ))}
        </ul>
      ) : null}
      {problem.type ? <p class="type">{problem.type}</p> : null}
    </div>
  );
}

/** Shown while a request is in flight; says so once it takes more than a second. */
export function Loading({ what }: { what: string }) {
  const [slow, setSlow] = useState(false);
  useEffect(() => {
    const t = setTimeout(() => setSlow(true), 1000);
    return () => clearTimeout(t);
  }, []);
  return (
    <p class="loading" role="status" aria-live="polite">
      Loading {what}…{slow ? ' (the server is taking a while)' : ''}
    </p>
  );
}

/** Loading, failed or the children for the data. */
export function Show<T>({ loaded, what, children }: { loaded: Loaded<T> | null; what: string; children: (data: T) => ComponentChildren }) {
  if (!loaded) return null;
  if (loaded.state === 'loading') return <Loading what={what} />;
  if (loaded.state === 'failed') return <ProblemView problem={loaded.problem} />;
  return <>{children(loaded.data)}</>;
}

/** A labelled text input. */
export function Field(props: { label: string; name: string; value?: string; placeholder?: string; hint?: string; required?: boolean; type?: 'text' | 'password' }) {
  const id = `f-${props.name}`;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <input
        id={id}
        name={props.name}
        {...({ type: props.type ?? 'text' } as { type: 'text' })}
        // Uncontrolled: what the analyst types survives a re-render while an answer arrives.
        defaultValue={props.value ?? ''}
        placeholder={props.placeholder}
        required={props.required}
        aria-describedby={props.hint ? `${id}-hint` : undefined}
        autocomplete="off"
      />
      {props.hint ? (
        <small id={`${id}-hint`} class="hint">
          {props.hint}
        </small>
      ) : null}
    </div>
  );
}

/** A labelled select. */
export function Select(props: { label: string; name: string; value?: string; options: readonly (string | [string, string])[] }) {
  const id = `f-${props.name}`;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <select id={id} name={props.name} value={props.value ?? ''}>
        {props.options.map((o) => {
          const [value, label] = typeof o === 'string' ? [o, o || '(any)'] : o;
          return (
            <option key={value} value={value}>
              {label}
            </option>
          );
        })}
      </select>
    </div>
  );
}

/** The values of a form's named controls, empty ones left out. */
export function formValues(form: HTMLFormElement): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new FormData(form)) if (typeof v === 'string' && v.trim() !== '') out[k] = v.trim();
  return out;
}

export const INSTANT_HINT = 'A date (2026-03-01, start of the day UTC) or an instant (2026-03-01T09:00:00Z); empty: now';

/** `2026-03-01T09:00:00.000Z` → `2026-03-01 09:00:00.000 UTC`. */
export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  return iso.replace('T', ' ').replace(/Z$/, ' UTC');
}

const eventHref = (id: string) => `#/events/${encodeURIComponent(id)}`;

export function EventLink({ id, children }: { id: string; children?: ComponentChildren }) {
  return (
    <a href={eventHref(id)} class="event-link" data-event-id={id}>
      {children ?? id.slice(0, 8)}
    </a>
  );
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** `EventLink`'s markup as a string of escaped HTML, for rows built as strings. */
export function eventLinkHtml(id: string, text: string): string {
  return `<a href="${escapeHtml(eventHref(id))}" class="event-link" data-event-id="${escapeHtml(id)}">${escapeHtml(text)}</a>`;
}

export function actorText(actor: { kind: string; orgId?: string; userId?: string } | null | undefined): string {
  if (!actor) return '—';
  return actor.kind === 'member' ? `${actor.userId} (${actor.orgId})` : actor.kind;
}

/**
 * Previous/next links over an API's cursor pages. The page's URL keeps its own cursor and, in `backName`, the cursors
 * of the pages before it (comma-separated), so that "Previous" needs no state; other parameters are kept.
 */
export function Pager(props: {
  label: string;
  path: readonly string[];
  params: URLSearchParams;
  next: string | null;
  what: string;
  cursorName?: string;
  backName?: string;
}) {
  const cursorName = props.cursorName ?? 'cursor';
  const backName = props.backName ?? 'back';
  const cursor = props.params.get(cursorName) ?? '';
  const back = (props.params.get(backName) ?? '').split(',').filter(Boolean);
  const to = (c: string | undefined, b: readonly string[]) =>
    href(props.path, { ...Object.fromEntries(props.params), [cursorName]: c, [backName]: b.join(',') || undefined });
  if (!cursor && !props.next) return null;
  return (
    <nav class="pager" aria-label={props.label}>
      {cursor ? <a href={to(back.at(-1), back.slice(0, -1))}>Previous {props.what}</a> : null}
      {props.next ? <a href={to(props.next, cursor ? [...back, cursor] : back)}>Next {props.what}</a> : null}
    </nav>
  );
}
