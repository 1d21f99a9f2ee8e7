import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import { AccessProjection, foldedFactsOf } from '../src/access-projection.js';
import { generatedHistory, recorded } from './access-intervals-fixture.js';

// Loading the access snapshot: only "not there" starts empty; an older format is rebuilt and says so; anything else
// that keeps it from being read is an error naming the file, never a silent rebuild from the events.
describe('loading the access snapshot', () => {
  const dir = mkdtempSync(join(tmpdir(), 'access-snapshot-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function savedSnapshot(name: string): Promise<{ path: string; projection: AccessProjection }> {
    const projection = new AccessProjection();
    for (const e of generatedHistory('snap', 5, 2).events) projection.apply(recorded(e));
    const path = join(dir, name);
    expect(await projection.saveSnapshot(path)).toBe(true);
    return { path, projection };
  }

  test('a snapshot written is loaded back at the same position with the same tenants', async () => {
    const { path, projection } = await savedSnapshot('round-trip.snapshot');
    const loaded = AccessProjection.load(path);
    expect(loaded.position).toBe(projection.position);
    expect(loaded.tenantIds()).toEqual(projection.tenantIds());
    expect(loaded.factsOf('snap').size).toEqual(projection.factsOf('snap').size);
  });

  test('a snapshot that is not there starts an empty projection, and gives no folded facts', () => {
    const path = join(dir, 'missing.snapshot');
    expect(AccessProjection.load(path).position).toBe(-1);
    expect(foldedFactsOf(path)).toBeUndefined();
  });

  test('a snapshot path that cannot be read (a directory there) is an error naming the path, for the ledger and the interval projection alike', () => {
    const path = join(dir, 'unreadable.snapshot');
    mkdirSync(path);
    expect(() => AccessProjection.load(path)).toThrow(`cannot read the access snapshot ${path}: EISDIR`);
    expect(() => foldedFactsOf(path)).toThrow(path);
  });

  test('a truncated snapshot is an error naming the path, not an empty projection', async () => {
    const { path } = await savedSnapshot('truncated.snapshot');
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
    expect(() => AccessProjection.load(path)).toThrow(`the access snapshot ${path} is corrupt`);
  });

  test('bytes that are not a snapshot at all are an error naming the path', () => {
    const garbage = join(dir, 'garbage.snapshot');
    writeFileSync(garbage, 'not a snapshot');
    expect(() => AccessProjection.load(garbage)).toThrow(garbage);
    const other = join(dir, 'other.snapshot');
    writeFileSync(other, serialize({ something: 'else' }));
    expect(() => AccessProjection.load(other)).toThrow(`${other} is not an access snapshot`);
  });

  test('a snapshot of another format version is rebuilt from the events, and a log line says so', () => {
    const path = join(dir, 'old-format.snapshot');
    writeFileSync(path, serialize({ format: 1, position: 41, tenants: [] }));
    const lines: string[] = [];
    const projection = AccessProjection.load(path, undefined, (line) => lines.push(line));
    expect(projection.position).toBe(-1);
    expect(lines).toEqual([expect.stringContaining(`access snapshot ${path} is of format 1`)]);
    expect(lines[0]).toContain('rebuilding the projection from the events');
  });
});
