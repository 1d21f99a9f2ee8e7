import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/** One event Splunk refused as bad data, with why: one NDJSON line of the dead-letter file. */
export interface DeadLetter {
  readonly at: string;
  readonly eventId: string;
  readonly position: number;
  readonly reason: string;
  readonly code: number;
  /** The HEC event exactly as it was sent. */
  readonly event: unknown;
}

/** Dead letters are appended before the checkpoint moves past them, so none is lost on a crash. */
export class DeadLetterFile {
  constructor(readonly path: string) {}

  async append(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    await mkdir(dirname(this.path), { recursive: true });
    await appendFile(this.path, letters.map((l) => JSON.stringify(l)).join('\n') + '\n', 'utf8');
  }
}
