import type { Command } from 'commander';
import { tenantOfStream, tenantStream } from '@access-ledger/event-store';
import type { EventStore } from '@access-ledger/event-store';
import { CliError, configOf } from '../program.js';
import { progressOnStderr } from '../progress.js';

async function tenantsIn(store: EventStore): Promise<string[]> {
  return (await store.streamIds()).map(tenantOfStream).filter((t): t is string => t !== undefined);
}

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description(
      "Walk each tenant's hash chain and report the first event whose hashes do not verify. Exit code 1 when a chain is invalid, the store holds no events, or --tenant names a tenant without events.",
    )
    .option('-t, --tenant <tenant>', 'verify only this tenant (default: every tenant in the store)')
    .option('--json', 'print one JSON line per tenant', false)
    .option(
      '--against <checkpoint>',
      "also check the checkpoint's tenant against this signed checkpoint: the first tree-size events must rebuild its Merkle root and chain head (a truncated or rewritten tail fails); --keys checks its signature",
    )
    .option('--keys <file>', 'public keys (keys.json) to check the --against checkpoint signature with')
    .addHelpText('after', '\nExamples:\n  $ ledger verify\n  $ ledger --data-dir ./data verify --tenant acme\n')
    .action(async (options: { tenant?: string; json: boolean; against?: string; keys?: string }, command: Command) => {
      const { withEventStore } = await import('../ledger-on-disk.js'); // loaded on use, like every store
      const config = configOf(command);
      const where = config.KURRENTDB_URL ? 'the KurrentDB store' : `${config.dataDir} (is --data-dir right?)`;
      const invalid = await withEventStore(config, async (store) => {
        const stored = await tenantsIn(store);
        // A typo must not read as "0 events, chain valid": a tenant without events is not in the store.
        if (options.tenant !== undefined && !stored.includes(options.tenant))
          throw new CliError(`tenant ${options.tenant} has no events in this store; tenants: ${stored.length > 0 ? stored.sort().join(', ') : '(none)'}`, 1);
        // An empty store is nothing verified, not "every chain valid" (a mistyped --data-dir reads as an empty store).
        if (stored.length === 0) throw new CliError(`no events stored in ${where}: nothing to verify`, 1);
        const tenants = options.tenant ? [options.tenant] : stored;
        let bad = 0;
        for (const tenantId of tenants) {
          const stream = tenantStream(tenantId);
          const total = (await store.streamRevision(stream)) ?? -1;
          const progress = progressOnStderr(`verify ${tenantId}`, total + 1, 'events');
          const result = await store.verifyChain(stream, (checked) => progress.update(checked, '')).finally(() => progress.stop());
          if (!result.valid) bad++;
          if (options.json) process.stdout.write(`${JSON.stringify({ tenantId, ...result })}\n`);
          else if (result.valid) process.stdout.write(`tenant ${tenantId}: ${result.events} events, head ${result.head ?? '-'}, chain valid\n`);
          else
            process.stdout.write(
              `tenant ${tenantId}: chain INVALID at position ${result.firstBadPosition} (revision ${result.firstBadRevision})${result.reason ? `: ${result.reason}` : ''}\n`,
            );
        }
        if (options.against !== undefined) {
          const { readCheckpoint } = await import('./proofs.js');
          const { checkpointSignatureDefect, verifyAgainstCheckpoint } = await import('@access-ledger/event-store');
          const checkpoint = readCheckpoint(options.against);
          if (options.keys !== undefined) {
            const { readFileSync } = await import('node:fs');
            const keys = (JSON.parse(readFileSync(options.keys, 'utf8')) as { keys: Parameters<typeof checkpointSignatureDefect>[1] }).keys;
            const defect = checkpointSignatureDefect(checkpoint, keys);
            if (defect !== null) throw new CliError(`checkpoint refused: ${defect}`, 1);
          }
          const result = await verifyAgainstCheckpoint(store, checkpoint);
          if (options.json) process.stdout.write(`${JSON.stringify({ tenantId: checkpoint.tenantId, against: options.against, ...result })}\n`);
          else
            process.stdout.write(
              result.valid
                ? `tenant ${checkpoint.tenantId}: the first ${result.treeSize} events match the checkpoint (root and chain head); ${result.events} events now\n`
                : `tenant ${checkpoint.tenantId}: does NOT match the checkpoint of ${result.treeSize} events: ${result.reason}\n`,
            );
          if (!result.valid) bad++;
        }
        return bad;
      });
      if (invalid > 0) throw new CliError(`${invalid} tenant chain(s) invalid`, 1);
    });
}
