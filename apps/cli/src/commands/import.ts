import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { FieldError } from '@access-ledger/ledger';
import type { OpenedLedger } from '../ledger-on-disk.js';
import { CliError, configOf } from '../program.js';
import { progressOnStderr, type Progress } from '../progress.js';

export interface ImportReport {
  readonly appended: number;
  readonly skipped: number;
  readonly lines: number;
  /** Present when a batch failed: its errors with line numbers of the file; earlier batches stayed stored. */
  readonly errors?: readonly FieldError[];
  /** Why that batch was refused: lines failing the schema, or references to things that do not exist. */
  readonly refusal?: 'invalid' | 'unknown-reference';
}

/**
 * Imports an NDJSON file in batches through `Ledger.importEvents`. Each batch is all-or-nothing; a failing
 * batch stops the import. Ids already stored are skipped, so running the same file again after a fix
 * resumes where it stopped.
 */
export async function importFile(ledger: OpenedLedger, tenantId: string, file: string, batchSize: number, progress?: Progress): Promise<ImportReport> {
  const input = createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let batch: string[] = [];
  let batchFirstLine = 1;
  let lineNo = 0;
  let bytes = 0;
  let appended = 0;
  let skipped = 0;
  const flush = async (): Promise<ImportReport | undefined> => {
    if (batch.length === 0) return undefined;
    const outcome = await ledger.importEvents(tenantId, batch.join('\n'));
    if (outcome.kind !== 'imported') {
      const offset = batchFirstLine - 1;
      const errors = outcome.errors.map((e) => ({ ...e, path: e.path.replace(/^line (\d+)/, (_m, n: string) => `line ${Number(n) + offset}`) }));
      return { appended, skipped, lines: lineNo, errors, refusal: outcome.kind };
    }
    appended += outcome.appended;
    skipped += outcome.skipped;
    batch = [];
    batchFirstLine = lineNo + 1;
    progress?.update(bytes, `${lineNo} lines, ${appended} appended, ${skipped} skipped`);
    return undefined;
  };
  try {
    for await (const line of lines) {
      lineNo++;
      bytes += Buffer.byteLength(line) + 1;
      batch.push(line); // blank lines too, so the Ledger's line numbers map back to the file's
      if (batch.length >= batchSize) {
        const failed = await flush();
        if (failed) return failed;
      }
    }
    return (await flush()) ?? { appended, skipped, lines: lineNo };
  } finally {
    lines.close();
    input.destroy();
  }
}

export function registerImport(program: Command): void {
  program
    .command('import')
    .description(
      'Import facts recorded elsewhere from an NDJSON file (one event a line, as POST /v1/tenants/{t}/events:import takes them), directly into the data directory. Each batch is all-or-nothing; a failing line stops the import with errors by line number; already stored ids are skipped, so a re-run resumes.',
    )
    .argument('<file>', 'NDJSON file')
    .requiredOption('-t, --tenant <tenant>', 'tenant to import into')
    .option('-b, --batch <lines>', 'lines per batch', '5000')
    .option('--json', 'print the report as JSON', false)
    .addHelpText('after', '\nExample:\n  $ ledger --data-dir ./data import console-export.ndjson --tenant acme --batch 5000\n')
    .action(async (file: string, options: { tenant: string; batch: string; json: boolean }, command: Command) => {
      const batchSize = Number(options.batch);
      if (!Number.isInteger(batchSize) || batchSize < 1) throw new CliError(`--batch must be a positive integer, got ${options.batch}`);
      let size: number;
      try {
        size = statSync(file).size;
      } catch {
        throw new CliError(`cannot read ${file}`);
      }
      const { withLedger } = await import('../ledger-on-disk.js'); // loaded on use, like every store
      const started = performance.now();
      const progress = progressOnStderr('import', size, 'bytes');
      const report = await withLedger(configOf(command), (ledger) => importFile(ledger, options.tenant, file, batchSize, progress)).finally(() =>
        progress.stop(),
      );
      const seconds = (performance.now() - started) / 1000;
      if (options.json) process.stdout.write(`${JSON.stringify(report)}\n`);
      else process.stdout.write(`appended ${report.appended}, skipped ${report.skipped} (${report.lines} lines read in ${seconds.toFixed(1)} s)\n`);
      if (report.errors) {
        const shown = report.errors.slice(0, 100);
        for (const e of shown) process.stderr.write(`${e.path}: ${e.message}\n`);
        if (report.errors.length > shown.length) process.stderr.write(`… and ${report.errors.length - shown.length} more errors\n`);
        throw new CliError(
          `import stopped: the batch with these lines was not stored (${report.refusal === 'unknown-reference' ? 'references to unknown things' : 'invalid lines'}); earlier batches were`,
          2,
        );
      }
    });
}
