import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openClickHouse } from '../src/clickhouse.js';
import { CheckpointStore } from '../src/ingestion/checkpoint.js';
import { rows } from './clickhouse-fixture.js';

const here = fileURLToPath(new URL('.', import.meta.url));

function runChild(env: Record<string, string>): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const child = spawnSync(
    process.execPath,
    ['--experimental-transform-types', '--no-warnings', '--import', join(here, 'child/resolve-ts.mjs'), join(here, 'child/projection-child.ts')],
    { env: { ...process.env, CLICKHOUSE_URL: '', ...env }, encoding: 'utf8', timeout: 60_000 },
  );
  return { status: child.status, signal: child.signal, stdout: child.stdout, stderr: child.stderr };
}

describe('crash between a ClickHouse insert and its checkpoint', () => {
  const dataPath = mkdtempSync(join(tmpdir(), 'read-model-crash-'));
  afterAll(() => rmSync(dataPath, { recursive: true, force: true }));

  it('SIGKILL after the insert, restart with another batch size: no duplicate, no gap', async () => {
    const killed = runChild({ DATA_PATH: dataPath, EVENTS: '1000', BATCH_SIZE: '100', CRASH_AFTER_BATCH: '4' });
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.stdout).toContain('inserted 300-399, dying before the checkpoint');

    // Look at the wreck: the fourth batch is stored, the checkpoint still says 299 with 399 announced.
    let client = openClickHouse({ url: '', dataPath });
    expect(await new CheckpointStore(client, 'audit_events').load()).toMatchObject({ position: 299, pendingThrough: 399 });
    expect(await rows(client, 'SELECT count() AS n FROM audit_events')).toEqual([{ n: 400 }]);
    await client.close();

    const restarted = runChild({ DATA_PATH: dataPath, EVENTS: '1000', BATCH_SIZE: '333' });
    expect(restarted.stderr).toBe('');
    expect(restarted.status).toBe(0);
    expect(restarted.stdout).toContain('done: checkpoint 999');

    client = openClickHouse({ url: '', dataPath });
    const [stats] = await rows<{ n: number; ids: number; positions: number; lo: number; hi: number }>(
      client,
      'SELECT count() AS n, uniqExact(event_id) AS ids, uniqExact(position) AS positions, min(position) AS lo, max(position) AS hi FROM audit_events',
    );
    expect(stats).toEqual({ n: 1000, ids: 1000, positions: 1000, lo: 0, hi: 999 });
    await client.close();
  });
});
