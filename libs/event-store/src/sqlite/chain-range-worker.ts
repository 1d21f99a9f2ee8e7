import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import { verifyStoredEvents, type ChainStart } from '../chain.js';
import { STORED_LINKS_SQL, storedLinks } from './stored-links.js';

/**
 * The second half of a chain walk (`SqliteEventStore.verifyChain` on a long stream), on the other core: the rows from
 * `start.from` on, the first of which must say `start.prevHash`. Posts `{ progress }` now and then, then `{ result }`.
 */
const { path, streamId, start } = workerData as { path: string; streamId: string; start: ChainStart };
const db = new DatabaseSync(path, { readOnly: true });
try {
  const statement = db.prepare(STORED_LINKS_SQL);
  statement.setReturnArrays(true);
  const links = storedLinks(statement, streamId, { from: start.from, to: Number.MAX_SAFE_INTEGER }, () => undefined);
  const result = await verifyStoredEvents(streamId, links, (checked) => parentPort!.postMessage({ progress: checked }), start);
  parentPort!.postMessage({ result });
} finally {
  db.close();
}
