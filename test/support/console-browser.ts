/**
 * The web console's end-to-end setup, shared by test/console.e2e-spec.ts and bench/console.bench.ts: the demo data as
 * `ledger demo` seeds it, served by the real server (composeServer), and Debian's Chromium driven by playwright-core.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@access-ledger/config';
import { demoHistory, generateHistory } from '@access-ledger/history';
import { createLedger, seedHistory } from '@access-ledger/ledger';
import type { Browser } from 'playwright-core';
import { composeServer, type ComposedServer } from '../../apps/api/src/compose.js';
import { ApiKeyStore } from '../../apps/api/src/keys/api-key-store.js';

export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser suites cannot run here, or undefined when they can. */
export function chromiumMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  return `${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium; .ci/run does) to run the console's browser tests`;
}

/** Headless, and without the background connections a closed network refuses. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface DemoServer {
  readonly server: ComposedServer;
  readonly dataDir: string;
  /** A key of tenant demo with access:read and audit:read (what an analyst needs), and its id. */
  readonly key: string;
  readonly keyId: string;
  readonly keys: ApiKeyStore;
  api<T>(path: string, key?: string): Promise<T>;
  apiText(path: string): Promise<string>;
}

/** Seeds tenant demo as `ledger demo` does (the demo preset), serves it, and waits until the read model holds it all. */
export async function startDemoServer(variables: Record<string, string> = {}): Promise<DemoServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'console-'));
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LEDGER_DATA_DIR: dataDir, ACCESS_LOG: 'false', RATE_LIMIT_ANON_PER_SECOND: '0', ...variables });
  const seeding = await createLedger({ dataDir, verifyWholeChains: false });
  try {
    await seedHistory(seeding.store, 'demo', generateHistory(demoHistory));
    await seeding.runner.catchUp();
  } finally {
    await seeding.close();
  }
  const server = await composeServer(config, { bootstrapKey: false, write: () => undefined, http: { logLevels: [] } });
  const keys = server.app.get(ApiKeyStore);
  const created = keys.create({ tenantId: 'demo', scopes: ['access:read', 'audit:read', 'exports:write'], name: 'analyst' });
  const api = async <T>(path: string, key = created.key): Promise<T> => {
    const res = await fetch(`${server.url}/v1/tenants/demo${path}`, { headers: { authorization: `Bearer ${key}` } });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  // The whole history in the read model before any audit or report question.
  for (let tries = 0; ; tries++) {
    const ready = (await (await fetch(`${server.url}/ready`)).json()) as { readModelLag?: Record<string, number> };
    if (ready.readModelLag && Object.values(ready.readModelLag).every((lag) => lag === 0)) break;
    if (tries > 600) throw new Error(`the read model did not catch up: ${JSON.stringify(ready)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    server,
    dataDir,
    key: created.key,
    keyId: created.id,
    keys,
    api,
    apiText: async (path) => {
      const res = await fetch(`${server.url}/v1/tenants/demo${path}`, { headers: { authorization: `Bearer ${created.key}` } });
      if (!res.ok) throw new Error(`${path}: ${res.status}`);
      return res.text();
    },
  };
}
