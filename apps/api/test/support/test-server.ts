import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { ClosableLedger } from '../../src/app.module.js';
import { composeServer, type ServerOverrides } from '../../src/compose.js';
import type { HttpAppOptions } from '../../src/http-app.js';
import { ApiKeyStore } from '../../src/keys/api-key-store.js';
import { SCOPES, type Scope } from '../../src/keys/scopes.js';
import type { Principal } from '@access-ledger/access-model';
import { loadConfig, type ConfigOverrides, type LedgerConfig } from '@access-ledger/config';
import type { LedgerOptions } from '@access-ledger/ledger';

export interface TestServer {
  readonly app: NestFastifyApplication;
  readonly url: string;
  readonly dataDir: string;
  readonly ledger: ClosableLedger;
  readonly keys: ApiKeyStore;
  /** A key with every scope for tenant `acme`. */
  readonly key: string;
  /** A key of the tenant with these scopes, speaking for `principal` (default system). */
  newKey(tenantId: string, scopes: readonly Scope[], principal?: Principal): string;
  /** Events stored for a tenant (the integrity walk's count). */
  events(tenantId?: string): Promise<number>;
  close(options?: { keepDataDir?: boolean }): Promise<void>;
}

/**
 * A test's configuration: the environment (so KURRENTDB_URL / CLICKHOUSE_URL still choose the stores) with port 0 on
 * loopback, `dataDir`, no access log, and the test's own variables on top.
 */
export function testConfig(dataDir: string, variables: ConfigOverrides = {}): LedgerConfig {
  return loadConfig({ PORT: '0', HOST: '127.0.0.1', ACCESS_LOG: 'false', ...variables, LEDGER_DATA_DIR: dataDir });
}

/** What a test server leaves out: no bootstrap key, no lines of its own, no NestJS log. */
export const QUIET = { bootstrapKey: false, write: () => undefined, http: { logLevels: [] } } as const satisfies ServerOverrides;

/**
 * The real app on 127.0.0.1 with a fresh (or given) data directory, from the composition root: the write side, integrity,
 * operations and docs, without the read model and the access queries unless `overrides` asks for them.
 */
export async function startTestServer(
  options: Partial<Omit<HttpAppOptions, 'ledger' | 'dataDir'>> & {
    dataDir?: string;
    ledgerOptions?: Omit<LedgerOptions, 'dataDir'>;
    overrides?: ServerOverrides;
  } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'ledger-api-'));
  const { ledgerOptions, overrides, dataDir: _dataDir, ...appOptions } = options;
  const server = await composeServer(testConfig(dataDir), {
    ...QUIET,
    readSide: false,
    accessQueries: false,
    ...(ledgerOptions ? { ledgerOptions } : {}),
    ...overrides,
    http: { logLevels: [], ...appOptions },
  });
  const { app, url, ledger } = server;
  const keys = app.get(ApiKeyStore);
  const newKey = (tenantId: string, scopes: readonly Scope[], principal?: Principal): string =>
    keys.create({ tenantId, scopes, ...(principal ? { principal } : {}) }).key;
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
  return {
    type: 'CreateOrganization',
    actor: system,
    payload: { orgId, name: `Org ${orgId}`, dualSeat: false, provisioningMode: 'invite_only', usageBased: false },
  };
}
export function createGroup(groupId: string) {
  return { type: 'CreateGroup', actor: system, payload: { groupId, name: `Group ${groupId}`, source: 'manual' } };
}
