/**
 * Yields to the event loop once a synchronous stretch has run `sliceMs`: parsing and checking an
 * import of 50 000 lines takes about a second, during which /health and every other request would wait.
 */
export function pauser(sliceMs = 10): () => Promise<void> | undefined {
  let since = performance.now();
  return () => {
    if (performance.now() - since < sliceMs) return undefined;
    return new Promise<void>((resume) =>
      setImmediate(() => {
        since = performance.now();
        resume();
      }),
    );
  };
}
