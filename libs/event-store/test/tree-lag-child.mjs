// Appends `batches` batches of `size` events to a SQLite event store whose tree writer follows the log but hands
// nothing back on its own (flush after an hour or 10⁹ leaves), prints `acked <events> <tree lag>` once all resolved,
// then waits to be killed: the events are committed, the stored tree does not have them.
// Runs the compiled adapter from dist/ (`npm test` builds first).
// Usage: node tree-lag-child.mjs <db path> <stream> <batch size> <batches>
import { SqliteEventStore } from '../../../dist/libs/event-store/src/sqlite/sqlite-event-store.js';

const [path, stream, sizeArg, countArg] = process.argv.slice(2);
const size = Number(sizeArg);
const store = SqliteEventStore.open(path, { merkleFlushMs: 3_600_000, merkleFlushLeaves: 1e9, merkleMaxLag: 1e9 });
let n = 0;
for (let batch = 0; batch < Number(countArg); batch++) {
  const events = Array.from({ length: size }, (_, i) => ({ id: `b${batch}-e${i}`, type: 'ChildAppended', data: { batch, i }, metadata: {} }));
  await store.append(stream, events);
  n += size;
}
process.stdout.write(`acked ${n} ${store.merkleLag}\n`);
setInterval(() => {}, 1000);
