import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import { type PendingAnswer, PendingReader, type PendingRequest, type PendingWorkerData } from './pending.js';
import { JOURNAL_SIZE_LIMIT } from './sync.js';

/**
 * The pending activities of one sync pass (`pendingBatches`, pending.ts) in a thread of its own: batches read (ids and
 * texts), marks written, on a connection of its own to `sources.sqlite`, in the order they are asked for. Reading the
 * next 20 000 activities and marking the last ones (one row rewritten and one index entry removed per activity) then
 * run beside the ledger's checks and folds instead of between them; the mapping stays with the caller (strings cross
 * threads cheaply, the lines' objects would not).
 */
const job = workerData as PendingWorkerData;
// The caller's connection may write meanwhile (another source's status): wait for its lock rather than fail.
const db = new DatabaseSync(job.path, { timeout: 5000 });
// As the store's own connection (sync.ts, SourcesStore): journal_mode = WAL is a property of the file.
db.exec('PRAGMA synchronous = NORMAL');
db.exec('PRAGMA cache_size = -65536');
// Marking rewrites every pending row once: checkpoints every 256 MB of WAL, as the staging worker's, and one at the end.
db.exec('PRAGMA wal_autocheckpoint = 65536');
db.exec(`PRAGMA journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
const reader = new PendingReader(db, job.name, job.batchSize);

parentPort!.on('message', (request: PendingRequest) => {
  if ('close' in request) {
    db.exec('PRAGMA wal_checkpoint(PASSIVE)');
    db.close();
    parentPort!.close();
    return;
  }
  let answer: PendingAnswer;
  try {
    if ('next' in request) answer = { batch: reader.next() ?? null };
    else {
      reader.mark(request.mark);
      answer = { marked: true };
    }
  } catch (error) {
    const e = error as { name?: string; message?: string };
    answer = { error: { name: String(e.name ?? 'Error'), message: String(e.message ?? error) } };
  }
  parentPort!.postMessage(answer);
});
