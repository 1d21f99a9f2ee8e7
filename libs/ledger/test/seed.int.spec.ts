import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoHistory, generateHistory } from '@access-ledger/history';
import { Ledger, seedHistory } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'seed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('seeding a generated history through the deciders', () => {
  test('every generated command is accepted except the attempts the generator marked as refused (R22, R62)', async () => {
    const ledger = await Ledger.open({ dataDir: dir });
    try {
      const report = await seedHistory(ledger.store, 'demo', generateHistory({ ...demoHistory, seed: 7 }));
      expect(report.firstViolation).toBeUndefined();
      expect(report.violations).toBe(0);
      expect(report.refused).toBe(report.expectedRefusals);
      expect(report.refused).toBeGreaterThan(0);
      expect(report.imported).toBeGreaterThan(0);
      await ledger.runner.catchUp();
      expect(ledger.projection.tenant('demo')!.events).toBe(report.events);
    } finally {
      await ledger.close();
    }
  });
});
