/**
 * CSV for `ledger report … --format csv` and `?format=csv` (RFC 4180: CRLF, quotes doubled). Nested values
 * (arrays, objects) become JSON text in their cell. A cell starting with = + - @ is prefixed with ' so a
 * spreadsheet never evaluates a user-controlled id as a formula.
 */
export function toCsv(rows: readonly Record<string, unknown>[], columns?: readonly string[]): string {
  const header = columns ?? [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const lines = [header.map(cell).join(',')];
  for (const row of rows) lines.push(header.map((column) => cell(row[column])).join(','));
  return lines.join('\r\n') + '\r\n';
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(text) && typeof value === 'string') text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The header line of `toCsv` for these columns. */
export function csvHeader(columns: readonly string[]): string {
  return `${columns.map(cell).join(',')}\r\n`;
}

/**
 * For a CSV written by ClickHouse (`FORMAT TabSeparatedRaw` of this one column): a SQL expression that is one line
 * of `toCsv`'s output without its LF (which the format adds after the CR): each `text` cell guarded against formulas
 * as `cell` does, then quoted when it holds a quote, comma or line break. `sql` is trusted SQL over the row's
 * columns, never a value from a request (those are parameters).
 */
export function csvLineSql(cells: readonly { readonly sql: string; readonly text?: boolean }[]): string {
  const quoted = (value: string) => `if(match(${value}, '[",\\r\\n]'), concat('"', replaceAll(${value}, '"', '""'), '"'), ${value})`;
  const guarded = (value: string) => `if(match(${value}, '^[=+@\\t\\r-]'), concat('''', ${value}), ${value})`;
  const parts = cells.map((c) => quoted(c.text ? guarded(`toString(${c.sql})`) : `toString(${c.sql})`));
  return `concat(${parts.join(", ',', ")}, '\\r')`;
}

/** SQL for a DateTime64(3, 'UTC') column as the API writes instants: 2026-02-16T09:13:52.571Z. */
export function isoInstantSql(column: string): string {
  return `concat(replaceOne(toString(${column}), ' ', 'T'), 'Z')`;
}
