import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

// From the sources (jest) or from dist/test/support alike.
const root = resolve(import.meta.dirname, import.meta.dirname.includes('/dist/') ? '../../..' : '../..');
/** The compiled server (`npm test` builds it first). */
export const SERVER_MAIN = join(root, 'dist/apps/api/src/main.js');

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** The bootstrap key of a fresh data directory (tenant `demo`, every scope); empty when the directory had keys already. */
  readonly key: string;
  /** Resolves with the signal (or exit code) once the process has ended. */
  readonly exited: Promise<NodeJS.Signals | number | null>;
}

/**
 * `node dist/apps/api/src/main.js` on `dataDir`, port 0 on 127.0.0.1, embedded stores, no access log, no rate limit;
 * resolves once it listens. For crash tests: the real server in its own process, which SIGKILL can stop anywhere.
 */
export function startServerProcess(dataDir: string, env: Record<string, string> = {}, nodeFlags: readonly string[] = []): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...nodeFlags, SERVER_MAIN], {
    env: {
      ...process.env,
      LEDGER_DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      ACCESS_LOG: 'false',
      RATE_LIMIT_PER_SECOND: '0',
      KURRENTDB_URL: '',
      CLICKHOUSE_URL: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<NodeJS.Signals | number | null>((done) => child.on('exit', (code, signal) => done(signal ?? code)));
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((done, fail) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const listening = /listening on (http:\/\/\S+)/.exec(out);
      if (listening) {
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        const bootstrap = join(dataDir, 'bootstrap-key');
        const key = existsSync(bootstrap) ? readFileSync(bootstrap, 'utf8').trim() : '';
        done({ child, url: listening[1]!.replace('[::1]', '127.0.0.1'), key, exited });
      }
    });
    void exited.then((how) => fail(new Error(`server exited (${String(how)}) before listening: ${stderr}`)));
  });
}
