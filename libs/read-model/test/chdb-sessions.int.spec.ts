import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backendOf, openClickHouse } from '../src/clickhouse.js';
import { rows } from './clickhouse-fixture.js';

describe('chDB sessions in one process (documented in docs/read-model.md)', () => {
  it('shares one data directory between clients, refuses a second directory until the first is closed', async () => {
    const a = mkdtempSync(join(tmpdir(), 'read-model-sessions-a-'));
    const b = mkdtempSync(join(tmpdir(), 'read-model-sessions-b-'));
    try {
      const first = openClickHouse({ url: '', dataPath: a });
      const second = openClickHouse({ url: '', dataPath: a });
      expect(backendOf(first)).toBe('chdb');
      await first.command({ query: 'CREATE TABLE shared (n UInt8) ENGINE = MergeTree ORDER BY n' });
      await first.command({ query: 'INSERT INTO shared VALUES (7)' });
      expect(await rows(second, 'SELECT n FROM shared')).toEqual([{ n: 7 }]);

      expect(() => openClickHouse({ url: '', dataPath: b })).toThrow();

      await first.close();
      await second.close();
      const other = openClickHouse({ url: '', dataPath: b });
      expect(await rows(other, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
      await other.close();
    } finally {
      rmSync(a, { recursive: true, force: true });
      rmSync(b, { recursive: true, force: true });
    }
  });
});
