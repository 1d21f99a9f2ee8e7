import type { Command } from 'commander';
import type { LedgerConfig } from '@access-ledger/config';
import { CliError, configOf } from '../program.js';

/**
 * `ledger export s3|splunk`: a one-shot export of a tenant's audit trail from the read model in --data-dir (the
 * library's `exportS3Command` / `exportSplunkCommand`). Like `ledger report`, it opens the data directory's chDB, so
 * the server must not be running on it; a running server exports through `POST /v1/tenants/{t}/exports`.
 */
async function onReadModel(config: LedgerConfig, work: (table: import('@access-ledger/exports').ClickHouseAuditTable) => Promise<number>): Promise<void> {
  const [{ ClickHouseAuditTable }, { withReadModelOnDisk, ReadModelInUseError }] = await Promise.all([
    import('@access-ledger/exports'),
    import('../../../api/src/server.js'),
  ]);
  try {
    process.exitCode = await withReadModelOnDisk(config, (client) => work(new ClickHouseAuditTable(client)));
  } catch (error) {
    if (error instanceof ReadModelInUseError) throw new CliError(error.message, 2);
    throw error;
  }
}

const EXIT_CODES =
  'Exit codes: 0 exported, 1 the export failed, 2 configuration refused (bad options, unknown bucket, refused credentials or token, read model in use).';

export function registerExport(program: Command): void {
  const exportCommand = program
    .command('export')
    .description(
      `Export a tenant's audit trail for a period to S3 (Parquet, JSONL or CSV, with a manifest and chained digest) or to Splunk HEC. Reads the read model in --data-dir (the server must not be running on it; a running server exports through POST /v1/tenants/{t}/exports). ${EXIT_CODES}`,
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ ledger export s3 -t demo --from 2026-01-01T00:00:00.000Z --to 2026-04-01T00:00:00.000Z --uri s3://audit-archive/ledger\n' +
        '  $ ledger export splunk -t demo --from 2026-03-01T00:00:00.000Z --to 2026-03-02T00:00:00.000Z --url https://splunk:8088 --token $HEC_TOKEN --ack\n',
    );

  exportCommand
    .command('s3')
    .description(
      `Export [from, to) to s3://bucket/prefix: one object per UTC day, then a manifest and a digest chained to the previous export (check with \`ledger verify-export\`). Credentials come from the AWS chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, …). ${EXIT_CODES}`,
    )
    .requiredOption('-t, --tenant <tenant>', 'tenant')
    .requiredOption('--from <instant>', 'start, inclusive (an instant: 2026-03-01, …T09:00:00Z or …+02:00)')
    .requiredOption('--to <instant>', 'end, exclusive (an instant: 2026-03-01, …T09:00:00Z or …+02:00)')
    .requiredOption('--uri <s3uri>', 's3://bucket/prefix')
    .option('--format <format>', 'parquet, jsonl or csv', 'parquet')
    .option('--endpoint <url>', 'S3-compatible endpoint (MinIO, Ceph, s3rver); implies --path-style')
    .option('--path-style', 'path-style addressing (endpoint/bucket/key)')
    .option('--region <region>', 'region', 'us-east-1')
    .option('--writer <writer>', 'clickhouse (ClickHouse writes the objects) or upload (Node uploads them)', 'clickhouse')
    .addHelpText(
      'after',
      '\nExample:\n  $ ledger export s3 -t demo --from 2026-01-01T00:00:00.000Z --to 2026-04-01T00:00:00.000Z --uri s3://audit-archive/ledger\n',
    )
    .action(
      async (
        o: { tenant: string; from: string; to: string; uri: string; format: string; endpoint?: string; pathStyle?: boolean; region: string; writer: string },
        command: Command,
      ) => {
        const { exportS3Command } = await import('@access-ledger/exports');
        await onReadModel(configOf(command), (table) =>
          exportS3Command(table, {
            tenant: o.tenant,
            from: o.from,
            to: o.to,
            uri: o.uri,
            format: o.format as 'parquet',
            region: o.region,
            writer: o.writer as 'clickhouse',
            ...(o.endpoint ? { endpoint: o.endpoint } : {}),
            ...(o.pathStyle !== undefined ? { pathStyle: o.pathStyle } : {}),
          }),
        );
      },
    );

  exportCommand
    .command('splunk')
    .description(
      `Send [from, to) to a Splunk HTTP Event Collector (gzip, retries with backoff, optional indexer acknowledgement; events Splunk refuses go to a dead-letter file). At least once: deduplicate by event_id. ${EXIT_CODES}`,
    )
    .requiredOption('-t, --tenant <tenant>', 'tenant')
    .requiredOption('--from <instant>', 'start, inclusive (an instant: 2026-03-01, …T09:00:00Z or …+02:00)')
    .requiredOption('--to <instant>', 'end, exclusive (an instant: 2026-03-01, …T09:00:00Z or …+02:00)')
    .requiredOption('--url <url>', 'HEC base URL, e.g. https://splunk:8088')
    .option('--token <token>', 'HEC token (env SPLUNK_HEC_TOKEN; one of the two is required)')
    .option('--index <index>', "index (the token's default when omitted)")
    .option('--source <source>', 'source', 'access-ledger')
    .option('--sourcetype <sourcetype>', 'sourcetype', 'access-ledger:audit')
    .option('--ack', 'wait for indexer acknowledgement (must be enabled on the token)')
    .option('--dead-letter <file>', 'NDJSON file for events Splunk refuses (default ./splunk-dead-letter-<time>.ndjson)')
    .addHelpText(
      'after',
      '\nExample:\n  $ ledger export splunk -t demo --from 2026-03-01T00:00:00.000Z --to 2026-03-02T00:00:00.000Z --url https://splunk:8088 --token $HEC_TOKEN --ack\n',
    )
    .action(
      async (
        o: {
          tenant: string;
          from: string;
          to: string;
          url: string;
          token?: string;
          index?: string;
          source: string;
          sourcetype: string;
          ack?: boolean;
          deadLetter?: string;
        },
        command: Command,
      ) => {
        const config = configOf(command, { SPLUNK_HEC_TOKEN: o.token });
        const token = config.SPLUNK_HEC_TOKEN;
        if (!token) throw new CliError("required option '--token <token>' not specified (nor SPLUNK_HEC_TOKEN)", 1);
        const { exportSplunkCommand } = await import('@access-ledger/exports');
        await onReadModel(config, (table) =>
          exportSplunkCommand(table, {
            tenant: o.tenant,
            from: o.from,
            to: o.to,
            url: o.url,
            token,
            source: o.source,
            sourcetype: o.sourcetype,
            ack: o.ack ?? false,
            ...(o.index ? { index: o.index } : {}),
            ...(o.deadLetter ? { deadLetter: o.deadLetter } : {}),
          }),
        );
      },
    );
}
