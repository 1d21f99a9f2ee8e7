// Appends batches to a SQLite event store from a separate process and prints `ack <batch>` after each
// append resolved (stdout to a pipe is synchronous on Linux, so a printed ack is never lost to a kill).
// Runs the compiled adapter from dist/ (`npm test` builds first).
// Usage: node append-child.mjs <db path> <stream> <batch size> <batches | "forever">
import { SqliteEventStore } from '../../../dist/libs/event-store/src/sqlite/sqlite-event-store.js';

const [path, stream, sizeArg, countArg] = process.argv.slice(2);
const size = Number(sizeArg);
const count = countArg === 'forever' ? Number.POSITIVE_INFINITY : Number(countArg);
const store = SqliteEventStore.open(path);
const pid = process.pid;

let expectedRevision = 'any';
for (let batch = 0; batch < count; batch++) {
  const events = Array.from({ length: size }, (_, i) => ({
    id: `p${pid}-b${batch}-e${i}`,
    type: 'ChildAppended',
    data: { batch, i, pad: 'x'.repeat(64) },
    metadata: { tenantId: 'child', schemaVersion: 1 },
  }));
  // Exact expected revisions after the first batch: this process is the stream's only writer.
  ({ nextRevision: expectedRevision } = await store.append(stream, events, { expectedRevision }));
  process.stdout.write(`ack ${batch}\n`);
}
await store.close();
