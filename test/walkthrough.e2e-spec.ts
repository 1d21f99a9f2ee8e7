/**
 * docs/walkthrough.md, run: every `sh` block in order against a freshly seeded demo server (a real server process on
 * loopback) and a local s3rver, each compared with the `text` block under it. The page's ids, hashes and answers are
 * then the product's own, and stay so (issue 11 item 6: an analyst walkthrough on the demo data with its real ids).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { runLedger } from './support/ledger-cli.js';
import { startS3rver, type S3rverProcess } from './support/s3rver-process.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';

const root = resolve(import.meta.dirname, '..');
const PAGE = join(root, 'docs/walkthrough.md');

interface Step {
  readonly line: number;
  readonly script: string;
  readonly expected: string | undefined;
}

/** The `sh` blocks of the page, each with the `text` block that follows it (if the next block is one). */
function stepsOf(markdown: string): Step[] {
  const blocks: { lang: string; body: string; line: number }[] = [];
  const fence = /^```(\w*)\n([\s\S]*?)^```$/gm;
  for (let m = fence.exec(markdown); m !== null; m = fence.exec(markdown))
    blocks.push({ lang: m[1]!, body: m[2]!, line: markdown.slice(0, m.index).split('\n').length });
  const steps: Step[] = [];
  blocks.forEach((b, i) => {
    if (b.lang !== 'sh') return;
    const next = blocks[i + 1];
    steps.push({ line: b.line, script: b.body, expected: next?.lang === 'text' ? next.body : undefined });
  });
  return steps;
}

// curl and jq are what the page's reader uses; .ci/run installs them. Elsewhere, without them, the suite skips.
const missingTools = ['curl', 'jq'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
const skip = missingTools.length > 0 && !process.env.CI;
if (skip)
  process.stderr.write(`walkthrough: skipped, ${missingTools.join(' and ')} not on PATH (apt-get install ${missingTools.join(' ')}; CI installs them)\n`);
const describeIf = skip ? describe.skip : describe;

let dataDir: string;
let workDir: string;
let server: ServerProcess | undefined;
let s3: S3rverProcess | undefined;

beforeAll(async () => {
  if (skip) return;
  dataDir = mkdtempSync(join(tmpdir(), 'walkthrough-data-'));
  workDir = mkdtempSync(join(tmpdir(), 'walkthrough-cwd-'));
  const seeded = await runLedger(dataDir, ['demo', '--no-serve']);
  if (seeded.status !== 0) throw new Error(`ledger demo --no-serve failed: ${seeded.stderr}`);
  [server, s3] = await Promise.all([startServerProcess(dataDir), startS3rver({ buckets: ['audit-archive'] })]);
  // The walkthrough reads the read model (reports, audit search): wait until every projection has caught up.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ready = (await (await fetch(`${server.url}/ready`)).json()) as { status?: string; projectionLag?: number; readModelLag?: Record<string, number> };
    const lags = [ready.projectionLag ?? 1, ...Object.values(ready.readModelLag ?? { none: 1 })];
    if (ready.status === 'ready' && lags.every((lag) => lag === 0)) break;
    if (Date.now() > deadline) throw new Error(`the demo server did not catch up in 60 s: ${JSON.stringify(ready)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}, 180_000);

afterAll(async () => {
  server?.child.kill('SIGTERM');
  if (server) await server.exited;
  await s3?.stop();
  for (const dir of [dataDir, workDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describeIf('docs/walkthrough.md, every command on the demo data', () => {
  const steps = stepsOf(readFileSync(PAGE, 'utf8'));

  test('the page has its steps, each with the output it shows', () => {
    expect(steps.length).toBeGreaterThanOrEqual(12);
    expect(steps.filter((s) => s.expected === undefined)).toEqual([]);
  });

  // One test per block, in page order: later blocks use what earlier ones wrote (the CSV, the export).
  test.each(steps.map((s) => [s.line, s] as const))(
    'the block at line %i prints what the page shows',
    (_line, step) => {
      // What the page's set-up section exports, pointed at this test's server and s3rver.
      const preamble = [
        `export LEDGER_HOME=${JSON.stringify(root)} BASE=${JSON.stringify(`${server!.url}/v1/tenants/demo`)} KEY=${JSON.stringify(server!.key)}`,
        `export S3=${JSON.stringify(s3!.endpoint)} AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER`,
        'ledger() { "$LEDGER_HOME/node_modules/.bin/node" "$LEDGER_HOME/dist/apps/cli/src/main.js" "$@"; }',
      ].join('\n');
      const run = spawnSync('bash', ['-e', '-o', 'pipefail', '-c', `${preamble}\n${step.script}`], {
        cwd: workDir,
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}`, KURRENTDB_URL: '', CLICKHOUSE_URL: '' },
      });
      expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
      // CSV lines end in CRLF (RFC 4180); the page cannot show the difference.
      expect(run.stdout.replaceAll('\r\n', '\n').trimEnd()).toBe(step.expected!.trimEnd());
    },
    90_000,
  );
});
