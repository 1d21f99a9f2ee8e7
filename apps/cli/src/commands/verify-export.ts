import type { Command } from 'commander';
import { CliError } from '../program.js';

export function registerVerifyExport(program: Command): void {
  program
    .command('verify-export')
    .description(
      "Verify an S3 export prefix: walk each tenant's manifest and digest chain, re-hash every listed object, and name what is missing, altered or unlisted. " +
        'Prints one line per tenant, one "FAIL <kind> <key>: …" line per problem, then OK or FAILED. Needs no data directory. ' +
        'Exit codes: 0 verified, 1 problems found, 2 configuration refused.',
    )
    .argument('<s3uri>', 's3://bucket/prefix')
    .option('--endpoint <url>', 'S3-compatible endpoint (MinIO, Ceph, s3rver); implies --path-style')
    .option('--path-style', 'path-style addressing (endpoint/bucket/key)')
    .option('--region <region>', 'region', 'us-east-1')
    .option(
      '--expect-head <tenant=digest>',
      'the newest digest you kept elsewhere for a tenant (repeatable): catches deleted newest exports',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ ledger verify-export s3://audit-archive/ledger\n  $ ledger verify-export s3://audit-archive/ledger --expect-head demo=3f2a…\n',
    )
    .action(async (uri: string, o: { endpoint?: string; pathStyle?: boolean; region: string; expectHead: string[] }) => {
      const expectHead: Record<string, string> = {};
      for (const pair of o.expectHead) {
        const eq = pair.indexOf('=');
        if (eq <= 0) throw new CliError(`--expect-head ${pair}: expected tenant=digest`, 2);
        expectHead[pair.slice(0, eq)] = pair.slice(eq + 1);
      }
      const { verifyExportCommand } = await import('@access-ledger/exports');
      process.exitCode = await verifyExportCommand(uri, {
        region: o.region,
        ...(o.endpoint ? { endpoint: o.endpoint } : {}),
        ...(o.pathStyle !== undefined ? { pathStyle: o.pathStyle } : {}),
        ...(o.expectHead.length > 0 ? { expectHead } : {}),
      });
    });
}
