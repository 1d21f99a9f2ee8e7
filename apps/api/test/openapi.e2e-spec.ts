/**
 * /docs/openapi.json as tools nobody here wrote read it, fetched from a real server with every feature (read side,
 * access queries, exports): Redocly's linter and swagger-parser's validator find no error; every operation has an
 * operationId; the document's paths, methods and scopes are exactly the routes Nest serves; and the 401, 403 and
 * public answers it documents are the ones the server gives.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { ModulesContainer } from '@nestjs/core';
import { REQUIRED_SCOPE } from '../src/auth/require-scope.js';
import { composeServer, type ComposedServer } from '../src/compose.js';
import { ApiKeyStore } from '../src/keys/api-key-store.js';
import { SCOPES, type Scope } from '../src/keys/scopes.js';
import { REPORTS } from '../src/read-model/reports.js';
import { QUIET, testConfig } from './support/test-server.js';

type Operation = {
  operationId?: string;
  security?: { apiKey?: string[] }[];
  'x-required-scope'?: string;
  responses: Record<string, unknown>;
};
type Document = { paths: Record<string, Record<string, Operation>> };

let server: ComposedServer;
let dataDir: string;
let doc: Document;
let keys: ApiKeyStore;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'openapi-'));
  server = await composeServer(testConfig(dataDir), QUIET);
  keys = server.app.get(ApiKeyStore);
  const res = await fetch(`${server.url}/docs/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as Document;
});
afterAll(async () => {
  await server?.app.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const operations = () => Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })));

describe('standard tools accept the document', () => {
  test('redocly lint: no error, and no operation without an operationId', () => {
    const file = join(dataDir, 'openapi.json');
    writeFileSync(file, JSON.stringify(doc));
    const run = spawnSync(join(process.cwd(), 'node_modules/.bin/redocly'), ['lint', '--format=json', file], {
      encoding: 'utf8',
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    });
    const report = JSON.parse(run.stdout) as { problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[] };
    const shown = (severity: string, ruleIds?: string[]) =>
      report.problems
        .filter((p) => p.severity === severity && (!ruleIds || ruleIds.includes(p.ruleId)))
        .map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`);
    expect(shown('error')).toEqual([]);
    expect(shown('warn', ['operation-operationId', 'operation-operationId-unique', 'operation-operationId-url-safe', 'no-empty-servers'])).toEqual([]);
    // The public probes cannot answer a 4xx: the one warning of this rule left is for them.
    expect(shown('warn', ['operation-4xx-response'])).toEqual([
      'operation-4xx-response: Operation must have at least one `4XX` response. at #/paths/~1health/get/responses',
      'operation-4xx-response: Operation must have at least one `4XX` response. at #/paths/~1ready/get/responses',
    ]);
    expect(run.status).toBe(0);
  });

  test('swagger-parser validates it', async () => {
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
  });

  test('every operation has a unique operationId', () => {
    const ids = operations().map(({ op }) => op.operationId);
    expect(ids.filter((id) => !id)).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

/** Every route Nest serves: `METHOD /path/{param}` and the scope its handler requires. */
function servedRoutes(): Map<string, Scope | undefined> {
  const routes = new Map<string, Scope | undefined>();
  for (const module of server.app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as { prototype: Record<string, unknown> } | null;
      if (!controller) continue;
      const prefix = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const handler = controller.prototype[name];
        if (typeof handler !== 'function' || Reflect.getMetadata(METHOD_METADATA, handler) === undefined) continue;
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number]!;
        const path = `/${prefix}/${String(Reflect.getMetadata(PATH_METADATA, handler))}`
          .replace(/\/+/g, '/')
          .replace(/(.)\/$/, '$1')
          .replace(/::/g, '%3A') // Fastify's literal colon (`events::import`)
          .replace(/:([A-Za-z]+)/g, '{$1}')
          .replace(/%3A/g, ':');
        routes.set(`${method} ${path}`, Reflect.getMetadata(REQUIRED_SCOPE, handler) as Scope | undefined);
      }
    }
  }
  return routes;
}

/** The document's operations with the report paths folded into the one route that serves them all. */
function documentedRoutes(): Map<string, string | undefined> {
  const routes = new Map<string, string | undefined>();
  for (const { path, method, op } of operations()) {
    const route = path.replace(/\/reports\/[a-z-]+$/, '/reports/{report}');
    const scopes = (op.security ?? []).flatMap((s) => s.apiKey ?? []);
    expect(scopes).toEqual(op['x-required-scope'] ? [op['x-required-scope']] : []);
    routes.set(`${method.toUpperCase()} ${route}`, op['x-required-scope']);
  }
  return routes;
}

describe('the document is the routes Nest serves', () => {
  test('the same routes, each with the same scope (none on the public ones)', () => {
    const served = servedRoutes();
    expect(served.size).toBeGreaterThanOrEqual(15);
    expect(Object.fromEntries([...documentedRoutes()].sort())).toEqual(Object.fromEntries([...served].sort()));
  });

  test('one documented path per report of the catalog', () => {
    const documented = Object.keys(doc.paths).flatMap((p) => /\/reports\/([a-z-]+)$/.exec(p)?.[1] ?? []);
    expect(documented.sort()).toEqual(REPORTS.map((r) => r.name).sort());
  });

  test('the server answers what the document says: 401 without a key, 403 without the scope, the public routes 200', async () => {
    const filled = (path: string) => path.replace('{tenantId}', 'acme').replace('{orgId}', 'org-1').replace('{userId}', 'u-1').replace('{exportId}', 'x-1');
    for (const { path, method, op } of operations()) {
      const url = `${server.url}${filled(path)}`;
      const scope = op['x-required-scope'] as Scope | undefined;
      const send = (key?: string) =>
        fetch(url, {
          method: method.toUpperCase(),
          headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(method === 'post' ? { 'content-type': 'application/json' } : {}) },
          ...(method === 'post' ? { body: '{}' } : {}),
        });
      if (!scope) {
        const res = await send();
        expect(`${method} ${path} ${res.status}`).toBe(`${method} ${path} 200`);
        continue;
      }
      const anonymous = await send();
      expect(`${method} ${path} ${anonymous.status}`).toBe(`${method} ${path} 401`);
      const other = SCOPES.filter((s) => s !== scope);
      const forbidden = await send(keys.create({ tenantId: 'acme', scopes: other }).key);
      expect(`${method} ${path} ${forbidden.status}`).toBe(`${method} ${path} 403`);
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403', '429']));
      expect(Object.keys(op.responses).filter((status) => status.startsWith('2'))).toHaveLength(1);
    }
  });
});
