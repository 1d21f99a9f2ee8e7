import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import { ComplianceApiClient } from './compliance-api/client.js';
import { stagePages, type StagingMessage, type StagingWorkerData } from './staging.js';

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
  const client = new ComplianceApiClient({ ...job.client, sleep });
  const report = await stagePages(db, client, job.settings, (progress) => {
    post({ progress });
    if (stopping) throw new Stopped('stopping');
  });
  post({ report });
} catch (error) {
  const e = error as { name?: string; message?: string; status?: number; scope?: string };
  post({ error: { name: String(e.name ?? 'Error'), message: String(e.message ?? error), status: e.status, scope: e.scope } });
} finally {
  db.close();
}
