import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm run bench [-- NAME …]`: every benchmark, each in a process of its own (so one's memory and event loop do not
 * colour another's figures), in this order. Each prints its figures next to the same-run baselines the issues name.
 */
const BENCHES = [
  { name: 'event-store', file: 'event-store.bench.js', what: 'append throughput vs a bare node:sqlite insert loop' },
  { name: 'access', file: 'access.bench.js', what: 'rebuild, access at an instant, holders, memory, casbin' },
  {
    name: 'read-model',
    file: 'read-model-history.bench.js',
    what: 'the whole read model of the generated history vs the access projection rebuild, interval rows per event, RSS, period reports',
  },
  { name: 'read-model-synthetic', file: 'read-model.bench.js', what: 'ClickHouse ingestion, audit search, reports (synthetic rows)' },
  { name: 'exports', file: 'exports.bench.js', what: 'S3 Parquet and Splunk HEC delivery vs raw ClickHouse reads' },
  { name: 'http', file: 'http.bench.js', what: 'commands over HTTP with autocannon on loopback' },
  { name: 'compliance-source', file: 'compliance-source.bench.js', what: 'Compliance API backfill from the fake server on loopback vs the feed paged alone' },
  {
    name: 'sources-server',
    file: 'sources-server.bench.js',
    what: 'a Compliance API backfill in the server (LEDGER_SOURCES_FILE): /health and event-loop delay meanwhile vs the idle server',
  },
  {
    name: 'console',
    file: 'console.bench.js',
    what: "the web console in Chromium: member-at-date page (full load, in-console navigation) vs the page's own API calls alone (browser, Node) and an empty page",
  },
  { name: 'backdated-import', file: 'backdated-import.bench.js', what: 'back-dated NDJSON import vs the same lines in order, /health probed throughout' },
  { name: 'groups', file: 'groups.bench.js', what: "an organization's groups and one group (discovery) vs its member listing and holders, in memory" },
  { name: 'proofs', file: 'proofs.bench.js', what: 'Merkle tree build, inclusion/consistency proofs, append with tree + checkpoints on vs off' },
] as const;

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !BENCHES.some((b) => b.name === w));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${BENCHES.map((b) => b.name).join(', ')}\n`);
  process.exit(2);
}
let failed = 0;
for (const bench of BENCHES) {
  if (wanted.length > 0 && !wanted.includes(bench.name)) continue;
  process.stdout.write(`\n=== ${bench.name}: ${bench.what}\n`);
  const started = Date.now();
  const run = spawnSync(process.execPath, ['--expose-gc', join(here, bench.file)], { stdio: 'inherit', env: process.env });
  process.stdout.write(
    `=== ${bench.name}: ${run.status === 0 ? 'done' : `FAILED (exit ${run.status ?? run.signal})`} in ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
  );
  if (run.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
