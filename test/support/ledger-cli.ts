import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
/** The compiled CLI (`npm test` builds it first). */
export const LEDGER_CLI = join(root, 'dist/apps/cli/src/main.js');

/**
 * Runs `ledger --data-dir DIR ARGS…` as a child process on Node 24, with the embedded stores (no KURRENTDB_URL or
 * CLICKHOUSE_URL from the caller's environment) plus `env`, and collects its output and exit status.
 */
export function runLedger(
  dir: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(join(root, 'node_modules/.bin/node'), [LEDGER_CLI, '--data-dir', dir, ...args], {
      env: { ...process.env, KURRENTDB_URL: '', CLICKHOUSE_URL: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}
