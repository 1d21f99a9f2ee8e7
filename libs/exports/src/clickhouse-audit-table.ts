import type { ClickHouseClient } from '@clickhouse/client';
import {
  AUDIT_COLUMNS,
  NULLABLE_AUDIT_COLUMNS,
  type AuditRange,
  type AuditRangeReader,
  type AuditRow,
  type AuditRowSource,
  type DaySlice,
  type PageQuery,
  type RangePageQuery,
} from './audit-row.js';
import type { ExportFormat } from './config.js';
import { envelopeJson, type EncodedEvent, type HecEnvelope } from './hec/hec-event.js';

/** ClickHouse output format per export format. */
const CLICKHOUSE_FORMAT: Record<ExportFormat, string> = { parquet: 'Parquet', jsonl: 'JSONEachRow', csv: 'CSVWithNames' };

/**
 * Same text for JSONL/CSV whichever server renders it: ISO instants, numbers as numbers; a NULL in CSV is an unquoted
 * empty field (strings are always quoted, so `""` stays an empty string), which DuckDB, pandas and PostgreSQL read as NULL.
 */
const RENDER_SETTINGS = {
  date_time_output_format: 'iso',
  output_format_json_quote_64bit_integers: 0,
  output_format_parquet_compression_method: 'zstd',
  format_csv_null_representation: '',
} as const;

/** The columns as exported: '' → NULL in the nullable ones (`NULLABLE_AUDIT_COLUMNS`), under their own names. */
const EXPORTED_COLUMNS = AUDIT_COLUMNS.map((c) => (NULLABLE_AUDIT_COLUMNS.includes(c) ? `nullIf(${c}, '') AS ${c}` : c)).join(', ');

const RANGE_WHERE =
  "tenant_id = {tenantId:String} AND occurred_at >= {from:DateTime64(3, 'UTC')} AND occurred_at < {to:DateTime64(3, 'UTC')} AND position <= {upTo:UInt64} AND position > {after:Int64}";

