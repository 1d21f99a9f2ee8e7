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

  test('with an idSeed, two seedings store the same event ids and correlation ids (the demo walkthrough names them)', async () => {
    const idsOf = async (sub: string, idSeed: string) => {
      const ledger = await Ledger.open({ dataDir: join(dir, sub) });
      try {
        await seedHistory(ledger.store, 'demo', generateHistory({ ...demoHistory, seed: 7, users: 40 }), { idSeed });
        const out: string[] = [];
        for await (const e of ledger.store.readAll()) out.push(`${e.id} ${String((e.metadata as { correlationId?: string }).correlationId)}`);
        return out;
      } finally {
        await ledger.close();
      }
    };
    const first = await idsOf('a', 'demo-7');
    expect(first.length).toBeGreaterThan(100);
    expect(await idsOf('b', 'demo-7')).toEqual(first);
    const other = await idsOf('c', 'demo-8');
    expect(other.filter((line, i) => line === first[i] && !line.startsWith('imp-'))).toEqual([]);
    expect(new Set(first.map((l) => l.split(' ')[0])).size).toBe(first.length);
    expect(first[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12} /);
  });
});
