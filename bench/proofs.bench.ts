import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  CheckpointKeyring,
  leafHashOfChainHash,
  makeCheckpoint,
  MerkleFrontier,
  SqliteEventStore,
  verifyInclusion,
  type EventToAppend,
} from '@access-ledger/event-store';

/**
 * Issue 14 on the 2 M-event benchmark history (.bench-data, copied first: opening builds the tree in the file):
 * tree build from scratch next to the chain walk of the same events; inclusion proof p50 and size; the consistency
 * proof between the first and the last checkpoint; append throughput with the tree and checkpoints on next to off,
 * alternating rounds in the same run (target ≥ 95 %).
 */
const log = (line: string) => process.stdout.write(`${line}\n`);
const root = resolve(import.meta.dirname, '../..');
const dataDir = join(root, '.bench-data');
const history = readdirSync(dataDir).find((d) => d.startsWith('history-'));
if (history === undefined) throw new Error('no .bench-data/history-*: run `npm run bench -- access` once, or hard-link /work/main/.bench-data');
const tmp = mkdtempSync(join(tmpdir(), 'proofs-bench-'));
const file = join(tmp, 'events.sqlite');
const pct = (a: number) => `${Math.round(a * 100)} %`;
log(
  `load average at start: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} (2 cores, shared)`,
);
try {
  copyFileSync(join(dataDir, history, 'events.sqlite'), file);

  // 1. Tree build from scratch (the migration on open) next to a single-threaded chain walk of the same events.
  let t = performance.now();
  const store = SqliteEventStore.open(file, { parallelVerifyFrom: Number.MAX_SAFE_INTEGER });
  const buildSeconds = (performance.now() - t) / 1000;
  const streams = await store.streamIds();
  let total = 0;
  t = performance.now();
  for (const s of streams) total += (await store.verifyChain(s)).events;
  const walkSeconds = (performance.now() - t) / 1000;
  log(`tree build from scratch: ${total} events in ${buildSeconds.toFixed(1)} s = ${Math.round(total / buildSeconds)} events/s`);
  log(
    `chain walk of the same events: ${walkSeconds.toFixed(1)} s = ${Math.round(total / walkSeconds)} events/s (build ÷ walk time ${pct(buildSeconds / walkSeconds)})`,
  );
  // The same tree from the frontier (what verify --against does), as a cross-check of the stored root.
  const big = streams[0]!;
  const n = await store.merkle.treeSize(big);
  const frontier = new MerkleFrontier();
  t = performance.now();
  for await (const page of store.readAllPages({})) for (const e of page) if (e.streamId === big) frontier.push(leafHashOfChainHash(e.hash));
  const frontierSeconds = (performance.now() - t) / 1000;
  const root = await store.merkle.rootHash(big, n);
  log(
    `frontier rebuild (read + hash, verify --against): ${Math.round(n / frontierSeconds)} events/s; root equals the stored tree's: ${frontier.root().toString('hex') === root}`,
  );

  // 2. Inclusion proofs: 2 000 random leaves of the whole tree.
  const times: number[] = [];
  let bytes = 0;
  let jsonBytes = 0;
  let ok = 0;
  const hashes = new Map<number, string>();
  for (let i = 0; i < 2000; i++) {
    const leaf = Math.floor(Math.random() * n);
    const s = performance.now();
    const path = await store.merkle.inclusionProof(big, leaf, n);
    times.push(performance.now() - s);
    bytes = Math.max(bytes, path.length * 32);
    jsonBytes = Math.max(jsonBytes, JSON.stringify(path).length);
    if (i < 50) {
      for await (const e of store.readStream(big, { fromRevision: leaf, maxCount: 1 })) hashes.set(leaf, e.hash);
      if (
        verifyInclusion(
          leaf,
          n,
          leafHashOfChainHash(hashes.get(leaf)!),
          path.map((p) => Buffer.from(p, 'hex')),
          Buffer.from(root, 'hex'),
        )
      )
        ok++;
    }
  }
  times.sort((a, b) => a - b);
  log(
    `inclusion proof (tree of ${n}): p50 ${times[1000]!.toFixed(3)} ms, p99 ${times[1980]!.toFixed(3)} ms; size ${bytes} bytes (${bytes / 32} hashes), ${jsonBytes} bytes as a JSON hex array; ${ok}/50 verified`,
  );

  // 3. Consistency proof between the first checkpoint (after 10 000 events) and the last (the whole tree).
  t = performance.now();
  const consistency = await store.merkle.consistencyProof(big, 10_000, n);
  log(`consistency proof 10 000 → ${n}: ${(performance.now() - t).toFixed(3)} ms, ${consistency.length * 32} bytes (${consistency.length} hashes)`);
  await store.close();

  // 4. Append throughput, tree + checkpoints (one every 10 000 events) on vs off, alternating rounds on the 2 M file.
  const keyring = CheckpointKeyring.open(join(tmp, 'keys'));
  const on = SqliteEventStore.open(file);
  const off = SqliteEventStore.open(file, { merkle: false });
  let seq = 0;
  const batch = (size: number): EventToAppend[] =>
    Array.from({ length: size }, () => ({
      id: `b${seq++}`,
      type: 'MemberAdded',
      data: { userId: `u${seq}`, orgId: 'o1', at: '2026-01-01T00:00:00Z' },
      metadata: { actor: 'bench' },
    }));
  for (const [size, count] of [
    [1000, 30_000],
    [100, 10_000],
    [1, 600],
  ] as const) {
    const best = { on: Number.POSITIVE_INFINITY, off: Number.POSITIVE_INFINITY };
    for (let round = 0; round < 3; round++) {
      for (const side of ['off', 'on'] as const) {
        const target = side === 'on' ? on : off;
        const stream = `tenant-bench-${side}`;
        let sinceCheckpoint = 0;
        const s = performance.now();
        for (let done = 0; done < count; done += size) {
          await target.append(stream, batch(size));
          sinceCheckpoint += size;
          if (side === 'on' && sinceCheckpoint >= 10_000) {
            await makeCheckpoint(on, keyring, 'bench-on', stream);
            sinceCheckpoint = 0;
          }
        }
        best[side] = Math.min(best[side], (performance.now() - s) / 1000);
      }
    }
    log(
      `append batch ${String(size).padStart(4)}: tree+checkpoints on ${Math.round(count / best.on)} events/s, off ${Math.round(count / best.off)} events/s → ${pct(best.off / best.on)} (best of 3 alternating rounds)`,
    );
  }
  await on.close();
  await off.close();
  log(
    `load average at end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
