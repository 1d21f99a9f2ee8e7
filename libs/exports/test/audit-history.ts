import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { migrate, openClickHouse } from '@access-ledger/read-model';
import type { AuditRow } from '../src/audit-row.js';

/** Test data builder: a tenant's audit rows, `stepMs` apart from `start`, at consecutive positions. */
export function auditRows(o: { tenantId: string; count: number; start: string; stepMs: number; firstPosition?: number }): AuditRow[] {
  const rows: AuditRow[] = [];
  const t0 = Date.parse(o.start);
  for (let i = 0; i < o.count; i++) {
    const position = (o.firstPosition ?? 0) + i;
    const at = new Date(t0 + i * o.stepMs).toISOString();
    rows.push({
      tenant_id: o.tenantId,
      org_id: 'acme-eng',
      event_id: `${o.tenantId}-evt-${String(position).padStart(7, '0')}`,
      position,
      revision: position,
      type: i % 3 === 0 ? 'MemberAdded' : i % 3 === 1 ? 'UserAddedToGroup' : 'RoleAssignedToGroup',
      actor_kind: 'member',
      actor_org_id: 'acme-eng',
      actor_user_id: 'u-admin',
      subject: `u-${i % 97}`,
      occurred_at: at,
      recorded_at: at,
      source: 'api',
      correlation_id: `c-${i}`,
      causation_id: '',
      auth: '',
      payload: JSON.stringify({ orgId: 'acme-eng', userId: `u-${i % 97}`, groupId: 'g-eng' }),
      hash: `h${position}`.padEnd(64, '0'),
    });
  }
  return rows;
}

/** The read model's own ClickHouse (embedded chDB in a temp directory) with its migrations applied. */
export async function openTestReadModel(): Promise<{ client: ClickHouseClient; insert(rows: readonly AuditRow[]): Promise<void>; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'exports-ch-'));
  const client = openClickHouse({ dataPath: dir });
  await migrate(client);
  return {
    client,
    async insert(rows) {
      for (let i = 0; i < rows.length; i += 50_000)
        await client.insert({ table: 'audit_events', values: rows.slice(i, i + 50_000) as AuditRow[], format: 'JSONEachRow' });
    },
    async close() {
      await client.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
