import type { Command } from 'commander';
import { CliError, configOf } from '../program.js';

/**
 * `ledger quarantine list` (issue 16 item 6): the events a read-model projection could not take, one JSON line each.
 * Opening the read model on disk catches the projections up first, and every start of the audit projection retries
 * its quarantined events, so what this prints is what still fails with the code and schema of this build.
 */
export function registerQuarantine(program: Command): void {
  const quarantine = program.command('quarantine').description('Events the read model could not take (recorded, skipped, retried at each start).');
  quarantine
    .command('list')
    .description('Retry the quarantined events (by catching the read model up), then print those still quarantined as JSON lines.')
    .addHelpText(
      'after',
      '\nThe server must not be running on the data directory (chDB locks it); with the server running, read\n' +
        '/ready (readModelQuarantined) or restart it to retry.\n\nExit codes: 0 printed, 2 read model in use.\n\nExample:\n  $ ledger --data-dir ./data quarantine list\n',
    )
    .action(async (_options: unknown, command: Command) => {
      const [{ CheckpointStore, listQuarantined }, { withReadModelOnDisk, ReadModelInUseError }] = await Promise.all([
        import('@access-ledger/read-model'),
        import('../../../api/src/server.js'),
      ]);
      try {
        const held = await withReadModelOnDisk(configOf(command), async (client) => {
          // The current generation's (a rebuild replays everything, so an older generation's no longer applies).
          const { generation } = await new CheckpointStore(client, 'audit_events').load();
          return listQuarantined(client, 'audit_events', generation);
        });
        for (const event of held) process.stdout.write(`${JSON.stringify(event)}\n`);
        process.stderr.write(`${held.length} event(s) in quarantine\n`);
      } catch (error) {
        if (error instanceof ReadModelInUseError) throw new CliError(error.message, 2);
        throw error;
      }
    });
}
