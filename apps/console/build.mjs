// Bundles the web console (docs/console.md) into dist/console: index.html, app.js (Preact and the pages, minified)
// and app.css. `npm run build` runs it after tsc; the server reads the three files at start (apps/api/src/console).
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));

/** Builds into `outdir` (default `<repository>/dist/console`); answers each file's size, raw and gzipped, in bytes. */
export async function buildConsole(outdir = resolve(here, '../../dist/console')) {
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints: [join(here, 'src/main.tsx')],
    outfile: join(outdir, 'app.js'),
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'warning',
  });
  await build({ entryPoints: [join(here, 'src/app.css')], outfile: join(outdir, 'app.css'), bundle: true, minify: true, logLevel: 'warning' });
  copyFileSync(join(here, 'src/index.html'), join(outdir, 'index.html'));
  const sizes = {};
  for (const name of ['index.html', 'app.js', 'app.css']) {
    const file = join(outdir, name);
    sizes[name] = { bytes: statSync(file).size, gzip: gzipSync(readFileSync(file)).length };
  }
  return sizes;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const sizes = await buildConsole(process.argv[2]);
  const total = Object.values(sizes).reduce((n, s) => n + s.gzip, 0);
  process.stdout.write(
    `console: ${Object.entries(sizes)
      .map(([name, s]) => `${name} ${(s.bytes / 1024).toFixed(1)} KiB (${(s.gzip / 1024).toFixed(1)} KiB gzip)`)
      .join(', ')}; ${(total / 1024).toFixed(1)} KiB gzip in all\n`,
  );
}
