import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import { MerkleTreeFollower, type TreeExtension } from './merkle-tree.js';

/**
 * The tree writer of one store (`SqliteEventStore` with the tree off the append path, docs/proofs.md § 7): the
 * store posts the chain hashes of each committed append; this thread hashes them into the frontiers
 * (MerkleTreeFollower) as they come and, every FLUSH_LEAVES leaves or FLUSH_MS after the first unsent one, or when
 * asked (`flush`), posts what the stored tree lacks. It never writes: SQLite has one writer, and a second connection
 * taking the write lock between appends either waits behind a steady stream of them or makes them wait (the lock is
 * polled, every 1 ms at best), so the store writes the few rows inside its next append's transaction, or in one of its
 * own when no append comes.
 */
export interface TreeWorkerData {
  readonly path: string;
  readonly busyTimeoutMs: number;
  readonly flushLeaves: number;
  readonly flushMs: number;
}
export type TreeRequest =
  /** `hashes`: the chain hashes of revisions firstRevision …, joined (64 hex digits each): one string to copy. */
  | { readonly kind: 'leaves'; readonly streamId: string; readonly firstRevision: number; readonly hashes: string }
  | { readonly kind: 'flush' }
  | { readonly kind: 'forget'; readonly streamId: string }
  | { readonly kind: 'close' };
export type TreeAnswer =
  /** `leaves`: how many of the leaves posted so far this answer accounts for (taken, or given up with an error). */
  | { readonly kind: 'extensions'; readonly extensions: TreeExtension[]; readonly leaves: number; readonly flushed: boolean }
  | { readonly kind: 'error'; readonly streamId: string; readonly name: string; readonly message: string };

const settings = workerData as TreeWorkerData;
const db = new DatabaseSync(settings.path, { timeout: settings.busyTimeoutMs, readOnly: true });
const follower = new MerkleTreeFollower(db);
let unsent = 0;
let timer: NodeJS.Timeout | undefined;

/** `flushed`: the answer to a `flush`, everything posted before it is in. */
function send(flushed = false): void {
  if (timer !== undefined) clearTimeout(timer);
  timer = undefined;
  const answer: TreeAnswer = { kind: 'extensions', extensions: follower.extensions(), leaves: unsent, flushed };
  unsent = 0;
  parentPort!.postMessage(answer);
}

/** Runs `work`; what it throws goes to the store as an error answer (kept for caughtUp), not up this thread. */
function reported(streamId: string, work: () => void): void {
  try {
    work();
  } catch (error) {
    const e = error as { name?: unknown; message?: unknown };
    const answer: TreeAnswer = { kind: 'error', streamId, name: String(e?.name ?? 'Error'), message: String(e?.message ?? error) };
    parentPort!.postMessage(answer);
  }
}

parentPort!.on('message', (message: TreeRequest) => {
  switch (message.kind) {
    case 'leaves': {
      const count = message.hashes.length / 64;
      const hashes: string[] = new Array(count);
      for (let i = 0; i < count; i++) hashes[i] = message.hashes.slice(i * 64, i * 64 + 64);
      reported(message.streamId, () => follower.take(message.streamId, message.firstRevision, hashes));
      unsent += count;
      if (unsent >= settings.flushLeaves) send();
      else timer ??= setTimeout(send, settings.flushMs);
      return;
    }
    case 'flush':
      send(true);
      return;
    case 'forget':
      reported(message.streamId, () => follower.forget(message.streamId));
      return;
    case 'close':
      if (timer !== undefined) clearTimeout(timer);
      db.close();
      parentPort!.close();
      return;
  }
});
