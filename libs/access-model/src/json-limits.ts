/**
 * Limits on one event's JSON at the edge: a command body or an import line nesting thousands of
 * arrays was accepted, then no projection could take it (the ClickHouse insert failed on it forever). Both limits
 * are far above anything the catalog produces (its deepest event, AccessChangeDenied, nests 6 levels; its largest,
 * ConnectorAdded with 500 tools of 128 characters, ≈ 66 KB).
 */
export const MAX_JSON_DEPTH = 32;
export const MAX_EVENT_BYTES = 256 * 1024;

/**
 * The deepest nesting of arrays and objects in a JSON text, scanning at most until `limit` is passed (then
 * `limit + 1`). Iterative, so a text nested a million levels deep costs one pass and no stack; it runs before
 * JSON.parse, whose recursion is what such a text attacks. Brackets inside strings are not nesting.
 */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/** Why a JSON text is refused as one event, naming the limit; undefined when it is within both. */
export function eventJsonProblem(text: string, bytes = utf8Length(text)): string | undefined {
  if (bytes > MAX_EVENT_BYTES) return `is ${bytes} bytes; one event may have at most ${MAX_EVENT_BYTES} bytes (${MAX_EVENT_BYTES / 1024} KiB)`;
  if (jsonDepth(text) > MAX_JSON_DEPTH) return `nests arrays/objects more than ${MAX_JSON_DEPTH} levels deep; at most ${MAX_JSON_DEPTH} are allowed`;
  return undefined;
}

/** UTF-8 length without allocating (this library uses no Node API): a surrogate half counts 2, a pair 4. */
function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) bytes += c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 1 : 2;
  }
  return bytes;
}
