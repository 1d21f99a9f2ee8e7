// A second writer on a data directory, as `ledger import` is while the server takes commands:
// imports batches of GroupCreated lines into one tenant through the compiled Ledger, in a loop, printing
// `ack <batch>` after each, until killed or `batches` are done.
// Usage: node import-child.mjs <data dir> <tenant> <lines per batch> <batches | "forever">
import { Ledger } from '@access-ledger/ledger';

const [dataDir, tenantId, sizeArg, countArg] = process.argv.slice(2);
const size = Number(sizeArg);
const count = countArg === 'forever' ? Number.POSITIVE_INFINITY : Number(countArg);
const ledger = await Ledger.open({ dataDir });
process.on('SIGTERM', () => void ledger.close().then(() => process.exit(0)));
for (let batch = 0; batch < count; batch++) {
  const lines = Array.from({ length: size }, (_, i) => JSON.stringify({
    id: `import-${process.pid}-${batch}-${i}`,
    type: 'GroupCreated',
    occurredAt: new Date().toISOString(),
    actor: { kind: 'system' },
    source: 'admin_api_import',
    data: { groupId: `imported-${process.pid}-${batch}-${i}`, name: 'Imported', source: 'manual' },
  }));
  const outcome = await ledger.importEvents(tenantId, lines.join('\n'));
  if (outcome.kind !== 'imported') throw new Error(JSON.stringify(outcome));
  process.stdout.write(`ack ${batch}\n`);
}
await ledger.close();
