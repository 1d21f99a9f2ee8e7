/**
 * The demo server of bench/console.bench.ts, in a process of its own: the benchmark's own event loop (Playwright's
 * end of the browser's DevTools connection, the Node baseline's client) then takes nothing from the server's. Prints
 * `{"url":…,"key":…}` as one line once it serves; when its standard input ends, closes and removes its data.
 */
import { rmSync } from 'node:fs';
import { startDemoServer } from '../test/support/console-browser.js';

const demo = await startDemoServer();
process.stdout.write(`${JSON.stringify({ url: demo.server.url, key: demo.key })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void demo.server.close().finally(() => {
    rmSync(demo.dataDir, { recursive: true, force: true });
    process.exit(0);
  });
});
