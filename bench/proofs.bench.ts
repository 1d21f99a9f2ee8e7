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
 * append throughput with the tree and checkpoints on next to off (target ≥ 95 %), interleaved append by append, each
 * side on its own copy of the file, in ROUNDS rounds.
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

  // 4. Append throughput, tree + checkpoints (one every 10 000 events) on vs off, on the 2 M file. "on" is the store
  // as it runs (the tree follows the log in its own thread), "inline" the same tree grown inside each append's
  // transaction (the previous design, kept for memory stores), "off" the store with `merkle: false`. The three
  // alternate append by append (which goes first rotates), so a slow moment of the shared machine falls on all alike;
  // each round times `count` events per side (long enough that the tree's end-of-round catch-up, a few ms, is not
  // mistaken for a rate), and a tree side's round ends when its tree has every event of the round (caughtUp, counted in
  // it). The ratio is of the whole time of each side over every round (sustained throughput); the best round of each
  // side, each round's ratio and the median of the per-append times are shown beside it.
  const keyring = CheckpointKeyring.open(join(tmp, 'keys'));
  // Each side on its own copy of the file: a WAL checkpoint (every 1000 pages) is paid by the commit that crosses the
  // mark, so on one shared file each side paid the others' checkpoints, at moments fixed by the order of the writes
  // (the same round of batch 100 came out 121 % in every run).
  const fileOf = (side: Side) => {
    if (side === 'on') return file;
    const copy = join(tmp, `events-${side}.sqlite`);
    copyFileSync(file, copy);
    return copy;
  };
  type Side = 'on' | 'inline' | 'off';
  const stores = {
    on: SqliteEventStore.open(fileOf('on')),
    inline: SqliteEventStore.open(fileOf('inline'), { merkleWorkerFile: join(tmp, 'no-tree-worker.js') }),
    off: SqliteEventStore.open(fileOf('off'), { merkle: false }),
  };
  const sides: Side[] = ['off', 'on', 'inline'];
  let seq = 0;
  const batch = (size: number): EventToAppend[] =>
    Array.from({ length: size }, () => ({
      id: `b${seq++}`,
      type: 'MemberAdded',
      data: { userId: `u${seq}`, orgId: 'o1', at: '2026-01-01T00:00:00Z' },
      metadata: { actor: 'bench' },
    }));
  const sinceCheckpoint = { on: 0, inline: 0, off: 0 };
  let checkpoints = 0;
  let maxLag = 0;
  const appendTimed = async (side: Side, size: number): Promise<number> => {
    const events = batch(size);
    const s = performance.now();
    const store = stores[side];
    await store.append(`tenant-bench-${side}`, events);
    if (side !== 'off') {
      maxLag = Math.max(maxLag, store.merkleLag);
      sinceCheckpoint[side] += size;
      if (sinceCheckpoint[side] >= 10_000) {
        // Of the tree it has (the "on" side's may lag the last appends: proofs and checkpoints cover only its leaves).
        await makeCheckpoint(store, keyring, `bench-${side}`, `tenant-bench-${side}`);
        checkpoints++;
        sinceCheckpoint[side] = 0;
      }
    }
    return performance.now() - s;
  };
  /** The tree's whole work: a tree side's round ends when its tree has every event it acknowledged. */
  const catchUp = async (side: Side): Promise<number> => {
    const s = performance.now();
    await stores[side].merkle.caughtUp();
    return performance.now() - s;
  };
  const cpuMicros = () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  // Warm-up: the streams exist and the connections have their statements hot.
  for (const side of sides) for (let i = 0; i < 5; i++) await appendTimed(side, 100);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const [size, count] of [
    [1000, 100_000],
    [100, 50_000],
    [1, 2_000],
  ] as const) {
    const before = load();
    const best = { on: Number.POSITIVE_INFINITY, inline: Number.POSITIVE_INFINITY, off: Number.POSITIVE_INFINITY };
    const total = { on: 0, inline: 0, off: 0 };
    const each = { on: [] as number[], inline: [] as number[], off: [] as number[] };
    const rounds = { on: [] as string[], inline: [] as string[] };
    const waits: number[] = [];
    maxLag = 0;
    const lockWaitsBefore = stores.on.lockWaits;
    for (let round = 0; round < ROUNDS; round++) {
      const spent = { on: 0, inline: 0, off: 0 };
      for (let i = 0; i < count / size; i++) {
        for (let k = 0; k < 3; k++) {
          const side = sides[(round + i + k) % 3]!;
          const ms = await appendTimed(side, size);
          spent[side] += ms;
          each[side].push(ms);
        }
      }
      const wait = await catchUp('on');
      waits.push(wait);
      spent.on += wait;
      spent.inline += await catchUp('inline');
      for (const side of sides) {
        best[side] = Math.min(best[side], spent[side]);
        total[side] += spent[side];
      }
      rounds.on.push(pct(spent.off / spent.on));
      rounds.inline.push(pct(spent.off / spent.inline));
    }
    const rate = (side: Side) => Math.round(((count * ROUNDS) / total[side]) * 1000);
    const ratio = (side: 'on' | 'inline') =>
      `${pct(total.off / total[side])} (best round ${pct(best.off / best[side])}; per round ${rounds[side].join(', ')}; median append ${median(each[side]).toFixed(2)} ms vs ${median(each.off).toFixed(2)} → ${pct(median(each.off) / median(each[side]))})`;
    log(
      `append batch ${String(size).padStart(4)}: on ${rate('on')}, inline ${rate('inline')}, off ${rate('off')} events/s (${ROUNDS} rounds of ${count} events each, in all); load average ${before} → ${load()}`,
    );
    log(`  on ÷ off ${ratio('on')}`);
    log(`  inline ÷ off ${ratio('inline')}`);
    log(
      `  on's tree: max lag ${maxLag} leaves; catch-up wait at the round's end ${waits.map((w) => w.toFixed(1)).join(', ')} ms (counted in "on"); write-lock waits ${stores.on.lockWaits - lockWaitsBefore}`,
    );
    // CPU of the whole process (all threads: the tree writer's too) per event, in blocks of one side at a time, a
    // tree side's block ending when its tree has caught up: work moved to another thread shows here, not removed.
    const cpu = { on: 0, inline: 0, off: 0 };
    const blockAppends = Math.max(1, Math.floor(count / size / 2));
    for (let block = 0; block < 6; block++) {
      const side = sides[block % 3]!;
      const c = cpuMicros();
      for (let i = 0; i < blockAppends; i++) await appendTimed(side, size);
      if (side !== 'off') await catchUp(side);
      cpu[side] += cpuMicros() - c;
    }
    const perEvent = (side: Side) => cpu[side] / (2 * blockAppends * size);
    log(
      `  CPU (process, all threads) per event: on ${perEvent('on').toFixed(2)} µs, inline ${perEvent('inline').toFixed(2)} µs, off ${perEvent('off').toFixed(2)} µs; load average ${load()}`,
    );
  }
  log(`(${checkpoints} checkpoints signed on the tree sides, each of the tree it had, their time counted in it)`);
  for (const store of Object.values(stores)) await store.close();
  log(`load average at end: ${load()}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
