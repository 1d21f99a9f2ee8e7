/**
 * The port: where activities come from. One adapter today, the Compliance API (compliance-api/client.ts); the sync
 * (sync.ts) knows only this interface. Records are kept verbatim (they are evidence); the sync validates them.
 */
export interface ActivityPage {
  /** Newest first, as the feed serves them; raw JSON, unvalidated. */
  readonly activities: readonly unknown[];
  /** The cursor of the next (older) page, or null when this page is the last one. */
  readonly next: string | null;
}

export interface ActivitySource {
  /** One page of the feed, newest first, starting after `cursor` (null: the newest activities). */
  page(cursor: string | null, limit: number): Promise<ActivityPage>;
}

/** A source was refused for good (401/403): the sync stops and says why, naming the missing scope. */
export class SourceAuthError extends Error {
  override readonly name = 'SourceAuthError';
  constructor(
    message: string,
    readonly status: number,
    readonly scope?: string,
  ) {
    super(message);
  }
}

/** A source kept failing (5xx, 429, network) beyond the retries allowed. */
export class SourceUnavailableError extends Error {
  override readonly name = 'SourceUnavailableError';
}
