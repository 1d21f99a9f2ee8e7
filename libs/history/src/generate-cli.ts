/**
 * history-generate: writes a generated history as NDJSON (docs/history.md).
 *
 *   node dist/libs/history/src/generate-cli.js --preset demo --seed 7 --out history.ndjson
 *
 * One line per command, `{"kind":"command","command":{…}}` (plus `"refused":true` for a deliberate refused attempt),
 * and one line per late import fact, `{"kind":"import","batch":n,"line":{…}}`, in the order the generator yields
 * them. `--measure` generates without writing and reports the rate.
 */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { Command, InvalidArgumentError } from 'commander';
import { generateHistory } from './generate-history.js';
import { benchmarkHistory, demoHistory, estimateCommands, type HistoryOptions } from './options.js';

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number ≥ 0');
  return n;
}

function positive(value: string): number {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError('must be a number > 0');
  return n;
}

interface CliOptions {
  preset: 'demo' | 'benchmark';
  seed?: number;
  users?: number;
  orgs?: number;
  groups?: number;
  roles?: number;
  connectors?: number;
  tools?: number;
  years?: number;
  start?: string;
  lateImports?: number;
  out?: string;
  measure?: boolean;
}

export function optionsFrom(cli: CliOptions): HistoryOptions {
  const base = cli.preset === 'benchmark' ? benchmarkHistory : demoHistory;
  const o: HistoryOptions = { ...base };
  if (cli.seed !== undefined) o.seed = cli.seed;
  if (cli.users !== undefined) o.users = cli.users;
  if (cli.orgs !== undefined) o.orgs = cli.orgs;
  if (cli.groups !== undefined) o.groups = cli.groups;
  if (cli.roles !== undefined) o.customRoles = cli.roles;
  if (cli.connectors !== undefined) o.connectors = cli.connectors;
  if (cli.tools !== undefined) o.toolsPerConnector = cli.tools;
  if (cli.years !== undefined) o.years = cli.years;
  if (cli.start !== undefined) o.start = cli.start;
  if (cli.lateImports !== undefined) o.lateImports = cli.lateImports;
  return o;
}

async function write(out: Writable, chunk: string): Promise<void> {
  if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
}

async function run(cli: CliOptions): Promise<void> {
  const options = optionsFrom(cli);
  const started = performance.now();
  let commands = 0;
  let refused = 0;
  let batches = 0;
  if (cli.measure) {
    for (const item of generateHistory(options)) {
      if (item.kind === 'command') {
        commands++;
        if (item.refused) refused++;
      } else batches++;
    }
  } else {
    const out: Writable = cli.out ? createWriteStream(cli.out) : process.stdout;
    let chunk = '';
    for (const item of generateHistory(options)) {
      if (item.kind === 'command') {
        commands++;
        if (item.refused) refused++;
        chunk += item.refused
          ? `{"kind":"command","refused":true,"command":${JSON.stringify(item.command)}}\n`
          : `{"kind":"command","command":${JSON.stringify(item.command)}}\n`;
      } else {
        for (const line of item.lines) chunk += `{"kind":"import","batch":${batches},"line":${JSON.stringify(line)}}\n`;
        batches++;
      }
      if (chunk.length > 1 << 20) {
        await write(out, chunk);
        chunk = '';
      }
    }
    if (chunk.length > 0) await write(out, chunk);
    if (out !== process.stdout) await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(
    `history: ${commands} commands (${refused} refused attempts, estimate ${estimateCommands(options)}), ${batches} late import batches, ` +
      `${seconds.toFixed(2)} s, ${Math.round(commands / seconds)} commands/s\n`,
  );
}

// `history-generate | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const program = new Command('history-generate')
  .description('Generate a realistic, reproducible enterprise access history as NDJSON (commands and late imports).')
  .option(
    '--preset <name>',
    'size preset: demo (~300 users) or benchmark (~25 000 users, ~2 M commands)',
    (v) => {
      if (v !== 'demo' && v !== 'benchmark') throw new InvalidArgumentError('must be demo or benchmark');
      return v;
    },
    'demo',
  )
  .option('--seed <n>', 'PRNG seed (same seed, same bytes)', integer)
  .option('--users <n>', 'distinct users over the history', integer)
  .option('--orgs <n>', 'child organizations', integer)
  .option('--groups <n>', 'tenant groups created over the history', integer)
  .option('--roles <n>', 'custom roles created over the history (all organizations)', integer)
  .option('--connectors <n>', 'connectors per organization', integer)
  .option('--tools <n>', 'tools per connector when added', integer)
  .option('--years <n>', 'length of the history in years', positive)
  .option('--start <iso>', 'first instant, e.g. 2025-01-01T00:00:00.000Z')
  .option('--late-imports <n>', 'late out-of-order import batches', integer)
  .option('--out <file>', 'write to this file instead of stdout')
  .option('--measure', 'generate without writing and report the rate on stderr')
  .action(async (cli: CliOptions) => {
    try {
      await run(cli);
    } catch (error) {
      process.stderr.write(`history-generate: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 2;
    }
  });

await program.parseAsync(process.argv);
