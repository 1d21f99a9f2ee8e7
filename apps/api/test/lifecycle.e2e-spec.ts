import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Gauge, Registry } from 'prom-client';
import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { ApiKeyGuard } from '../src/auth/api-key.guard.js';
import { RequireScope } from '../src/auth/require-scope.js';
import { ApiKeyStore } from '../src/keys/api-key-store.js';
import { ensureBootstrapKey } from '../src/keys/bootstrap-key.js';
import { SCOPES } from '../src/keys/scopes.js';
import { openApiDatabase } from '../src/storage/api-database.js';
import { createGroup, createOrg, post, startTestServer } from './support/test-server.js';

const dirs: string[] = [];
const freshDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-api-life-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('bootstrap key', () => {
  it('a fresh data directory gets one key with every scope for tenant demo, written with mode 0600', async () => {
    const dataDir = freshDir();
    const db = openApiDatabase(dataDir);
    const store = new ApiKeyStore(db);
    const key = ensureBootstrapKey(store, dataDir);
    expect(key).not.toBeNull();
    const file = join(dataDir, 'bootstrap-key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toBe(key!.key);
    expect(store.authenticate(key!.key)).toEqual(expect.objectContaining({ tenantId: 'demo', scopes: [...SCOPES].sort() }));
    expect(ensureBootstrapKey(store, dataDir)).toBeNull(); // not a fresh directory any more
    db.close();

    const server = await startTestServer({ dataDir });
    const response = await post(`${server.url}/v1/tenants/demo/commands`, key!.key, createOrg('demo-org'));
    expect(response.status).toBe(201);
    await server.close();
  });
});

describe('idempotency across a restart', () => {
  it('the same key after a restart returns the first answer and appends nothing', async () => {
    const dataDir = freshDir();
    const first = await startTestServer({ dataDir });
    const command = { ...createOrg('acme-eng'), idempotencyKey: 'restart-1' };
    const answer = await post(`${first.url}/v1/tenants/acme/commands`, first.key, command);
    expect(answer.status).toBe(201);
    const body = await answer.json();
    const key = first.key;
    await first.close({ keepDataDir: true });

    const second = await startTestServer({ dataDir });
    const before = await second.events();
    const replay = await post(`${second.url}/v1/tenants/acme/commands`, key, command);
    expect(replay.status).toBe(201);
    expect(await replay.json()).toEqual(body);
    expect(await second.events()).toBe(before);
    await second.close({ keepDataDir: true });
  });
});

describe('rate limit', () => {
  it('answers 429 problem+json with Retry-After once a key has used its burst', async () => {
    const server = await startTestServer({ rateLimit: { perSecond: 1, burst: 3 } });
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 5; i++) {
      const response = await post(`${server.url}/v1/tenants/acme/commands`, server.key, createGroup(`g-${i}`));
      statuses.push(response.status);
      if (response.status === 429) limited = response;
    }
    expect(statuses.slice(0, 3)).toEqual([201, 201, 201]);
    expect(statuses.slice(3)).toEqual([429, 429]);
    expect(limited!.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Another key has its own bucket.
    expect((await post(`${server.url}/v1/tenants/acme/commands`, server.newKey('acme', ['commands:write']), createGroup('g-other'))).status).toBe(201);
    await server.close();
  });
});

describe('graceful shutdown', () => {
  it('close() stops accepting, finishes the in-flight command, then closes the stores', async () => {
    const server = await startTestServer();
    const execute = server.ledger.executeCommand.bind(server.ledger);
    let entered!: () => void;
    const inFlight = new Promise<void>((r) => (entered = r));
    // Hold the command inside the ledger long enough for the shutdown to begin around it.
    server.ledger.executeCommand = async (...args) => {
      entered();
      await new Promise((r) => setTimeout(r, 300));
      return execute(...args);
    };
    const response = post(`${server.url}/v1/tenants/acme/commands`, server.key, createOrg('acme-late'));
    await inFlight;
    const started = Date.now();
    const closed = server.close({ keepDataDir: true });
    await new Promise((r) => setTimeout(r, 50));
    await expect(fetch(`${server.url}/health`)).rejects.toThrow(); // no longer accepting
    const answer = await response;
    expect(answer.status).toBe(201);
    expect(answer.headers.get('connection')).toBe('close');
    await closed;
    expect(Date.now() - started).toBeLessThan(5000); // not held open by the keep-alive socket
    const reopened = await startTestServer({ dataDir: server.dataDir });
    expect(await reopened.events()).toBe(1);
    await reopened.close();
  });
});

@Controller('v1/tenants/:tenantId')
@UseGuards(ApiKeyGuard)
class EchoTenantController {
  @Get('echo')
  @RequireScope('access:read')
  echo(@Param('tenantId') tenantId: string): { tenantId: string } {
    return { tenantId };
  }
}

describe('more routes', () => {
  it('a controller passed to AppModule.forRoot gets the same auth, scopes and /docs entry', async () => {
    const server = await startTestServer({
      controllers: [EchoTenantController],
      schemas: { paths: { '/v1/tenants/{tenantId}/echo': { get: { summary: 'Echo', responses: {} } } } },
    });
    const get = (key: string | undefined, tenant = 'acme') =>
      fetch(`${server.url}/v1/tenants/${tenant}/echo`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
    expect(await (await get(server.newKey('acme', ['access:read']))).json()).toEqual({ tenantId: 'acme' });
    expect((await get(undefined)).status).toBe(401);
    expect((await get(server.newKey('acme', ['commands:write']))).status).toBe(403);
    expect((await get(server.key, 'globex')).status).toBe(403);
    const doc = (await (await fetch(`${server.url}/docs/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.paths['/v1/tenants/{tenantId}/echo']).toBeDefined();
    expect(doc.components.schemas.CommandBody).toBeDefined();
    await server.close();
  });
});

describe('shared metrics registry', () => {
  it('series others register on the Registry passed to the app appear on /metrics', async () => {
    const registry = new Registry();
    new Gauge({ name: 'read_model_rows', help: 'rows in the read model', registers: [registry] }).set(42);
    const server = await startTestServer({ registry });
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/^read_model_rows 42$/m);
    expect(text).toContain('ledger_http_request_duration_seconds');
    await server.close();
  });
});

describe('readiness', () => {
  it('/ready answers 503 problem+json when the ledger reports a store unreachable', async () => {
    const server = await startTestServer();
    const health = server.ledger.health.bind(server.ledger);
    // A read-model outage, as the ledger would report it.
    server.ledger.health = async () => ({ ...(await health()), readModel: false, detail: 'clickhouse: connection refused' });
    const response = await fetch(`${server.url}/ready`);
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await response.json()) as { detail: string }).detail).toMatch(/read model/);
    server.ledger.health = health;
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    await server.close();
  });
});
