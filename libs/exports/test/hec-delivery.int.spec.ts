import { afterEach, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHecReceiver, type HecReceiver, type HecReceiverOptions } from '../../../test/support/hec-receiver.js';
import { auditRows, openTestReadModel } from './audit-history.js';
import { ClickHouseAuditTable } from '../src/clickhouse-audit-table.js';
import { HecSinkConfig, type HecSinkConfigInput } from '../src/config.js';
import type { DeadLetter } from '../src/hec/dead-letter.js';
import { HecDelivery } from '../src/hec/hec-delivery.js';
import { exportToHec } from '../src/hec/hec-export.js';
import { toHecEvent } from '../src/hec/hec-event.js';

const TOKEN = '11111111-2222-3333-4444-555555555555';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function receiver(options: Partial<HecReceiverOptions> = {}): Promise<HecReceiver> {
  const r = await startHecReceiver({ token: TOKEN, indexes: ['main', 'audit'], ...options });
  cleanups.push(() => r.stop());
  return r;
}

function delivery(r: HecReceiver, over: Partial<HecSinkConfigInput> = {}, checkpoints: number[] = []): HecDelivery {
  const config = HecSinkConfig.parse({
    kind: 'splunk',
    url: r.url,
    token: TOKEN,
    index: 'audit',
    maxBatchBytes: 16 * 1024,
    requestTimeoutMs: 2000,
    ackPollIntervalMs: 20,
    ackTimeoutMs: 400,
    retry: { baseDelayMs: 1, maxDelayMs: 20, maxAttempts: 8 },
    ...over,
  });
  const d = new HecDelivery(config, { onCheckpoint: (p) => void checkpoints.push(p) });
  cleanups.push(() => d.close());
  return d;
}

const rows = auditRows({ tenantId: 'acme', count: 600, start: '2026-03-01T09:00:00.000Z', stepMs: 1500 });
const allIds = rows.map((r) => r.event_id);

function expectAtLeastOnce(r: HecReceiver, ids: readonly string[]): { duplicates: number } {
  const arrivals = r.arrivals();
  const missing = ids.filter((id) => !arrivals.has(id));
  expect(missing).toEqual([]);
  let duplicates = 0;
  for (const n of arrivals.values()) duplicates += n - 1;
  return { duplicates };
}

