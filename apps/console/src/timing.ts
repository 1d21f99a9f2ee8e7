// User Timing entries (performance.mark/measure) for the pages' answers on screen: the benchmark reads them
// (bench/console.bench.ts), and so can anyone with the browser's performance panel, instead of polling the DOM from
// outside.

const NAVIGATED = 'console:navigated';

/** A hash navigation starts; the next page rendered is measured from here. */
export function markNavigation(): void {
  performance.clearMarks(NAVIGATED);
  performance.mark(NAVIGATED);
}

/**
 * The page's answer is in the DOM: measures `console:<page>` from the last hash navigation or, when the console has
 * not navigated since it loaded, from the start of the page load (0). Only the latest measure of a page is kept, so a
 * long session does not pile entries up.
 */
export function markRendered(page: string, detail: Record<string, string>): void {
  const name = `console:${page}`;
  const navigated = performance.getEntriesByName(NAVIGATED, 'mark').at(-1);
  performance.clearMeasures(name);
  performance.measure(name, { start: navigated?.startTime ?? 0, end: performance.now(), detail: { ...detail, from: navigated ? 'navigation' : 'load' } });
}
