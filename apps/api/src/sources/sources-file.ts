import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { Id } from '@access-ledger/access-model';

/**
 * The activity sources the server syncs in the background from its start, in one JSON file (`LEDGER_SOURCES_FILE`),
 * as `ledger sources add` + `ledger sources sync` would (docs/sources.md § Operation):
 *
 *   { "sources": [ { "name": "claude", "kind": "compliance-api", "tenantId": "acme",
 *                    "keyFile": "/etc/ledger/compliance.key", "url": "https://api.anthropic.com",
 *                    "intervalSeconds": 60, "pageSize": 1000, "driftEvery": 10 } ] }
 *
 * The key stays in its file (read at each pass, as the CLI does); only the file's path is stored in `sources.sqlite`.
 */
export const SourceEntry = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9._:@-]{1,128}$/, 'must be 1–128 characters of A-Z a-z 0-9 . _ : @ -'),
    kind: z.literal('compliance-api'),
    tenantId: Id,
    keyFile: z.string().min(1),
    url: z.url().default('https://api.anthropic.com'),
    /** Seconds between two passes once the backfill is done (and after a failed pass). */
    intervalSeconds: z.number().min(1).max(86_400).default(60),
    pageSize: z.number().int().min(1).max(1000).default(1000),
    /** Activities applied per import batch: smaller batches keep the server's event loop free between them. */
    batchSize: z.number().int().min(1).max(10_000).default(500),
    /** Compare the directory with the ledger (drift detection) every this many passes; 0 never. */
    driftEvery: z.number().int().min(0).default(10),
  })
  .strict();
export type SourceEntry = z.infer<typeof SourceEntry>;

export const SourcesFile = z
  .object({ sources: z.array(SourceEntry) })
  .strict()
  .refine((f) => new Set(f.sources.map((s) => s.name)).size === f.sources.length, { message: 'source names must be unique', path: ['sources'] });
export type SourcesFile = z.infer<typeof SourcesFile>;

/** Reads and validates the file, and that every key file can be read; a bad file stops the server with every problem listed. */
export function loadSourcesFile(path: string): SourcesFile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`LEDGER_SOURCES_FILE ${path}: ${(error as Error).message}`);
  }
  const parsed = SourcesFile.safeParse(json);
  if (!parsed.success) {
    throw new Error(`LEDGER_SOURCES_FILE ${path} is invalid:\n${parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  const unreadable = parsed.data.sources.flatMap((s, i) => {
    try {
      return readKeyFile(s.keyFile) === '' ? [`  sources.${i}.keyFile: ${s.keyFile} is empty`] : [];
    } catch (error) {
      return [`  sources.${i}.keyFile: cannot read ${s.keyFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`];
    }
  });
  if (unreadable.length > 0) throw new Error(`LEDGER_SOURCES_FILE ${path} is invalid:\n${unreadable.join('\n')}`);
  return parsed.data;
}

/** The key, trimmed (a trailing newline is not part of it). */
export function readKeyFile(path: string): string {
  return readFileSync(path, 'utf8').trim();
}