export interface S3Target {
  /** Object URL; with `{_partition_id}` where the per-day object name goes. */
  readonly url: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/**
 * The ClickHouse adapter of the audit trail: reads pages for streaming sinks, plans day slices, and
 * renders a slice as a file — either straight into S3 with the `s3` table function or as bytes for
 * an upload. Every value goes in as a server-side parameter, never spliced into SQL.
 */
export class ClickHouseAuditTable implements AuditRowSource, AuditRangeReader {
  constructor(
    private readonly client: ClickHouseClient,
    /** Qualified table name; an identifier from configuration, never from a request. */
    private readonly table = 'audit_events',
  ) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(table)) throw new Error(`invalid table name ${table}`);
  }

  async headPosition(tenantId: string): Promise<number> {
    const rows = await this.json<{ head: string | number; n: string | number }>(
      `SELECT max(position) AS head, count() AS n FROM ${this.table} WHERE tenant_id = {tenantId:String}`,
      { tenantId },
    );
    return Number(rows[0]?.n ?? 0) === 0 ? -1 : Number(rows[0]!.head);
  }

  async planDays(range: AuditRange): Promise<DaySlice[]> {
    const rows = await this.json<{ day: string; rows: string | number; minp: string | number; maxp: string | number }>(
      `SELECT toString(toDate(occurred_at, 'UTC')) AS day, count() AS rows, min(position) AS minp, max(position) AS maxp
       FROM ${this.table} WHERE ${RANGE_WHERE} GROUP BY day ORDER BY day`,
      rangeParams(range),
    );
    return rows.map((r) => ({ day: r.day, rows: Number(r.rows), minPosition: Number(r.minp), maxPosition: Number(r.maxp) }));
  }

  /** Rows in the range, counted the same way as `readPage` and the rendered files — the raw read baseline. */
  async countRange(range: AuditRange): Promise<number> {
    const rows = await this.json<{ n: string | number }>(`SELECT count() AS n FROM ${this.table} WHERE ${RANGE_WHERE}`, rangeParams(range));
    return Number(rows[0]?.n ?? 0);
  }

  async readPage(q: PageQuery): Promise<AuditRow[]> {
    const conditions = ['tenant_id = {tenantId:String}', 'position > {after:Int64}'];
    const params: Record<string, unknown> = { tenantId: q.tenantId, after: q.afterPosition, limit: q.limit };
    if (q.upToPosition !== undefined) {
      conditions.push('position <= {upTo:UInt64}');
      params['upTo'] = q.upToPosition;
    }
    if (q.from !== undefined) {
      conditions.push("occurred_at >= {from:DateTime64(3, 'UTC')}");
      params['from'] = chInstant(q.from);
    }
    if (q.to !== undefined) {
      conditions.push("occurred_at < {to:DateTime64(3, 'UTC')}");
      params['to'] = chInstant(q.to);
    }
    const rows = await this.json<Record<string, unknown>>(
      `SELECT ${AUDIT_COLUMNS.join(', ')} FROM ${this.table} WHERE ${conditions.join(' AND ')} ORDER BY position LIMIT {limit:UInt32}`,
      params,
      RENDER_SETTINGS,
    );
    return rows.map(toAuditRow);
  }

  /**
   * A page of a time range in (occurredAt, position) order, after a cursor: a primary-key range
   * (ORDER BY tenant_id, occurred_at, position), so each page costs the same however deep it is.
   */
  async readRangePage(q: RangePageQuery): Promise<AuditRow[]> {
    const after = q.after
      ? ` AND occurred_at >= {afterAt:DateTime64(3, 'UTC')} AND (occurred_at > {afterAt:DateTime64(3, 'UTC')} OR position > {afterPos:Int64})`
      : '';
    const rows = await this.json<Record<string, unknown>>(
      `SELECT ${AUDIT_COLUMNS.join(', ')} FROM ${this.table} WHERE ${RANGE_WHERE}${after} ORDER BY occurred_at, position LIMIT {limit:UInt32}`,
      {
        ...rangeParams({ tenantId: q.tenantId, from: q.from, to: q.to, upToPosition: q.upToPosition }),
        limit: q.limit,
        ...(q.after ? { afterAt: chInstant(q.after.occurredAt), afterPos: q.after.position } : {}),
      },
      RENDER_SETTINGS,
    );
    return rows.map(toAuditRow);
  }

  /**
   * The same page as `readRangePage`, already encoded as HEC event lines by ClickHouse (the row as
   * `event`, its JSON payload embedded as an object, `time` from occurred_at): the delivery then sends
   * the lines as they are, with no JSON parse or stringify per row in Node. Same event as `toHecEvent`.
   */
  async readRangeEncoded(q: RangePageQuery, envelope: HecEnvelope): Promise<EncodedEvent[]> {
    const eventColumns = AUDIT_COLUMNS.filter((c) => c !== 'payload')
      .map((c) => (NULLABLE_AUDIT_COLUMNS.includes(c) ? `nullIf(${c}, '') AS ${c}` : c))
      .join(', ');
    const after = q.after
      ? ` AND occurred_at >= {afterAt:DateTime64(3, 'UTC')} AND (occurred_at > {afterAt:DateTime64(3, 'UTC')} OR position > {afterPos:Int64})`
      : '';
    // `{"time":…,<envelope>,"event":{…row…,"payload":<payload>}}` — the envelope (host, source,
    // sourcetype, index) is JSON made in Node and passed as a parameter.
    const rs = await this.client.query({
      query: `SELECT event_id, position, occurred_at,
                concat('{"time":', toString(toUnixTimestamp64Milli(occurred_at) / 1000), {envelope:String}, ',"event":',
                       substring(formatRowNoNewline('JSONEachRow', ${eventColumns}) AS row, 1, length(row) - 1),
                       ',"payload":', if(isValidJSON(payload), payload, toJSONString(payload)), '}}') AS line
              FROM ${this.table} WHERE ${RANGE_WHERE}${after} ORDER BY occurred_at, position LIMIT {limit:UInt32}`,
      query_params: {
        ...rangeParams({ tenantId: q.tenantId, from: q.from, to: q.to, upToPosition: q.upToPosition }),
        limit: q.limit,
        envelope: envelopeJson(envelope),
        ...(q.after ? { afterAt: chInstant(q.after.occurredAt), afterPos: q.after.position } : {}),
      },
      format: 'TabSeparatedRaw',
      clickhouse_settings: RENDER_SETTINGS as never,
    });
    const text = await rs.text();
    const out: EncodedEvent[] = [];
    // TabSeparatedRaw: the JSON line escapes its own tabs and newlines, so they separate fields and rows.
    for (const record of text.split('\n')) {
      if (record === '') continue;
      const [eventId, position, occurredAt, line] = record.split('\t') as [string, string, string, string];
      out.push({ eventId, position: Number(position), occurredAt: new Date(occurredAt).toISOString(), line, bytes: Buffer.byteLength(line) + 1 });
    }
    return out;
  }

  /**
   * Writes the range's rows for the given UTC days into S3 with ClickHouse's `s3` table function, one
   * object per day, in ONE query: `PARTITION BY` maps each row's day to its object name, substituted
   * for `{_partition_id}` in `target.urlTemplate`. (One query per day costs a fixed ~10–50 ms each; a
   * three-year export has ~1 100 days.) Create-only: an object of the same name makes the query fail
   * (`s3_truncate_on_insert` off), so the caller writes only the names not there yet.
   */
  async writeDaysToS3(range: AuditRange, format: ExportFormat, target: S3Target, objects: readonly { day: string; name: string }[]): Promise<void> {
    const credentials = target.sessionToken === undefined ? '{key:String}, {secret:String}' : '{key:String}, {secret:String}, {token:String}';
    const day = "toString(toDate(occurred_at, 'UTC'))";
    await this.client.command({
      query: `INSERT INTO FUNCTION s3({url:String}, ${credentials}, '${CLICKHOUSE_FORMAT[format]}')
              PARTITION BY transform(${day}, {days:Array(String)}, {names:Array(String)}, '')
              SELECT ${EXPORTED_COLUMNS} FROM ${this.table}
              WHERE ${RANGE_WHERE} AND has({days:Array(String)}, ${day})
              ORDER BY occurred_at, position`,
      query_params: {
        ...rangeParams(range),
        url: target.url,
        days: objects.map((o) => o.day),
        names: objects.map((o) => o.name),
        key: target.accessKeyId,
        secret: target.secretAccessKey,
        ...(target.sessionToken === undefined ? {} : { token: target.sessionToken }),
      },
      // Never replace an object (nor add `.1`): an existing name is an error.
      clickhouse_settings: { ...RENDER_SETTINGS, s3_truncate_on_insert: 0, s3_create_new_file_on_insert: 0 } as never,
    });
  }

  /** Renders one slice as the bytes of a file (for the upload writer). */
  async render(range: AuditRange, format: ExportFormat): Promise<Buffer> {
    const result = await this.client.exec({
      query: `SELECT ${EXPORTED_COLUMNS} FROM ${this.table} WHERE ${RANGE_WHERE} ORDER BY occurred_at, position FORMAT ${CLICKHOUSE_FORMAT[format]}`,
      query_params: rangeParams(range),
      clickhouse_settings: RENDER_SETTINGS as never,
    });
    const chunks: Buffer[] = [];
    for await (const chunk of result.stream) chunks.push(Buffer.from(chunk as Uint8Array));
    return Buffer.concat(chunks);
  }

  private async json<T>(query: string, query_params: Record<string, unknown>, settings?: object): Promise<T[]> {
    const rs = await this.client.query({ query, query_params, format: 'JSONEachRow', ...(settings ? { clickhouse_settings: settings as never } : {}) });
    return rs.json<T>();
  }
}

function rangeParams(range: AuditRange): Record<string, unknown> {
  return { tenantId: range.tenantId, from: chInstant(range.from), to: chInstant(range.to), upTo: range.upToPosition, after: range.afterPosition ?? -1 };
}

/** `2026-03-01T09:00:00.000Z` → `2026-03-01 09:00:00.000` (DateTime64 parameter text, UTC). */
function chInstant(iso: string): string {
  return iso.replace('T', ' ').replace('Z', '');
}

function toAuditRow(r: Record<string, unknown>): AuditRow {
  return {
    ...(r as unknown as AuditRow),
    position: Number(r['position']),
    revision: Number(r['revision']),
    occurred_at: isoInstant(r['occurred_at']),
    recorded_at: isoInstant(r['recorded_at']),
  };
}

function isoInstant(v: unknown): string {
  const s = String(v);
  return new Date(s.endsWith('Z') ? s : `${s.replace(' ', 'T')}Z`).toISOString();
}
