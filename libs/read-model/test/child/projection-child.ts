/**
 * Child process for the crash test: projects a synthetic history of EVENTS events into chDB at DATA_PATH.
 * With CRASH_AFTER_BATCH=k it SIGKILLs itself right after the k-th batch's insert, before its checkpoint.
 */
import { openClickHouse } from '../../src/clickhouse.js';
import { AuditProjection } from '../../src/ingestion/audit-projection.js';
import { migrate } from '../../src/schema/migrations.js';
import { syntheticEvents } from '../synthetic-history.js';

const count = Number(process.env.EVENTS ?? '1000');
const crashAfter = Number(process.env.CRASH_AFTER_BATCH ?? '0');
const client = openClickHouse({ url: '', dataPath: process.env.DATA_PATH });
await migrate(client);
let batches = 0;
const projection = new AuditProjection({
  client,
  source: (after) => syntheticEvents(count, after),
  maxBatchSize: Number(process.env.BATCH_SIZE ?? '100'),
  afterInsert: ({ first, last }) => {
    if (++batches === crashAfter) {
      process.stdout.write(`inserted ${first}-${last}, dying before the checkpoint\n`);
      process.kill(process.pid, 'SIGKILL');
    }
  },
});
await projection.run();
process.stdout.write(`done: checkpoint ${projection.metrics.checkpoint}\n`);
await client.close();
