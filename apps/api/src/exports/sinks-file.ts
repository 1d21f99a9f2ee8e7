import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ContinuousSinkConfig, SinkConfig } from '@access-ledger/exports';

/**
 * The sinks a deployment configures, in one JSON file (`LEDGER_SINKS_FILE`), so that secrets stay out of the
 * environment and out of request bodies:
 *
 *   { "named": { "<name>": SinkConfig, … },      one-shot exports may refer to them as `sinkName`
 *     "live":  [ ContinuousSinkConfig, … ] }      followed from the server's start, each from its checkpoint
 */
export const SinksFile = z
  .object({
    named: z.record(z.string().regex(/^[A-Za-z0-9._:@-]{1,128}$/), SinkConfig).default({}),
    live: z.array(ContinuousSinkConfig).default([]),
  })
  .strict()
  .refine((f) => new Set(f.live.map((s) => s.name)).size === f.live.length, { message: 'live sink names must be unique', path: ['live'] });
export type SinksFile = z.infer<typeof SinksFile>;

/** Reads and validates the file; a bad file stops the server with every problem listed. */
export function loadSinksFile(path: string): SinksFile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`LEDGER_SINKS_FILE ${path}: ${(error as Error).message}`);
  }
  const parsed = SinksFile.safeParse(json);
  if (!parsed.success) {
    throw new Error(`LEDGER_SINKS_FILE ${path} is invalid:\n${parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  return parsed.data;
}
