import type { StatementSync } from 'node:sqlite';
import type { StoredChainLink } from '../chain.js';

/** Rows of one stream, by revision from `from` to `to` (inclusive), with their text as stored. */
export const STORED_LINKS_SQL =
  'SELECT position, stream_id, revision, id, type, data, metadata, prev_hash, hash FROM events WHERE stream_id = ? AND revision >= ? AND revision <= ? ORDER BY revision ASC LIMIT ?';

/**
 * A stream's rows as `StoredChainLink`s (data and metadata left as the canonical text they were hashed as), a page
 * at a time from `statement` (STORED_LINKS_SQL, rows as arrays); `page` runs between pages (to yield, to check).
 */
export async function* storedLinks(
  statement: StatementSync,
  streamId: string,
  range: { from: number; to: number },
  page: () => void | Promise<void>,
  pageSize = 1000,
): AsyncIterable<StoredChainLink> {
  for (let from = range.from; ; ) {
    await page();
    const rows = statement.all(streamId, from, range.to, pageSize) as unknown as unknown[][];
    for (const a of rows) {
      yield {
        position: a[0] as number,
        streamId: a[1] as string,
        revision: a[2] as number,
        id: a[3] as string,
        type: a[4] as string,
        canonicalData: a[5] as string,
        canonicalMetadata: a[6] as string,
        prevHash: a[7] as string,
        hash: a[8] as string,
      };
    }
    if (rows.length < pageSize) return;
    from = (rows[rows.length - 1]![2] as number) + 1;
  }
}

/** One event-loop turn: a long walk must not keep a server from answering meanwhile. */
export const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
