import type { Command } from 'commander';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { z } from 'zod';
import type { LedgerConfig } from '@access-ledger/config';
import { CliError, configOf, dataDirOf } from '../program.js';
import { progressOnStderr } from '../progress.js';

/**
 * `ledger backup` / `ledger restore`: the data directory's own state, copied consistently while the server runs.
 *
 * What is copied: the event store (`events.sqlite`, the source of truth), the API keys and idempotency answers
 * (`api.sqlite`), the export jobs and live-sink cursors (`exports.sqlite`), the sources' staged activities and
 * cursors (`sources.sqlite`), and the checkpoint signing keys and signed checkpoints (`checkpoint-keys/`,
 * `checkpoints/`: without the keys a restored server would sign with a new key, and the anchored checkpoints
 * would verify against nothing it publishes). What is not: the access snapshot
 * and the ClickHouse read model, which are derived from the events and rebuilt from them at the next start, and the
 * plaintext `bootstrap-key`. A backup is complete when its `manifest.json` exists (written last): the files, their
 * sizes and SHA-256, and what the copied event store holds, its chains verified.
 */

/** The SQLite files a backup holds, in the order they are copied; only `events.sqlite` must exist. */
const FILES = ['events.sqlite', 'api.sqlite', 'exports.sqlite', 'sources.sqlite'] as const;
/** Directories of plain files, copied file by file after the stores (each file is written whole by its owner). */
const DIRECTORIES = ['checkpoint-keys', 'checkpoints'] as const;
/** A file of one of DIRECTORIES, relative to the data directory: no `..`, no absolute path. */
const DirectoryFile = z
  .string()
  .regex(new RegExp(`^(${DIRECTORIES.join('|')})(/[A-Za-z0-9._-]+)+$`))
  .refine((name) => !name.split('/').some((part) => part === '..' || part === '.'), 'must not leave its directory');

/** Every plain file under `dir`, as paths relative to `base`, sorted. */
function filesUnder(base: string, dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(base, path));
    else if (entry.isFile() && !entry.name.endsWith('.partial')) out.push(relative(base, path));
  }
  return out.sort();
}

export const BackupManifest = z.object({
  format: z.literal(1),
  createdAt: z.string(),
  files: z
    .array(z.object({ name: z.union([z.enum(FILES), DirectoryFile]), bytes: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }))
    .min(1),
  eventStore: z.object({
    events: z.number().int().nonnegative(),
    headPosition: z.number().int(),
    tenants: z.array(z.object({ tenantId: z.string(), events: z.number().int().nonnegative(), head: z.string().nullable() })),
  }),
});
export type BackupManifest = z.infer<typeof BackupManifest>;

const MANIFEST = 'manifest.json';
const MB = 1024 * 1024;

function isEmptyDir(dir: string): boolean {
  return !existsSync(dir) || readdirSync(dir).length === 0;
}

