import type { Command } from 'commander';
import { CliError, configOf } from '../program.js';
import { progressOnStderr, type Progress } from '../progress.js';

export function registerRebuild(program: Command): void {
  program
    .command('rebuild')
    .description(
      'Rebuild the effective-access projection from the first event and replace its snapshot. ' +
        'A running server keeps its own copy in memory; restart it to load the rebuilt snapshot. ' +
        'With --read-model, rebuild the ClickHouse read model (audit trail and access intervals) instead.',
    )
    .option('--read-model', 'rebuild the read model (audit_events, access_intervals) from the event store; the server must be stopped')
    .option('--tenant <id>', "with --read-model: only this tenant's rows are deleted and projected again (the others' stay)")
    .addHelpText(
      'after',
      '\nExamples:\n  $ ledger --data-dir ./data rebuild\n  $ ledger --data-dir ./data rebuild --read-model\n  $ ledger --data-dir ./data rebuild --read-model --tenant acme\n',
    )
    .action(async (options: { readModel?: boolean; tenant?: string }, command: Command) => {
      if (options.tenant !== undefined && !options.readModel) throw new CliError('--tenant only applies with --read-model', 2);
      if (options.readModel) return rebuildReadModel(command, options.tenant);
      const { withLedger } = await import('../ledger-on-disk.js');
      await withLedger(configOf(command), async (ledger) => {
        const head = await ledger.store.headPosition();
        const progress = progressOnStderr('rebuild', Math.max(head, 0), 'positions');
        const { events, ms } = await ledger.rebuild((position, total) => progress.update(position, `head ${total}`)).finally(() => progress.stop());
        const rate = ms > 0 ? Math.round(events / (ms / 1000)) : events;
        process.stdout.write(`rebuilt the access projection from ${events} events in ${(ms / 1000).toFixed(1)} s (${rate} events/s)\n`);
      });
    });
}

/** `ledger rebuild --read-model [--tenant t]`: one progress bar (with an ETA) per stage, on stderr. */
async function rebuildReadModel(command: Command, tenantId: string | undefined): Promise<void> {
  const { rebuildReadModelOnDisk, ReadModelInUseError } = await import('../../../api/src/server.js');
  let current: { stage: string; progress: Progress } | undefined;
  const onProgress = (stage: string, done: number, total: number) => {
    if (current?.stage !== stage) {
      current?.progress.stop();
      current = { stage, progress: progressOnStderr(stage, total, 'positions') };
    }
    current.progress.update(done, '');
  };
  try {
    const result = await rebuildReadModelOnDisk(configOf(command), { ...(tenantId !== undefined ? { tenantId } : {}), onProgress }).finally(() =>
      current?.progress.stop(),
    );
    const stages = result.stages.map((s) => `${s.name} ${(s.ms / 1000).toFixed(1)} s`).join(', ');
    process.stdout.write(
      `rebuilt the read model${tenantId !== undefined ? ` of tenant ${tenantId}` : ''} up to position ${result.head} in ${(result.ms / 1000).toFixed(1)} s (${stages}); ${result.tombstonesPurged} interval tombstone(s) purged\n`,
    );
  } catch (error) {
    if (error instanceof ReadModelInUseError) throw new CliError(error.message, 2);
    throw error;
  }
}
