import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import { ComplianceApiClient } from './compliance-api/client.js';
import { stagePages, type StagingMessage, type StagingWorkerData } from './staging.js';
import { JOURNAL_SIZE_LIMIT } from './sync.js';

/**
 * The staging of one sync pass (`stageFeed`, staging.ts) in a thread of its own: the client rebuilt from its settings,
 * a connection of its own to `sources.sqlite`, the same `stagePages` as in the caller's thread. Progress is posted after
 * each page's commit; 'stop' from the caller ends the staging at the next page boundary, or cuts a retry wait short.
 */
const job = workerData as StagingWorkerData;
let stopping = false;
const wakers = new Set<() => void>();

class Stopped extends Error {
  override readonly name = 'Stopped';
}

parentPort!.on('message', (message: string) => {
  if (message !== 'stop') return;
  stopping = true;
  for (const wake of wakers) wake();
});

const sleep = (ms: number) =>
  new Promise<void>((resolve, reject) => {
    if (stopping) return reject(new Stopped('stopping'));
    const wake = () => {
      clearTimeout(timer);
      reject(new Stopped('stopping'));
    };
    const timer = setTimeout(() => {
      wakers.delete(wake);
      resolve();
    }, ms);
    wakers.add(wake);
  });

const post = (m: StagingMessage) => parentPort!.postMessage(m);
// The caller's connection may write meanwhile (another source's status): wait for its lock rather than fail.
const db = new DatabaseSync(job.path, { timeout: 5000 });
try {
  // As the store's own connection (sync.ts, SourcesStore): journal_mode = WAL is a property of the file.
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA cache_size = -65536');
  // A backfill writes every activity once: checkpoints every 256 MB of WAL instead of every 4 MB halve the time of the
  // inserts (each checkpoint syncs the file and writes again the index pages the next pages touch). What is not yet
  // checkpointed is as safe in the WAL (synchronous = NORMAL, SourcesStore); the next writer checkpoints it.
  db.exec('PRAGMA wal_autocheckpoint = 65536');
  db.exec(`PRAGMA journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
  const client = new ComplianceApiClient({ ...job.client, sleep });
  const report = await stagePages(db, client, job.settings, (progress) => {
    post({ progress });
    if (stopping) throw new Stopped('stopping');
  });
  // The WAL written since the last checkpoint goes to the file here, in this thread, rather than at the first mark of
  // the apply that follows (which would wait for it).
  db.exec('PRAGMA wal_checkpoint(PASSIVE)');
  post({ report });
} catch (error) {
  const e = error as { name?: string; message?: string; status?: number; scope?: string };
  post({ error: { name: String(e.name ?? 'Error'), message: String(e.message ?? error), status: e.status, scope: e.scope } });
} finally {
  db.close();
}
