import { describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * The boundaries between libraries, checked on every import of every TypeScript file the repository tracks:
 * a library is reached by its package name (`@access-ledger/<lib>`, which resolves to its `src/index.ts`) and never
 * by a path into its folder; libraries never reach into an app; the libraries depend on each other without a cycle.
 */
const root = resolve(import.meta.dirname, '..');
const files = execFileSync('git', ['ls-files', '*.ts'], { cwd: root, encoding: 'utf8' })
  .split('\n')
  .filter((f) => f !== '' && (f.startsWith('apps/') || f.startsWith('libs/') || f.startsWith('test/') || f.startsWith('bench/')));
const libs = readdirSync(join(root, 'libs')).filter((d) => existsSync(join(root, 'libs', d, 'src', 'index.ts')));

const SPECIFIER = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)|^import\s+'([^']+)'/gm;

interface Import {
  readonly file: string;
  readonly specifier: string;
}

function importsOf(file: string): Import[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(SPECIFIER)].map((m) => ({ file, specifier: (m[1] ?? m[2] ?? m[3])! }));
}

/** `libs/<lib>/…` → lib, `apps/<app>/…` → `app:<app>`, anything else → undefined. */
function packageOf(path: string): string | undefined {
  const [top, name] = relative(root, path).split(sep);
  if (top === 'libs') return name;
  if (top === 'apps') return `app:${name}`;
  return undefined;
}

const allImports = files.flatMap(importsOf);

describe('architecture: libraries are reached by name only', () => {
  test('every library is a workspace package named after its folder, exporting only its index', () => {
    for (const lib of libs) {
      const pkg = JSON.parse(readFileSync(join(root, 'libs', lib, 'package.json'), 'utf8')) as { name: string; exports: Record<string, unknown> };
      expect(pkg.name).toBe(`@access-ledger/${lib}`);
      expect(Object.keys(pkg.exports)).toEqual(['.']);
      expect(pkg.exports['.']).toEqual({ types: './src/index.ts', default: './build/index.js' });
    }
  });

  test('no relative import reaches into another library, and no library into an app', () => {
    const isTestCode = (file: string) => file.startsWith('test/') || file.startsWith('bench/') || file.includes('/test/');
    const crossing = allImports
      .filter(({ specifier }) => specifier.startsWith('.'))
      .filter(({ file, specifier }) => {
        const targetPath = relative(root, resolve(dirname(join(root, file)), specifier));
        const target = packageOf(join(root, targetPath));
        const from = packageOf(join(root, file));
        if (target === undefined || target === from) return false;
        if (target.startsWith('app:')) return from !== undefined && !from.startsWith('app:');
        // Test code may share another library's test fixtures (generated histories); never its sources.
        return !(isTestCode(file) && targetPath.split(sep)[2] === 'test');
      })
      .map(({ file, specifier }) => `${file}: ${specifier}`);
    expect(crossing).toEqual([]);
  });

  test('package imports name a library and nothing inside it', () => {
    const bad = allImports
      .filter(({ specifier }) => specifier.startsWith('@access-ledger/'))
      .filter(({ specifier }) => !libs.includes(specifier.slice('@access-ledger/'.length)))
      .map(({ file, specifier }) => `${file}: ${specifier}`);
    expect(bad).toEqual([]);
  });

  test('the sources of a library never import it by name, and the libraries depend on each other without a cycle', () => {
    const edges = new Map<string, Set<string>>(libs.map((l) => [l, new Set<string>()]));
    for (const { file, specifier } of allImports) {
      const from = packageOf(join(root, file));
      if (from === undefined || from.startsWith('app:') || !specifier.startsWith('@access-ledger/')) continue;
      const to = specifier.slice('@access-ledger/'.length);
      // Its own tests may use the public face; its sources use relative paths.
      if (!file.includes('/src/')) continue;
      expect(`${file} → ${to}`).not.toBe(`${file} → ${from}`);
      edges.get(from)!.add(to);
    }
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (lib: string, path: string[]): void => {
      if (state.get(lib) === 'done') return;
      if (state.get(lib) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(lib)), lib].join(' → '));
        return;
      }
      state.set(lib, 'visiting');
      for (const next of edges.get(lib) ?? []) visit(next, [...path, lib]);
      state.set(lib, 'done');
    };
    for (const lib of libs) visit(lib, []);
    expect(cycles).toEqual([]);
  });

  test('the pure access model imports nothing but zod', () => {
    const outside = allImports
      .filter(({ file }) => file.startsWith('libs/access-model/src/'))
      .filter(({ specifier }) => !specifier.startsWith('.') && specifier !== 'zod')
      .map(({ file, specifier }) => `${file}: ${specifier}`);
    expect(outside).toEqual([]);
  });
});

/** The files of an app another app may import: its light public face and, loaded on use, its server. */
const APP_ENTRIES = ['index.ts', 'server.ts'];

describe('architecture: apps and configuration', () => {
  test('an app reaches another app only through its src/index.ts or src/server.ts', () => {
    const bad = allImports
      .filter(({ file, specifier }) => file.startsWith('apps/') && file.includes('/src/') && specifier.startsWith('.'))
      .filter(({ file, specifier }) => {
        const target = relative(root, resolve(dirname(join(root, file)), specifier)).replace(/\.js$/, '.ts');
        const [top, app, src, ...rest] = target.split(sep);
        if (top !== 'apps' || app === file.split('/')[1]) return false;
        return !(src === 'src' && rest.length === 1 && APP_ENTRIES.includes(rest[0]!));
      })
      .map(({ file, specifier }) => `${file}: ${specifier}`);
    expect(bad).toEqual([]);
  });

  test('only the config library reads process.env in the sources of the libraries and apps', () => {
    const readers = files
      .filter((f) => /^(libs|apps)\/[^/]+\/src\//.test(f) && !f.endsWith('.spec.ts'))
      .filter((f) => /process\.env\b/.test(readFileSync(join(root, f), 'utf8')))
      .filter((f) => f !== 'libs/config/src/config.ts');
    expect(readers).toEqual([]);
  });

  test('the config library imports nothing but zod and Node', () => {
    const outside = allImports
      .filter(({ file }) => file.startsWith('libs/config/src/'))
      .filter(({ specifier }) => !specifier.startsWith('.') && specifier !== 'zod' && !specifier.startsWith('node:'))
      .map(({ file, specifier }) => `${file}: ${specifier}`);
    expect(outside).toEqual([]);
  });
});
