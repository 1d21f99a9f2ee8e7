import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { CliError, configOf } from '../program.js';
import { progressOnStderr } from '../progress.js';

/**
 * `ledger sources add compliance-api … / sync / status` (docs/sources.md). The sources and their checkpoints live in
 * `sources.sqlite` in the data directory; the key stays in its file (only the file's path is stored).
 */
export function registerSources(program: Command): void {
  const sources = program.command('sources').description('Sources of activities outside the ledger (the Compliance API): add one, sync it, see its status');

  sources
    .command('add')
    .description('Add (or update) a source. The key is read from --key-file at each sync; only the path is stored, never the key.')
    .argument('<kind>', 'compliance-api')
    .requiredOption('-t, --tenant <tenant>', 'tenant the activities go to')
    .requiredOption('--key-file <path>', 'file holding the Compliance Access Key (mode 0600)')
    .option('--name <name>', 'name of the source', 'compliance-api')
    .option('--url <url>', 'base URL of the API', 'https://api.anthropic.com')
    .addHelpText('after', '\nExample:\n  $ ledger sources add compliance-api --tenant acme --key-file ~/.config/ledger/compliance.key\n')
    .action(async (kind: string, options: { tenant: string; keyFile: string; name: string; url: string }, command: Command) => {
      if (kind !== 'compliance-api') throw new CliError(`unknown source kind ${JSON.stringify(kind)}; valid: compliance-api`, 2);
      try {
        new URL(options.url);
      } catch {
        throw new CliError(`--url ${JSON.stringify(options.url)} is not a URL`, 2);
      }
      readKey(options.keyFile);
      const config = configOf(command);
      const { SourcesStore } = await import('@access-ledger/sources');
      const store = new SourcesStore(join(config.dataDir, 'sources.sqlite'));
      try {
        store.add({ name: options.name, kind: 'compliance-api', tenantId: options.tenant, baseUrl: options.url, keyFile: options.keyFile });
      } finally {
        store.close();
      }
      process.stdout.write(`source ${options.name} (compliance-api → tenant ${options.tenant}) added; run \`ledger sources sync --once\`\n`);
    });

  sources
    .command('sync')
    .description(
      'Backfill the whole feed (resuming at the stored checkpoint), then follow it by polling; --once stops after one pass. A 401/403 stops with the scope the key lacks.',
    )
    .option('--name <name>', 'the source (default: every source)')
    .option('--once', 'one pass, then exit', false)
    .option('--interval <seconds>', 'seconds between polls when following', '60')
    .option('--page-size <n>', 'activities per page (≤ 1000)', '1000')
    .option('--drift-every <polls>', 'when following, compare the directory with the ledger (drift detection) every this many polls; 0 never', '10')
    .addHelpText('after', '\nExample:\n  $ ledger sources sync --once\n')
    .action(async (options: { name?: string; once: boolean; interval: string; pageSize: string; driftEvery: string }, command: Command) => {
      const driftEvery = Number(options.driftEvery);
      if (!Number.isInteger(driftEvery) || driftEvery < 0) throw new CliError(`--drift-every must be a whole number, got ${options.driftEvery}`, 2);
      const pageSize = Number(options.pageSize);
      if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw new CliError(`--page-size must be 1–1000, got ${options.pageSize}`, 2);
      const interval = Number(options.interval);
      if (!Number.isFinite(interval) || interval < 1) throw new CliError(`--interval must be at least 1 second, got ${options.interval}`, 2);
      const config = configOf(command);
      const { SourcesStore, ComplianceApiClient, syncWithBaseline, detectDrift, SourceAuthError, SourceUnavailableError } = await import(
        '@access-ledger/sources'
      );
      const { withLedger } = await import('../ledger-on-disk.js');
      const store = new SourcesStore(join(config.dataDir, 'sources.sqlite'));
      try {
        const names = options.name ? [options.name] : store.names();
        if (names.length === 0) throw new CliError('no sources; add one with `ledger sources add compliance-api …`', 1);
        for (const name of names) if (!store.get(name)) throw new CliError(`no source named ${name}; known: ${store.names().join(', ') || 'none'}`, 1);
        await withLedger(config, async (ledger) => {
          for (let poll = 1; ; poll++) {
            for (const name of names) {
              const def = store.get(name)!;
              const client = new ComplianceApiClient({ baseUrl: def.baseUrl, apiKey: readKey(def.keyFile) });
              const progress = progressOnStderr(`${name} ${def.phase}`, 0, 'activities');
              try {
                const report = await syncWithBaseline(store, name, client, ledger, {
                  pageSize,
                  onProgress: (p) =>
                    progress.update(
                      p.phase === 'apply' ? p.applied : p.fetched,
                      p.phase === 'apply' ? `applying ${p.applied}/${p.pending}` : `${p.pages} pages`,
                    ),
                });
                progress.stop();
                const d = report.byDisposition;
                process.stdout.write(
                  `${name}: ${report.fetched} fetched in ${report.pages} pages, ${report.staged} new, ${report.duplicates} duplicates; ${report.applied} applied (${d.mapped} mapped → ${report.appended} events, ${d.audit} audit only, ${d.unmapped} unmapped, ${d.rejected} rejected)\n`,
                );
                if (report.baselineEvents !== undefined)
                  process.stdout.write(`${name}: baseline from the directory: ${report.baselineEvents} events recorded as observed\n`);
                if (!options.once && driftEvery > 0 && poll % driftEvery === 0) {
                  const drift = await detectDrift(store, name, client, ledger);
                  process.stdout.write(`${name}: drift: ${drift.detected} new, ${drift.resolved} resolved, ${drift.open.length} open\n`);
                }
              } catch (error) {
                progress.stop();
                store.setError(name, (error as Error).message);
                if (error instanceof SourceAuthError) throw new CliError(`source ${name} stopped: ${error.message}`, 1);
                // Following: an API still failing after the retries is tried again at the next poll (checkpoint kept).
                if (!options.once && error instanceof SourceUnavailableError) {
                  process.stderr.write(`ledger: source ${name}: ${error.message}; trying again in ${interval} s\n`);
                  continue;
                }
                if (error instanceof SourceUnavailableError) throw new CliError(`source ${name}: ${error.message}`, 1);
                throw error;
              }
            }
            if (options.once) return;
            await new Promise((r) => setTimeout(r, interval * 1000));
          }
        });
      } finally {
        store.close();
      }
    });

  sources
    .command('drift')
    .description(
      'Compare the directory endpoints (organizations, users) with the ledger now; record each new difference as a DriftDetected event and print the open drift (exit 1 when there is any)',
    )
    .option('--name <name>', 'the source', 'compliance-api')
    .option('--json', 'as JSON', false)
    .addHelpText('after', '\nExample:\n  $ ledger sources drift --name compliance-api\n')
    .action(async (options: { name: string; json: boolean }, command: Command) => {
      const config = configOf(command);
      const { SourcesStore, ComplianceApiClient, detectDrift, SourceAuthError } = await import('@access-ledger/sources');
      const { withLedger } = await import('../ledger-on-disk.js');
      const store = new SourcesStore(join(config.dataDir, 'sources.sqlite'));
      try {
        const def = store.get(options.name);
        if (!def) throw new CliError(`no source named ${options.name}; known: ${store.names().join(', ') || 'none'}`, 1);
        const client = new ComplianceApiClient({ baseUrl: def.baseUrl, apiKey: readKey(def.keyFile) });
        const report = await withLedger(config, (ledger) => detectDrift(store, options.name, client, ledger)).catch((error: unknown) => {
          if (error instanceof SourceAuthError) throw new CliError(`source ${options.name} stopped: ${error.message}`, 1);
          throw error;
        });
        if (options.json) process.stdout.write(`${JSON.stringify(report)}\n`);
        else {
          process.stdout.write(`drift at ${report.at}: ${report.detected} new, ${report.resolved} resolved, ${report.open.length} open\n`);
          for (const d of report.open) {
            process.stdout.write(
              `  ${d.orgId} ${d.userId}: ledger ${JSON.stringify(d.ledger)}, api ${JSON.stringify(d.api)}, since at least ${d.sinceAtLeast}\n`,
            );
          }
        }
        if (report.open.length > 0) process.exitCode = 1;
      } finally {
        store.close();
      }
    });

  sources
    .command('status')
    .description('Each source: phase (backfill/follow), activities staged and applied by disposition, unmapped types with their counts, last error')
    .option('--json', 'as JSON', false)
    .addHelpText('after', '\nExample:\n  $ ledger sources status\n')
    .action(async (options: { json: boolean }, command: Command) => {
      const config = configOf(command);
      const { SourcesStore, baselineOf } = await import('@access-ledger/sources');
      const store = new SourcesStore(join(config.dataDir, 'sources.sqlite'));
      try {
        const all = store.names().map((n) => ({ ...store.status(n)!, baseline: baselineOf(store, n) ?? null }));
        if (options.json) {
          process.stdout.write(`${JSON.stringify(all)}\n`);
          return;
        }
        if (all.length === 0) process.stdout.write('no sources\n');
        for (const s of all) {
          const d = s.byDisposition;
          process.stdout.write(
            `${s.name} (${s.kind} ${s.baseUrl} → tenant ${s.tenantId}): ${s.phase}; ${s.staged} staged, ${s.pending} pending; ${d.mapped} mapped, ${d.audit} audit only, ${d.unmapped} unmapped, ${d.rejected} rejected; newest ${s.newestCreatedAt ?? '—'}; baseline ${s.baseline ? `${s.baseline.at} (${s.baseline.events} events)` : 'not yet'}; last sync ${s.lastSyncAt ?? 'never'}${s.lastError ? `; last error: ${s.lastError}` : ''}\n`,
          );
          for (const [type, n] of Object.entries(s.unmappedTypes)) process.stdout.write(`  unmapped ${type}: ${n}\n`);
        }
      } finally {
        store.close();
      }
    });

  sources
    .command('show-activity')
    .description(
      "One staged activity verbatim, as kept in sources.sqlite, with its disposition and its SHA-256: an event's metadata.evidence.complianceActivitySha256 is the SHA-256 of this text",
    )
    .argument('<id>', 'the activity id (the event ids are ca.<id>, ca.<id>.1, …)')
    .option('--name <name>', 'the source', 'compliance-api')
    .option('--json', 'as JSON: { source, id, disposition, reason, sha256, activity }', false)
    .addHelpText('after', '\nExample:\n  $ ledger sources show-activity activity_01HZX3 --json\n')
    .action(async (id: string, options: { name: string; json: boolean }, command: Command) => {
      const config = configOf(command);
      const { SourcesStore, activityDigest } = await import('@access-ledger/sources');
      const store = new SourcesStore(join(config.dataDir, 'sources.sqlite'));
      try {
        if (!store.get(options.name)) throw new CliError(`no source named ${options.name}; known: ${store.names().join(', ') || 'none'}`, 1);
        const staged = store.activity(options.name, id);
        if (!staged) throw new CliError(`no activity ${id} staged for source ${options.name}`, 1);
        const sha256 = activityDigest(id, staged.json).complianceActivitySha256;
        const disposition = staged.disposition ?? 'pending';
        if (options.json) {
          process.stdout.write(
            `${JSON.stringify({ source: options.name, id, disposition, reason: staged.reason, sha256, activity: JSON.parse(staged.json) })}\n`,
          );
          return;
        }
        process.stdout.write(`${id} (source ${options.name}): ${disposition}${staged.reason ? ` (${staged.reason})` : ''}; sha256 ${sha256}\n${staged.json}\n`);
      } finally {
        store.close();
      }
    });
}

function readKey(path: string): string {
  try {
    statSync(path);
    const key = readFileSync(path, 'utf8').trim();
    if (key === '') throw new CliError(`the key file ${path} is empty`, 2);
    return key;
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot read the key file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 2);
  }
}
