import type { Command } from 'commander';
import { CliError, configOf } from '../program.js';

/** The flag of each query field, for messages about the flags the user typed. */
const FLAGS: Readonly<Record<string, string>> = { at: '--at', knownAt: '--known-at', explain: '--no-explain' };

export function registerAccess(program: Command): void {
  program
    .command('access')
    .description("Print a member's effective access at an instant (as known at another), with the events that explain it.")
    .requiredOption('-t, --tenant <tenant>', 'tenant')
    .requiredOption('-o, --org <orgId>', 'organization')
    .requiredOption('-u, --user <userId>', 'member')
    .option('--at <instant>', 'an instant: 2026-03-01, 2026-03-01T09:00:00Z or …T09:00:00.000+02:00 (default now)')
    .option('--known-at <instant>', 'as known at this instant (same forms; default now)')
    .option('--no-explain', 'omit the explanation chains')
    .addHelpText(
      'after',
      "\nExit codes: 0 printed, 1 unknown organization or member, 2 invalid option, 3 --at is before the organization's baseline (unknown; the message says from when it is known).\n" +
        '\nExample:\n  $ ledger access -t demo -o org-1 -u u-00017 --at 2026-01-15T00:00:00.000Z\n',
    )
    .action(async (options: { tenant: string; org: string; user: string; at?: string; knownAt?: string; explain: boolean }, command: Command) => {
      const [{ withLedger }, { ACCESS_QUERY_SCHEMAS, parseAccessQuery }] = await Promise.all([import('../ledger-on-disk.js'), import('@access-ledger/ledger')]);
      // Parsed before the store opens, with the route's own schema (the same instants are accepted and refused).
      let query: ReturnType<typeof parseAccessQuery<typeof ACCESS_QUERY_SCHEMAS.access>>;
      try {
        query = parseAccessQuery(ACCESS_QUERY_SCHEMAS.access, {
          ...(options.at ? { at: options.at } : {}),
          ...(options.knownAt ? { knownAt: options.knownAt } : {}),
          explain: String(options.explain),
        });
      } catch (error) {
        const errors = (error as { errors?: readonly { path: string; message: string }[] }).errors;
        if (!errors) throw error;
        throw new CliError(errors.map((e) => `${FLAGS[e.path] ?? e.path}: ${e.message}`).join('; '), 2);
      }
      await withLedger(configOf(command), async (ledger) => {
        await ledger.runner.catchUp();
        const answer = await ledger.queries.memberAccess(options.tenant, options.org, options.user, query);
        process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
      });
    });
}
