import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { demoHistory, estimateCommands } from '../src/index.js';
import { commandProblems, ImportLineShape } from './http-api-shapes.js';

/** The compiled generator CLI (`npm run build` first; `npm test` does) run as a child process with Node 24. */
const root = resolve(import.meta.dirname, '../../..');
const node = join(root, 'node_modules/.bin/node');
const cli = join(root, 'dist/libs/history/src/generate-cli.js');
let dir: string;

function run(...args: string[]) {
  const r = spawnSync(node, [cli, ...args], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
  dir = mkdtempSync(join(tmpdir(), 'history-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('history-generate (compiled CLI)', () => {
  const args = ['--seed', '5', '--users', '120', '--groups', '10', '--years', '0.25'];

  it('writes NDJSON: every command line a valid body, import lines marked with their batch, refused ones marked', () => {
    const out = run(...args);
    expect(out.status).toBe(0);
    const lines = out.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, any>);
    const commands = lines.filter((l) => l.kind === 'command');
    const imports = lines.filter((l) => l.kind === 'import');
    expect(commands.length + imports.length).toBe(lines.length);
    expect(commands.length).toBe(estimateCommands({ ...demoHistory, seed: 5, users: 120, groups: 10, years: 0.25 }));
    expect(commands.filter((c) => commandProblems(c.command).length > 0)).toEqual([]);
    expect(commands.some((c) => c.refused === true)).toBe(true);
    expect(imports.length).toBeGreaterThan(0);
    for (const i of imports) {
      expect(typeof i.batch).toBe('number');
      expect(ImportLineShape.safeParse(i.line).success).toBe(true);
    }
    expect(out.stderr).toMatch(/commands .*refused attempts.*late import batches/);
  });

  it('is byte-identical for the same seed, to stdout or to --out', () => {
    const a = run(...args).stdout;
    const file = join(dir, 'h.ndjson');
    expect(run(...args, '--out', file).status).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(a);
    expect(run(...args.slice(2), '--seed', '6').stdout).not.toBe(a);
  });

  it('documents its flags and rejects bad ones', () => {
    const help = run('--help');
    expect(help.status).toBe(0);
    for (const flag of ['--seed', '--users', '--orgs', '--groups', '--roles', '--connectors', '--tools', '--years', '--start', '--preset', '--out'])
      expect(help.stdout).toContain(flag);
    const bad = run('--preset', 'huge');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/demo or benchmark/);
    const tooSmall = run('--users', '5');
    expect(tooSmall.status).toBe(2);
    expect(tooSmall.stderr).toMatch(/users/);
  });
});
