import type { Command } from 'commander';
import { configOf } from '../program.js';
import { progressOnStderr } from '../progress.js';

export function registerRebuild(program: Command): void {
  program
    .command('rebuild')
    .description(
      'Rebuild the effective-access projection from the first event and replace its snapshot. ' +
        'A running server keeps its own copy in memory; restart it to load the rebuilt snapshot.',
    )
    .addHelpText('after', '\nExample:\n  $ ledger --data-dir ./data rebuild\n')
    .action(async (_options: unknown, command: Command) => {
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