describe('Splunk HEC delivery against a strict local receiver', () => {
  test('gzip batches bounded by size, Splunk auth header, event time from occurredAt, fields configurable, exactly once without faults', async () => {
    const r = await receiver({ ack: true });
    const checkpoints: number[] = [];
    const d = delivery(r, { ack: true, host: 'ledger-1', source: 'ledger', sourcetype: 'ledger:audit' }, checkpoints);
    await d.preflight();
    for (const row of rows) await d.add(row);
    await d.flush();
    expect(expectAtLeastOnce(r, allIds).duplicates).toBe(0);
    const eventRequests = r.requests.filter((q) => q.path === '/services/collector/event' && q.events > 0);
    expect(eventRequests.length).toBeGreaterThan(5);
    expect(eventRequests.every((q) => q.gzip && q.status === 200 && q.channel !== undefined)).toBe(true);
    const first = r.events[0]!;
    expect(first).toMatchObject({
      time: Date.parse('2026-03-01T09:00:00.000Z') / 1000,
      index: 'audit',
      source: 'ledger',
      sourcetype: 'ledger:audit',
      host: 'ledger-1',
    });
    expect(first.event).toMatchObject({ event_id: 'acme-evt-0000000', position: 0, tenant_id: 'acme', payload: { orgId: 'acme-eng' } });
    expect(r.events[1]!.time).toBe(Date.parse('2026-03-01T09:00:01.500Z') / 1000);
    expect(checkpoints.at(-1)).toBe(599);
    expect(checkpoints).toEqual([...checkpoints].sort((a, b) => a - b));
    expect(d.stats).toMatchObject({ received: 600, delivered: 600, deadLettered: 0, checkpoint: 599 });
  });

  test('bursts of 503 and 429, dropped connections, slow answers, lost and slow acks: every event arrives at least once, duplicates are rare and named by event_id', async () => {
    const r = await receiver({ ack: true, ackDelayMs: 30 });
    const checkpoints: number[] = [];
    const d = delivery(r, { ack: true, requestTimeoutMs: 300 }, checkpoints);
    await d.preflight();
    const faults: ((r: HecReceiver) => void)[] = [
      (x) => x.failNext(4, 503),
      (x) => x.failNext(3, 429),
      (x) => x.failNext(2, 500),
      (x) => x.dropNext(2),
      (x) => x.dropNext(1, { afterIndexing: true }),
      (x) => x.delayNext(1, 800), // indexed, answered after the client gave up: a resend duplicates it
      (x) => x.loseNextAcks(2),
      (x) => x.setAckDelay(150),
    ];
    for (let i = 0; i < rows.length; i++) {
      if (i % 60 === 0 && faults.length) faults.shift()!(r);
      await d.add(rows[i]!);
    }
    await d.flush();
    const { duplicates } = expectAtLeastOnce(r, allIds);
    // Duplicates come only from requests indexed but not confirmed: the drop after indexing, the slow answer, the lost acks.
    expect(duplicates).toBeGreaterThan(0);
    expect(duplicates).toBeLessThan(rows.length * 0.25);
    expect(d.stats.retries).toBeGreaterThanOrEqual(4 + 3 + 2 + 2 + 1 + 1);
    expect(d.stats.resentAfterAckTimeout).toBeGreaterThan(0);
    expect(checkpoints.at(-1)).toBe(599);
    expect(checkpoints).toEqual([...checkpoints].sort((a, b) => a - b));
  });

  test('events Splunk rejects as bad data go to the dead-letter file with the reason; the rest continue (invalid-event-number and blind bisection)', async () => {
    for (const reportInvalidEventNumber of [true, false]) {
      const dir = mkdtempSync(join(tmpdir(), 'hec-dl-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const r = await receiver({ reportInvalidEventNumber });
      const bad = new Set(['acme-evt-0000007', 'acme-evt-0000123', 'acme-evt-0000124', 'acme-evt-0000599']);
      r.rejectWhen((e) => bad.has(String(e['event_id'])));
      const checkpoints: number[] = [];
      const d = delivery(r, { deadLetterPath: join(dir, 'dead.ndjson') }, checkpoints);
      for (const row of rows) await d.add(row);
      await d.flush();
      const good = allIds.filter((id) => !bad.has(id));
      expectAtLeastOnce(r, good);
      expect([...r.arrivals().keys()].filter((id) => bad.has(id))).toEqual([]);
      const letters = readFileSync(join(dir, 'dead.ndjson'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as DeadLetter);
      expect(letters.map((l) => l.eventId).sort()).toEqual([...bad].sort());
      expect(letters[0]).toMatchObject({ code: 6, reason: 'HTTP 400 code 6 "Invalid data format"', event: { event: { event_id: letters[0]!.eventId } } });
      expect(checkpoints.at(-1)).toBe(599);
      expect(d.stats.deadLettered).toBe(4);
    }
  });

  test('batches are also bounded by time: a partial batch waits maxBatchDelayMs, then goes', async () => {
    const r = await receiver();
    const d = delivery(r, { maxBatchDelayMs: 100 });
    for (const row of rows.slice(0, 3)) await d.add(row);
    await d.tick();
    expect(r.events).toHaveLength(0);
    await new Promise((res) => setTimeout(res, 120));
    await d.tick();
    expect(r.events).toHaveLength(3);
    expect(d.stats.checkpoint).toBe(2);
  });

  test('a wrong token fails fast with a clear message and moves no checkpoint', async () => {
    const r = await receiver();
    const checkpoints: number[] = [];
    const d = delivery(r, { token: 'wrong-token' }, checkpoints);
    await expect(d.preflight()).rejects.toMatchObject({
      name: 'SinkConfigurationError',
      message: `Splunk refused the HEC token (HTTP 403 code 4 "Invalid token"): check the token and that it is enabled (${r.url})`,
    });
    expect(checkpoints).toEqual([]);
    expect(r.events).toHaveLength(0);
  });

  test('an unknown index fails at the first batch with a clear message and moves no checkpoint', async () => {
    const r = await receiver();
    const checkpoints: number[] = [];
    const d = delivery(r, { index: 'no-such-index' }, checkpoints);
    await d.preflight();
    await expect(
      (async () => {
        for (const row of rows) await d.add(row);
        await d.flush();
      })(),
    ).rejects.toMatchObject({
      name: 'SinkConfigurationError',
      message: expect.stringContaining('Splunk refused the index (HTTP 400 code 7 "Incorrect index")'),
    });
    expect(checkpoints).toEqual([]);
  });

  test('ack enabled in the sink but disabled on the token fails fast', async () => {
    const r = await receiver({ ack: false });
    const d = delivery(r, { ack: true });
    await expect(d.preflight()).rejects.toMatchObject({ name: 'SinkConfigurationError', message: expect.stringContaining('code 14 "ACK is disabled"') });
  });

  test('ClickHouse encodes exactly the HEC event Node would (tabs, newlines, quotes, unicode, a non-JSON payload)', async () => {
    const rm = await openTestReadModel();
    cleanups.push(() => rm.close());
    const odd = auditRows({ tenantId: 'odd', count: 4, start: '2026-03-01T09:00:00.123Z', stepMs: 1001 }).map((r, i) => ({
      ...r,
      subject: ['tab\there', 'new\nline', 'quote " and \\ backslash', 'ünïcødé ✓ 𝄞'][i]!,
      payload: i === 3 ? 'not json {' : JSON.stringify({ note: 'x\ty\n"z"', n: i, nested: { deep: [1, 2, { a: null }] } }),
    }));
    await rm.insert(odd);
    const table = new ClickHouseAuditTable(rm.client);
    const q = { tenantId: 'odd', from: '2026-03-01T00:00:00.000Z', to: '2026-03-02T00:00:00.000Z', upToPosition: 10, after: null, limit: 10 };
    for (const envelope of [
      { source: 's', sourcetype: 'st' },
      { source: 's', sourcetype: 'st', host: 'h"1', index: 'audit' },
    ]) {
      const encoded = await table.readRangeEncoded(q, envelope);
      const rowsBack = await table.readRangePage(q);
      expect(encoded.map((e) => JSON.parse(e.line))).toEqual(rowsBack.map((r) => toHecEvent(r, envelope)));
      expect(encoded.map((e) => [e.eventId, e.position, e.occurredAt])).toEqual(odd.map((r) => [r.event_id, r.position, r.occurred_at]));
    }
  });

  test('checkpoint resumption after a crash loses nothing (rows read from ClickHouse)', async () => {
    const rm = await openTestReadModel();
    cleanups.push(() => rm.close());
    await rm.insert(rows);
    const table = new ClickHouseAuditTable(rm.client);
    const r = await receiver({ ack: true, ackDelayMs: 10 });
    const persisted: number[] = [];
    const input = { tenantId: 'acme', after: null, upToPosition: 599, from: '2026-03-01T00:00:00.000Z', to: '2026-03-02T00:00:00.000Z' };

    // The first run dies: after ~200 events the receiver refuses everything and acks stop coming.
    const first = delivery(r, { ack: true, retry: { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 3 } }, persisted);
    const crashed = exportToHec(table, first, input, {
      pageSize: 100,
      onProgress: (p) => {
        if (p.read >= 200) {
          r.loseNextAcks(1000);
          r.failNext(1000, 503);
        }
      },
    });
    await expect(crashed).rejects.toMatchObject({ name: 'SinkUnavailableError' });
    const saved = persisted.at(-1) ?? -1; // what a job store would have persisted
    const cursor = first.stats.cursor;
    expect(saved).toBeGreaterThanOrEqual(0);
    expect(saved).toBeLessThan(599);

    // Restart: a new client (new channel) resumes after the persisted checkpoint.
    r.failNext(0);
    r.loseNextAcks(0);
    const second = delivery(r, { ack: true });
    const done = await exportToHec(table, second, { ...input, after: cursor });
    expect(done.cursor).toEqual({ occurredAt: rows[599]!.occurred_at, position: 599 });
    expect(r.events.at(-1)!.event).toMatchObject({ event_id: 'acme-evt-0000599', position: 599, payload: { orgId: 'acme-eng' } });
    const { duplicates } = expectAtLeastOnce(r, allIds);
    // Duplicates are at most what was sent but not acknowledged before the crash.
    expect(duplicates).toBeLessThanOrEqual(600 - (saved + 1));
  });
});
