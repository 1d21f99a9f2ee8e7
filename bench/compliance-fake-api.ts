import { startFakeComplianceApi } from '@access-ledger/sources';
import { complianceHistory } from './compliance-history.js';

/**
 * The fake Compliance API of the compliance-source benchmark, in a process of its own (forked by the bench): serving
 * the feed (JSON of 1 000 activities a page) then runs on the other core instead of sharing the bench's event loop
 * with the client, the sync and the store, as a real API would. Sends `{ url }` once listening; answers `cpu` with
 * its CPU time (so the bench counts it), and ends on `close`.
 */
const n = Number(process.env.ACTIVITIES ?? 1_000_000);
const key = process.env.FAKE_API_KEY ?? '';
const api = await startFakeComplianceApi({ keys: { [key]: ['read:compliance_activities'] } });
api.add(complianceHistory(n));
process.on('message', async (message: string) => {
  if (message === 'cpu') process.send!({ cpu: process.cpuUsage() });
  if (message === 'close') {
    await api.close();
    process.disconnect();
  }
});
process.send!({ url: api.url });
