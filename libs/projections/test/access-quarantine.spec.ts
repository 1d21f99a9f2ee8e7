/** The access projection's quarantine file, across starts without a snapshot. */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { internKey, UPCASTERS } from '@access-ledger/access-model';
import { AccessProjection } from '../src/access-projection.js';
import { accessQuarantinePath } from '../src/access-quarantine.js';
import { event, recorded } from './access-intervals-fixture.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'access-quarantine-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const orgCreated = (tenantId: string, position: number) =>
  recorded(
    event(
      position,
      'OrganizationCreated',
      '2026-01-01T00:00:00.000Z',
      { orgId: 'org', name: 'Org', dualSeat: false, usageBased: false, provisioningMode: 'invite_only' },
      tenantId,
    ),
  );
/** A data shape of schema version 0 (no upcaster in this build). */
const oldConnector = (tenantId: string, position: number) => {
  const e = recorded(event(position, 'ConnectorAdded', '2026-01-02T00:00:00.000Z', { orgId: 'org', connectorId: 'c', name: 'C', tools: ['search'] }, tenantId));
  return { ...e, revision: 1, metadata: { ...e.metadata, schemaVersion: 0 } };
};

describe('access projection quarantine', () => {
  test('held in the file; a start that folds it again after a fix releases it; the other tenant never waited', () => {
    const snapshot = join(dir, 'projections', 'access.snapshot');
    const path = accessQuarantinePath(dir);
    const first = AccessProjection.load(snapshot, path);
    for (const e of [orgCreated('a', 0), oldConnector('a', 1), { ...orgCreated('b', 2), revision: 0 }]) first.apply(e);
    expect(first.position).toBe(2);
    expect(first.quarantine.byTenant()).toEqual({ a: 1 });
    expect(first.tenant('a')!.revision).toBe(1); // a reader waiting for the tenant's revision is not left waiting
    expect(first.factsOf('b').written(internKey.org('org'))).toBe(true);

    // No snapshot was taken (a crash): the next start folds everything again, from the file's record.
    expect(AccessProjection.load(snapshot, path).quarantine.count).toBe(1);
    UPCASTERS.ConnectorAdded = { 0: (data) => data };
    try {
      const second = AccessProjection.load(snapshot, path);
      for (const e of [orgCreated('a', 0), oldConnector('a', 1)]) second.apply(e);
      expect(second.quarantine.count).toBe(0);
      expect(second.factsOf('a').written(internKey.tool('org', 'c', 'search'))).toBe(true);
    } finally {
      delete UPCASTERS.ConnectorAdded;
    }
    expect(AccessProjection.load(snapshot, path).quarantine.count).toBe(0);
    expect(
      readFileSync(path, 'utf8')
        .trim()
        .split('\n')
        .map((l) => Object.keys(JSON.parse(l) as object)[0]),
    ).toEqual(['held', 'released']);
  });
});
