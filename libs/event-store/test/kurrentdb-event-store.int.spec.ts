import { describe, expect, test } from '@jest/globals';
import { kurrentEventUuid, KurrentDbEventStore } from '../src/kurrentdb/kurrentdb-event-store.js';
import { eventStoreContract } from './event-store.contract.js';

/**
 * The same contract as SQLite, against a real KurrentDB when one is reachable:
 *   KURRENTDB_URL='kurrentdb://127.0.0.1:2113?tls=false' npm run jest -- libs/event-store
 * There is no KurrentDB (and no Docker) on the development machines, so it is skipped by default.
 */
const url = process.env['KURRENTDB_URL'];

if (url === undefined || url === '') {
  console.log('KurrentDB contract suite skipped: set KURRENTDB_URL=kurrentdb://127.0.0.1:2113?tls=false to run it');
  describe.skip('EventStore contract: kurrentdb (set KURRENTDB_URL to run)', () => {
    test.skip('contract', () => undefined);
  });
} else {
  eventStoreContract('kurrentdb', async () => ({ store: KurrentDbEventStore.connect(url) }));
}

describe('KurrentDB adapter: event ids', () => {
  test('an id maps to the same RFC 9562 UUID every time in its stream, and to another in another stream', () => {
    const mapped = kurrentEventUuid('tenant-a', 'console-import:evt_01HZX');
    expect(mapped).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(kurrentEventUuid('tenant-a', 'console-import:evt_01HZX')).toBe(mapped);
    expect(kurrentEventUuid('tenant-a', 'console-import:evt_01HZY')).not.toBe(mapped);
    expect(kurrentEventUuid('tenant-b', 'console-import:evt_01HZX')).not.toBe(mapped);
    const uuid = '0b8f5c2e-3c1a-4f7e-9a55-2d7e1f0c9b31';
    expect(kurrentEventUuid('tenant-a', uuid.toUpperCase())).toBe(kurrentEventUuid('tenant-a', uuid));
    expect(kurrentEventUuid('tenant-a', uuid)).not.toBe(kurrentEventUuid('tenant-b', uuid));
  });
});
