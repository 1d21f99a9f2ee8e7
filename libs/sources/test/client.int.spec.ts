import { afterEach, describe, expect, test } from '@jest/globals';
import { ComplianceApiClient, type FakeComplianceApi, SourceUnavailableError, retryAfterMs, startFakeComplianceApi } from '../src/index.js';

const KEY = 'sk-ant-api01-client';
const fakes: FakeComplianceApi[] = [];
afterEach(async () => {
  for (const f of fakes.splice(0)) await f.close();
});

async function fake() {
  const f = await startFakeComplianceApi({ keys: { [KEY]: ['read:compliance_activities'] } });
  fakes.push(f);
  f.add([{ id: 'activity_1', created_at: '2026-01-01T00:00:00Z', type: 'claude_chat_created' }]);
  return f;
}

describe('ComplianceApiClient retries', () => {
  test('Retry-After (seconds or an HTTP date) is honoured; without it, exponential backoff with full jitter', async () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(new Date(Date.now() + 3000).toUTCString())).toBeGreaterThan(1000);
    const api = await fake();
    api.fail({ status: 429, retryAfter: '2' }, { status: 502 }, { status: 503 });
    const waits: number[] = [];
    const client = new ComplianceApiClient({ baseUrl: api.url, apiKey: KEY, sleep: async (ms) => void waits.push(ms), random: () => 0.5, backoffMs: 100 });
    const page = await client.page(null, 10);
    expect(page.activities).toHaveLength(1);
    // 429 with Retry-After: 2 s; then 5xx without: 0.5 × 100 × 2^1, 0.5 × 100 × 2^2.
    expect(waits).toEqual([2000, 100, 200]);
  });

  test('gives up after maxRetries with SourceUnavailableError, never naming the key', async () => {
    const api = await fake();
    api.fail({ status: 500 }, { status: 500 }, { status: 500 });
    const client = new ComplianceApiClient({ baseUrl: api.url, apiKey: KEY, sleep: async () => {}, maxRetries: 2 });
    const error = await client.page(null, 10).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect((error as Error).message).toMatch(/500 after 3 attempts/);
    expect((error as Error).message).not.toContain(KEY);
  });
});
