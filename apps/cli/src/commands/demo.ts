import type { Command } from 'commander';
import { CliError, configOf } from '../program.js';
import { progressOnStderr } from '../progress.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'Seed tenant "demo" with a realistic generated history (only when it has no events yet), then serve the HTTP API ' +
        '(same as `npm run demo`). The history is deterministic from --seed.',
    )
    .option('--preset <name>', 'history size: demo (≈ 9 000 events, seconds) or benchmark (≈ 2 million events, minutes)', 'demo')
    .option('--seed <n>', 'generator seed (same seed, same history)')
    .option('--users <n>', 'override the number of users of the preset')
    .option('--no-serve', 'only seed, do not start the server')
    .option('-p, --port <port>', 'port (env PORT, default 8080)')
    .option('--host <host>', 'address to bind (env HOST, default 127.0.0.1)')
    .addHelpText('after', '\nExamples:\n  $ ledger demo\n  $ ledger --data-dir ./bigdata demo --preset benchmark --no-serve\n')
    .action(async (options: { preset: string; seed?: string; users?: string; serve: boolean; port?: string; host?: string }, command: Command) => {
      const { benchmarkHistory, demoHistory, estimateCommands, generateHistory } = await import('@access-ledger/history');
      const { seedHistory } = await import('@access-ledger/ledger');
      const { tenantStream } = await import('@access-ledger/event-store');
      const { withLedger } = await import('../ledger-on-disk.js');
      const base = options.preset === 'benchmark' ? benchmarkHistory : options.preset === 'demo' ? demoHistory : undefined;
      if (!base) throw new CliError(`unknown preset ${options.preset}: use demo or benchmark`, 2);
      const number = (value: string | undefined, name: string): number | undefined => {
        if (value === undefined) return undefined;
        const n = Number(value);
        if (!Number.isInteger(n) || n <= 0) throw new CliError(`--${name} must be a positive whole number, not ${value}`, 2);
        return n;
      };
      const history = {
        ...base,
        ...(options.seed ? { seed: number(options.seed, 'seed')! } : {}),
        ...(options.users ? { users: number(options.users, 'users')! } : {}),
      };
      const config = configOf(command, { PORT: options.port, HOST: options.host });
      const { checkServable, serveUntilSignal } = await import('../serving.js');
      // Before seeding: a demo that seeds for minutes and then cannot serve (port taken, directory held) helps no one.
      if (options.serve) await checkServable(config);
      await withLedger(config, async (ledger) => {
        if ((await ledger.store.streamRevision(tenantStream('demo'))) !== null) {
          process.stderr.write('tenant demo already has events: not seeding again\n');
          return;
        }
        const progress = progressOnStderr('seed demo', estimateCommands(history), 'commands');
        const report = await seedHistory(ledger.store, 'demo', generateHistory(history), {
          idSeed: `demo-${history.seed}`,
          onProgress: (r) => progress.update(r.commands, `${r.events} events`),
        }).finally(() => progress.stop());
        await ledger.runner.catchUp();
        process.stderr.write(
          `seeded tenant demo: ${report.events} events from ${report.commands} commands (${report.refused} refused attempts, ${report.imported} late imports)\n`,
        );
      });
      if (!options.serve) return;
      await serveUntilSignal(config);
    });
}
