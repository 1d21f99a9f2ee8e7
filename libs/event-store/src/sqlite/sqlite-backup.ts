import { createReadStream, existsSync, rmSync, statSync } from 'node:fs';
import { chmod, open, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { DatabaseSync, backup } from 'node:sqlite';

/**
 * Consistent copies of SQLite files while their owner keeps running (`ledger backup` / `ledger restore`).
 *
 * SQLite's online backup copies every page in one step here, which is one read transaction: the copy is the
 * database exactly as some commit left it, whatever the server appends meanwhile (in WAL mode readers and the
 * writer do not block each other). In smaller steps a write by another connection between two steps would restart
 * the copy, and a busy server could keep restarting it. The step runs off the event loop, so the caller can show
 * progress from the size of the file being written.
 */

/** SQLite's largest step: every remaining page at once. */
const ALL_PAGES = 0x7fff_ffff;

export interface CopyProgress {
  readonly copiedBytes: number;
  readonly totalBytes: number;
}

/**
 * Copies the database at `source` to `target` (which must not exist) through `target.partial`, fsynced and renamed,
 * so `target` is either absent or complete. Returns the copy's size.
 */
export async function backupSqliteFile(source: string, target: string, onProgress?: (p: CopyProgress) => void): Promise<number> {
  if (!existsSync(source)) throw new Error(`${source} does not exist`);
  if (existsSync(target)) throw new Error(`${target} already exists`);
  const partial = `${target}.partial`;
  rmSync(partial, { force: true });
  const db = new DatabaseSync(source, { readOnly: true });
  let timer: NodeJS.Timeout | undefined;
  try {
    const { page_count, page_size } = db.prepare('SELECT page_count, page_size FROM pragma_page_count(), pragma_page_size()').get() as {
      page_count: number;
      page_size: number;
    };
    const totalBytes = page_count * page_size;
    const report = () => {
      let copiedBytes = 0;
      try {
        copiedBytes = Math.min(totalBytes, statSync(partial).size);
      } catch {
        // not created yet
      }
      onProgress?.({ copiedBytes, totalBytes });
    };
    if (onProgress) timer = setInterval(report, 250);
    await backup(db, partial, { rate: ALL_PAGES });
    if (timer) clearInterval(timer);
    onProgress?.({ copiedBytes: totalBytes, totalBytes });
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  } finally {
    if (timer) clearInterval(timer);
    db.close();
  }
  // The copies hold what the originals hold (API key hashes among them): readable by their owner only.
  await chmod(partial, 0o600);
  await fsyncFile(partial);
  await rename(partial, target);
  await fsyncFile(dirname(target));
  return statSync(target).size;
}

/** Copies a file (a backup's, already verified) to `target` through `target.partial`, fsynced and renamed. */
export async function copyFileDurably(source: string, target: string): Promise<void> {
  const partial = join(dirname(target), `${basename(target)}.partial`);
  const from = await open(source, 'r');
  const to = await open(partial, 'w', 0o600);
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const { bytesRead } = await from.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      await to.write(buffer, 0, bytesRead);
    }
    await to.sync();
  } finally {
    await from.close();
    await to.close();
  }
  await rename(partial, target);
  await fsyncFile(dirname(target));
}

/** SHA-256 of a file, streamed. */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
