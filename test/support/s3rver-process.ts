/**
 * s3rver in a separate process, for tests and benchmarks that talk to S3.
 *
 * Why a child process: chdb's synchronous calls block the event loop of the process that makes them,
 * so an s3rver inside the same process could never answer while chdb's `s3` table function waits for
 * it — a deadlock. A child process has its own event loop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

/** s3rver accepts any well-formed signature with these credentials (its documented defaults). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface S3rverProcess {
  /** e.g. http://127.0.0.1:41234 — use path-style addressing. */
  readonly endpoint: string;
  readonly port: number;
  readonly directory: string;
  /** A fresh copy each time (the AWS SDK writes into credential objects it is given). */
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  /** A real AWS SDK client pointed at this server (path-style, region us-east-1). */
  client(): S3Client;
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

// The child reads its options from argv, prints one JSON line with the bound port, and exits when
// its stdin closes, so a crashed parent (a killed jest worker) never leaves an orphan server behind.
const CHILD_SCRIPT = `
const S3rver = require(process.argv[1]);
const opts = JSON.parse(process.argv[2]);
const server = new S3rver({
  address: '127.0.0.1', port: 0, silent: true, directory: opts.directory,
  vhostBuckets: false, allowMismatchedSignatures: true,
  configureBuckets: opts.buckets.map((name) => ({ name, configs: [] })),
});
server.run().then((addr) => {
  process.stdout.write(JSON.stringify({ port: addr.port }) + '\\n');
}, (err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
const stop = () => server.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
`;

export async function startS3rver(options: { buckets?: readonly string[]; directory?: string } = {}): Promise<S3rverProcess> {
  const ownDirectory = options.directory === undefined;
  const directory = options.directory ?? mkdtempSync(join(tmpdir(), 's3rver-'));
  const s3rverModule = createRequire(import.meta.url).resolve('s3rver');
  // s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 keeps in its legacy
  // provider: without this flag every listing longer than one page (1000 keys) fails with a 500.
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', '-e', CHILD_SCRIPT, s3rverModule, JSON.stringify({ directory, buckets: options.buckets ?? [] })],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const port = await readPort(child);
  const endpoint = `http://127.0.0.1:${port}`;
  const clients: S3Client[] = [];
  const client = (): S3Client => {
    const c = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { ...S3RVER_CREDENTIALS } });
    clients.push(c);
    return c;
  };
  return {
    endpoint,
    port,
    directory,
    get credentials() {
      return { ...S3RVER_CREDENTIALS };
    },
    client,
    async createBucket(name) {
      const c = client();
      await c.send(new CreateBucketCommand({ Bucket: name }));
    },
    async stop() {
      for (const c of clients) c.destroy();
      if (child.exitCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        await exited;
      }
      if (ownDirectory) rmSync(directory, { recursive: true, force: true });
    },
  };
}

function readPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`s3rver did not start within 15 s: ${err}`));
    }, 15_000);
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve((JSON.parse(out.slice(0, nl)) as { port: number }).port);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited with code ${code}: ${err}`));
    });
  });
}
