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
 * not navigated since it loaded, from the start of the page load (0); then `console:<page>:painted`, from the same
 * start to the first task after the next frame (the browser's style, layout and paint of that DOM done). Only the
 * latest measures of a page are kept, so a long session does not pile entries up.
 */
export function markRendered(page: string, detail: Record<string, string>): void {
  const name = `console:${page}`;
  const navigated = performance.getEntriesByName(NAVIGATED, 'mark').at(-1);
  const measure = (as: string) => {
    performance.clearMeasures(as);
    performance.measure(as, { start: navigated?.startTime ?? 0, end: performance.now(), detail: { ...detail, from: navigated ? 'navigation' : 'load' } });
  };
  measure(name);
  requestAnimationFrame(() => {
    const next = new MessageChannel();
    next.port1.onmessage = () => measure(`${name}:painted`);
    next.port2.postMessage(undefined);
  });
}
