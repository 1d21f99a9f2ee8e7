import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { ClosableLedger } from '../../src/app.module.js';
import { createHttpApp, type HttpAppOptions } from '../../src/http-app.js';
import { ApiKeyStore } from '../../src/keys/api-key-store.js';
import { SCOPES, type Scope } from '../../src/keys/scopes.js';
import type { Principal } from '@access-ledger/access-model';
import { createLedger, type LedgerOptions } from '@access-ledger/ledger';

export interface TestServer {
  readonly app: NestFastifyApplication;
  readonly url: string;
  readonly dataDir: string;
  readonly ledger: ClosableLedger;
  readonly keys: ApiKeyStore;
  /** A key with every scope for tenant `acme`. */
  readonly key: string;
  /** A key of the tenant with these scopes, speaking for `principal` (default system, issue 16 item 1). */
  newKey(tenantId: string, scopes: readonly Scope[], principal?: Principal): string;
  /** Events stored for a tenant (the integrity walk's count). */
  events(tenantId?: string): Promise<number>;
  close(options?: { keepDataDir?: boolean }): Promise<void>;
}

/** The real Ledger (embedded stores) on a data directory. */
export async function openLedger(dataDir: string, options: Omit<LedgerOptions, 'dataDir'> = {}): Promise<ClosableLedger> {
  return createLedger({ ...options, dataDir });
}

/** The real app on 127.0.0.1 with a fresh (or given) data directory. */
export async function startTestServer(
  options: Partial<Omit<HttpAppOptions, 'ledger' | 'dataDir'>> & { dataDir?: string; ledgerOptions?: Omit<LedgerOptions, 'dataDir'> } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'ledger-api-'));
  const { ledgerOptions, ...appOptions } = options;
  const ledger = await openLedger(dataDir, ledgerOptions);
  const app = await createHttpApp({ ...appOptions, ledger, dataDir, logLevels: options.logLevels ?? [] });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const keys = app.get(ApiKeyStore);
  const newKey = (tenantId: string, scopes: readonly Scope[], principal?: Principal): string => keys.create({ tenantId, scopes, ...(principal ? { principal } : {}) }).key;
  return {
    app,
    url,
    dataDir,
    ledger,
    keys,
    key: newKey('acme', SCOPES),
    newKey,
    events: async (tenantId = 'acme') => (await ledger.integrity(tenantId)).events,
    close: async ({ keepDataDir = false } = {}) => {
      await app.close();
      if (!keepDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function post(url: string, key: string | undefined, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export const system = { kind: 'system' } as const;
export const platform = { kind: 'platform' } as const;

export function createOrg(orgId: string) {
  return { type: 'CreateOrganization', actor: system, payload: { orgId, name: `Org ${orgId}`, dualSeat: false, provisioningMode: 'invite_only', usageBased: false } };
}
export function createGroup(groupId: string) {
  return { type: 'CreateGroup', actor: system, payload: { groupId, name: `Group ${groupId}`, source: 'manual' } };
}