async function backupTo(config: LedgerConfig, target: string): Promise<BackupManifest> {
  const { backupSqliteFile, sha256OfFile, SqliteEventStore, tenantOfStream } = await import('@access-ledger/event-store');
  const { dataDir } = config;
  if (config.KURRENTDB_URL) {
    throw new CliError("the event store is KurrentDB (KURRENTDB_URL): back it up with KurrentDB's own backup; this command copies the embedded store", 2);
  }
  if (!existsSync(join(dataDir, 'events.sqlite'))) throw new CliError(`no event store in ${dataDir} (events.sqlite): nothing to back up`, 2);
  if (!isEmptyDir(target)) throw new CliError(`${target} is not empty: back up into a new directory`, 2);
  mkdirSync(target, { recursive: true, mode: 0o700 });

  const files: BackupManifest['files'] = [];
  for (const name of FILES) {
    const source = join(dataDir, name);
    if (!existsSync(source)) continue;
    let progress: ReturnType<typeof progressOnStderr> | undefined;
    const bytes = await backupSqliteFile(source, join(target, name), ({ copiedBytes, totalBytes }) => {
      progress ??= progressOnStderr(`copy ${name}`, Math.ceil(totalBytes / MB), 'MiB');
      progress.update(Math.floor(copiedBytes / MB), '');
    }).finally(() => progress?.stop());
    files.push({ name, bytes, sha256: '' });
  }
  const { copyFileDurably } = await import('@access-ledger/event-store');
  for (const directory of DIRECTORIES) {
    for (const name of filesUnder(dataDir, join(dataDir, directory))) {
      mkdirSync(dirname(join(target, name)), { recursive: true, mode: 0o700 });
      await copyFileDurably(join(dataDir, name), join(target, name));
      files.push({ name, bytes: readFileSync(join(target, name)).length, sha256: '' });
    }
  }

  // The copy is checked, not the original: what the backup holds must verify on its own.
  const copy = SqliteEventStore.open(join(target, 'events.sqlite'));
  let eventStore: BackupManifest['eventStore'];
  try {
    const tenants: BackupManifest['eventStore']['tenants'] = [];
    for (const streamId of await copy.streamIds()) {
      const total = ((await copy.streamRevision(streamId)) ?? -1) + 1;
      const progress = progressOnStderr(`verify ${streamId}`, total, 'events');
      const chain = await copy.verifyChain(streamId, (checked) => progress.update(checked, '')).finally(() => progress.stop());
      if (!chain.valid) {
        throw new CliError(
          `the copy of stream ${streamId} does not verify at position ${chain.firstBadPosition}${chain.reason ? ` (${chain.reason})` : ''}: ` +
            `the store itself is damaged (ledger verify); ${target} has no manifest and cannot be restored`,
          1,
        );
      }
      tenants.push({ tenantId: tenantOfStream(streamId) ?? streamId, events: chain.events, head: chain.head });
    }
    eventStore = { events: tenants.reduce((n, t) => n + t.events, 0), headPosition: await copy.headPosition(), tenants };
  } finally {
    await copy.close();
  }
  // Digests once every copy is closed (opening the store to verify it may touch its WAL files, never its content).
  for (const file of files) file.sha256 = await sha256OfFile(join(target, file.name));

  const manifest: BackupManifest = { format: 1, createdAt: new Date().toISOString(), files, eventStore };
  const partial = join(target, `${MANIFEST}.partial`);
  writeFileSync(partial, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  renameSync(partial, join(target, MANIFEST));
  return manifest;
}

async function restoreFrom(source: string, dataDir: string): Promise<BackupManifest> {
  const { copyFileDurably, sha256OfFile } = await import('@access-ledger/event-store');
  const manifestPath = join(source, MANIFEST);
  if (!existsSync(manifestPath)) throw new CliError(`${source} is not a complete backup: it has no ${MANIFEST}`, 2);
  const parsed = BackupManifest.safeParse(JSON.parse(readFileSync(manifestPath, 'utf8')));
  if (!parsed.success)
    throw new CliError(`${manifestPath} is not a backup manifest: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 2);
  const manifest = parsed.data;
  if (!manifest.files.some((f) => f.name === 'events.sqlite')) throw new CliError(`${manifestPath} lists no event store`, 2);
  // Not only the stores: a snapshot or a read model left from another history would be taken for this one's.
  if (!isEmptyDir(dataDir))
    throw new CliError(`${dataDir} already holds ${readdirSync(dataDir).sort().join(', ')}: restore into a new or empty data directory`, 2);

  // Every digest first: a damaged backup writes nothing.
  for (const file of manifest.files) {
    const path = join(source, file.name);
    if (!existsSync(path)) throw new CliError(`the backup is damaged: ${file.name} is missing`, 1);
    const digest = await sha256OfFile(path);
    if (digest !== file.sha256)
      throw new CliError(`the backup is damaged: ${file.name} has SHA-256 ${digest}, the manifest says ${file.sha256}; nothing was restored`, 1);
  }
  mkdirSync(dataDir, { recursive: true });
  // The event store last: a data directory with an event store is a restored one.
  const ordered = [...manifest.files].sort((a, b) => Number(a.name === 'events.sqlite') - Number(b.name === 'events.sqlite'));
  for (const file of ordered) {
    mkdirSync(dirname(join(dataDir, file.name)), { recursive: true, mode: 0o700 });
    await copyFileDurably(join(source, file.name), join(dataDir, file.name));
  }
  return manifest;
}

const summary = (m: BackupManifest) =>
  `${m.eventStore.events} events of ${m.eventStore.tenants.length} tenant(s) through position ${m.eventStore.headPosition}, ` +
  `${m.files
    .filter((f) => !f.name.includes('/'))
    .map((f) => `${f.name} ${(f.bytes / MB).toFixed(1)} MiB`)
    .join(', ')}` +
  DIRECTORIES.map((d) => {
    const n = m.files.filter((f) => f.name.startsWith(`${d}/`)).length;
    return n > 0 ? `, ${d}/ ${n} file(s)` : '';
  }).join('');

export function registerBackup(program: Command): void {
  program
    .command('backup')
    .description(
      "Copy the data directory's event store, API keys, export jobs, sources, checkpoint keys and checkpoints into a new directory, consistently, while the server may keep running; " +
        'verify the copied hash chains and write manifest.json (sizes, SHA-256) last. The access snapshot and the ClickHouse read model are not copied: they are rebuilt from the events.',
    )
    .requiredOption('--to <dir>', 'the backup directory (new or empty)')
    .option('--json', 'print the manifest as JSON', false)
    .addHelpText(
      'after',
      '\nExamples:\n  $ ledger --data-dir ./data backup --to /backups/ledger-2026-11-26\n  $ ledger restore --from /backups/ledger-2026-11-26 --data-dir ./data-restored\n',
    )
    .action(async (options: { to: string; json: boolean }, command: Command) => {
      const started = Date.now();
      const manifest = await backupTo(configOf(command), resolve(options.to));
      if (options.json) process.stdout.write(`${JSON.stringify(manifest)}\n`);
      else
        process.stdout.write(`backed up ${summary(manifest)} to ${resolve(options.to)} in ${((Date.now() - started) / 1000).toFixed(1)} s; chains verified\n`);
    });

  program
    .command('restore')
    .description(
      "Restore a backup made by `ledger backup` into --data-dir, which must be new or empty. Every file's SHA-256 is checked against the manifest before anything is written. " +
        'Start the server on the directory afterwards: the access projection and the read model rebuild from the events.',
    )
    .requiredOption('--from <dir>', 'the backup directory (with its manifest.json)')
    .addHelpText(
      'after',
      '\nExample:\n  $ ledger restore --from /backups/ledger-2026-11-26 --data-dir ./data-restored && ledger --data-dir ./data-restored verify\n',
    )
    .action(async (options: { from: string }, command: Command) => {
      const dataDir = dataDirOf(command);
      const manifest = await restoreFrom(resolve(options.from), dataDir);
      process.stdout.write(
        `restored ${summary(manifest)} (backup of ${manifest.createdAt}) into ${dataDir}; the projections rebuild from the events at the next start\n`,
      );
    });
}
