import type { Command } from 'commander';
import { CliError, configOf } from '../program.js';

/**
 * `ledger quarantine list`: the events a projection could not take, one JSON line each — the read
 * model's (`audit_events`, `access_intervals`) and the access projection's (`access`, recorded in the data directory).
 * Opening the read model on disk catches its projections up first, and every start retries their quarantined events,
 * so what they list is what still fails with the code and schema of this build. The access projection's list is as
 * the server last recorded it (a server start retries it; see docs/access.md § Quarantine).
 */
export function registerQuarantine(program: Command): void {
  const quarantine = program.command('quarantine').description('Events the projections could not take (recorded, skipped, retried at each start).');
  quarantine
    .command('list')
    .description('Retry the quarantined events (by catching the read model up), then print those still quarantined as JSON lines.')
    .addHelpText(
      'after',
      '\nThe server must not be running on the data directory (chDB locks it); with the server running, read\n' +
        '/ready (readModelQuarantined, accessProjectionQuarantined) or restart it to retry.\n\nExit codes: 0 printed, 2 read model in use.\n\nExample:\n  $ ledger --data-dir ./data quarantine list\n',
    )
    .action(async (_options: unknown, command: Command) => {
      const [{ CheckpointStore, listQuarantined }, { withReadModelOnDisk, ReadModelInUseError }, { AccessQuarantine, accessQuarantinePath }] =
        await Promise.all([import('@access-ledger/read-model'), import('../../../api/src/server.js'), import('@access-ledger/projections')]);
      try {
        const config = configOf(command);
        const readModel = await withReadModelOnDisk(config, async (client) => {
          const held = [];
          for (const projection of ['audit_events', 'access_intervals']) {
            // The current generation's (a rebuild replays everything, so an older generation's no longer applies).
            const { generation } = await new CheckpointStore(client, projection).load();
            held.push(...(await listQuarantined(client, projection, generation)));
          }
          return held;
        });
        const access = AccessQuarantine.load(accessQuarantinePath(config.dataDir))
          .list()
          .map((h) => ({ projection: 'access', ...h }));
        const held = [...readModel, ...access];
        for (const event of held) process.stdout.write(`${JSON.stringify(event)}\n`);
        process.stderr.write(`${held.length} event(s) in quarantine\n`);
      } catch (error) {
        if (error instanceof ReadModelInUseError) throw new CliError(error.message, 2);
        throw error;
      }
    });
}
