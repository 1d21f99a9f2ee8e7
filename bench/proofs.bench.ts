import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
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
 * The proofs benchmark on the 2 M-event history (.bench-data, copied first: opening changes the file): opening a store
 * whose tree was written with the previous layout (16-leaf blocks); the tree built from scratch next to the chain walk
 * of the same events; inclusion proof p50 and size; the consistency proof between the first and the last checkpoint;
 * append throughput with the tree and checkpoints on next to off (target ≥ 95 %), the two interleaved append by append
 * on the same file, in ROUNDS rounds.
 */
const log = (line: string) => process.stdout.write(`${line}\n`);
const root = resolve(import.meta.dirname, '../..');
const dataDir = join(root, '.bench-data');
const history = readdirSync(dataDir).find((d) => d.startsWith('history-'));
if (history === undefined) throw new Error('no .bench-data/history-*: run `npm run bench -- access` once, or hard-link /work/main/.bench-data');
const tmp = mkdtempSync(join(tmpdir(), 'proofs-bench-'));
const file = join(tmp, 'events.sqlite');
const pct = (a: number) => `${(a * 100).toFixed(1)} %`;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
const ROUNDS = 5;
log(`load average at start: ${load()} (2 cores, shared)`);
try {
  copyFileSync(join(dataDir, history, 'events.sqlite'), file);

  // 0. The file as the history generator left it: open (a tree in the previous layout is read as it is; its finer rows
  // are dropped), and keep its root to compare with the one built from scratch below.
  let t = performance.now();
  let store = SqliteEventStore.open(file, { parallelVerifyFrom: Number.MAX_SAFE_INTEGER });
  const openSeconds = (performance.now() - t) / 1000;
  const streams = await store.streamIds();
  const big = streams[0]!;
  const n = await store.merkle.treeSize(big);
  const rootAsFound = await store.merkle.rootHash(big, n);
  await store.close();
  const raw = new DatabaseSync(file);
  const previousRows = (raw.prepare('SELECT COUNT(*) AS n FROM merkle_nodes').get() as { n: number }).n;
  log(`open of the history as generated (tree as found: ${n} leaves, ${previousRows} node rows after the open): ${openSeconds.toFixed(1)} s`);

  // 1. Tree build from scratch (the catch-up on open) next to a single-threaded chain walk of the same events.
  raw.exec('DELETE FROM merkle_nodes; DELETE FROM merkle_trees');
  raw.close();
  t = performance.now();
  store = SqliteEventStore.open(file, { parallelVerifyFrom: Number.MAX_SAFE_INTEGER });
  const buildSeconds = (performance.now() - t) / 1000;
  let total = 0;
  t = performance.now();
  for (const s of streams) total += (await store.verifyChain(s)).events;
  const walkSeconds = (performance.now() - t) / 1000;
  log(`tree build from scratch: ${total} events in ${buildSeconds.toFixed(1)} s = ${Math.round(total / buildSeconds)} events/s`);
  log(
    `chain walk of the same events: ${walkSeconds.toFixed(1)} s = ${Math.round(total / walkSeconds)} events/s (build ÷ walk time ${pct(buildSeconds / walkSeconds)})`,
  );
  const rootBuilt = await store.merkle.rootHash(big, n);
  // The same tree from the frontier (what verify --against does, with node:crypto), as a cross-check of the stored root.
  const frontier = new MerkleFrontier();
  t = performance.now();
  for await (const page of store.readAllPages({})) for (const e of page) if (e.streamId === big) frontier.push(leafHashOfChainHash(e.hash));
  const frontierSeconds = (performance.now() - t) / 1000;
  log(
    `frontier rebuild (read + hash, verify --against): ${Math.round(n / frontierSeconds)} events/s; root equals the stored tree's: ${frontier.root().toString('hex') === rootBuilt}, equals the tree as found: ${rootAsFound === rootBuilt}`,
  );
  const rootHash = rootBuilt;

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
          Buffer.from(rootHash, 'hex'),
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

  // 4. Append throughput, tree + checkpoints (one every 10 000 events) on vs off, on the 2 M file. The two sides
  // alternate append by append (and which goes first alternates too), so a slow moment of the shared machine falls on
  // both alike; each round times `count` events per side; the ratio is taken of the best round of each side, and the
  // median of the per-append times is shown beside it.
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
  const sinceCheckpoint = { n: 0 };
  let checkpoints = 0;
  const appendTimed = async (side: 'on' | 'off', size: number): Promise<number> => {
    const events = batch(size);
    const s = performance.now();
    await (side === 'on' ? on : off).append(`tenant-bench-${side}`, events);
    if (side === 'on') {
      sinceCheckpoint.n += size;
      if (sinceCheckpoint.n >= 10_000) {
        await makeCheckpoint(on, keyring, 'bench-on', 'tenant-bench-on');
        checkpoints++;
        sinceCheckpoint.n = 0;
      }
    }
    return performance.now() - s;
  };
  // Warm-up: both streams exist and both connections have their statements hot.
  for (const side of ['off', 'on'] as const) for (let i = 0; i < 5; i++) await appendTimed(side, 100);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const [size, count] of [
    [1000, 20_000],
    [100, 10_000],
    [1, 300],
  ] as const) {
    const before = load();
    const best = { on: Number.POSITIVE_INFINITY, off: Number.POSITIVE_INFINITY };
    const each = { on: [] as number[], off: [] as number[] };
    const rounds: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const spent = { on: 0, off: 0 };
      for (let i = 0; i < count / size; i++) {
        for (const side of (round + i) % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
          const ms = await appendTimed(side, size);
          spent[side] += ms;
          each[side].push(ms);
        }
      }
      best.on = Math.min(best.on, spent.on);
      best.off = Math.min(best.off, spent.off);
      rounds.push(pct(spent.off / spent.on));
    }
    log(
      `append batch ${String(size).padStart(4)}: tree+checkpoints on ${Math.round((count / best.on) * 1000)} events/s, off ${Math.round((count / best.off) * 1000)} events/s → ${pct(best.off / best.on)} (best of ${ROUNDS} rounds; per round ${rounds.join(', ')}; median append ${median(each.on).toFixed(2)} ms on, ${median(each.off).toFixed(2)} ms off → ${pct(median(each.off) / median(each.on))}); load average ${before} → ${load()}`,
    );
  }
  log(`(${checkpoints} checkpoints signed on the "on" side, their time counted in it)`);
  await on.close();
  await off.close();
  log(`load average at end: ${load()}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
