import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { canonicalJson, eventHash } from '../src/chain.js';
import { SqliteEventStore } from '../src/sqlite/sqlite-event-store.js';
import { StorageFullError, type EventToAppend, type RecordedEvent } from '../src/port.js';
import { eventStoreContract } from './event-store.contract.js';

const here = fileURLToPath(new URL('.', import.meta.url));
let dir: string;
let files = 0;
const freshPath = (): string => join(dir, `events-${++files}.sqlite`);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'event-store-sqlite-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

eventStoreContract('sqlite', async () => ({ store: SqliteEventStore.open(freshPath(), { pollIntervalMs: 50 }) }));

/** The compiled append worker: the sources under jest use it when told to (`appendWorkerFile`). */
const appendWorker = join(here, '../../../dist/libs/event-store/src/sqlite/append-worker.js');
const requireAppendWorker = () => {
  if (!existsSync(appendWorker)) throw new Error(`${appendWorker} is missing: run \`npm run build\` (npm test does) before this suite`);
};

// Every append of at least one event through the worker thread, against the same contract.
eventStoreContract('sqlite, appends in a worker thread', async () => {
  requireAppendWorker();
  return { store: SqliteEventStore.open(freshPath(), { pollIntervalMs: 50, workerAppendFrom: 1, appendWorkerFile: appendWorker }) };
});

// The Merkle tree grown by the tree writer that follows the log (as compiled stores do), against the same contract.
const treeWorker = join(here, '../../../dist/libs/event-store/src/sqlite/merkle-tree-worker.js');
eventStoreContract('sqlite, the tree following the log in its own thread', async () => {
  if (!existsSync(treeWorker)) throw new Error(`${treeWorker} is missing: run \`npm run build\` (npm test does) before this suite`);
  return {
    store: SqliteEventStore.open(freshPath(), { pollIntervalMs: 50, merkleWorkerFile: treeWorker, workerAppendFrom: 50, appendWorkerFile: appendWorker }),
  };
});

const event = (id: string, n: number): EventToAppend => ({
  id,
  type: 'TamperTarget',
  data: { n, who: 'u-17' },
  metadata: { tenantId: 't1', schemaVersion: 1 },
});

describe('SQLite event store: tampering is detected by verifyChain', () => {
  let path: string;
  let store: SqliteEventStore;
  let stored: readonly RecordedEvent[];
  const stream = 'tenant-t1';

  const raw = (sql: string, ...params: (string | number)[]): void => {
    const db = new DatabaseSync(path);
    db.prepare(sql).run(...params);
    db.close();
  };

  beforeAll(async () => {
    path = freshPath();
    store = SqliteEventStore.open(path);
    await store.append('tenant-other', [event('o-1', 1)]);
    stored = (
      await store.append(
        stream,
        Array.from({ length: 6 }, (_, i) => event(`t-${i}`, i)),
      )
    ).events;
    await store.append('tenant-other', [event('o-2', 2)]);
    expect((await store.verifyChain(stream)).valid).toBe(true);
  });
  afterAll(async () => {
    await store.close();
  });

  test('an edited data column is reported at that revision and position, as a hash mismatch', async () => {
    raw('UPDATE events SET data = ? WHERE stream_id = ? AND revision = 2', '{"n":2,"who":"u-99"}', stream);
    const verification = await store.verifyChain(stream);
    expect(verification).toMatchObject({ valid: false, events: 2, firstBadRevision: 2, firstBadPosition: stored[2]!.position });
    expect(verification.reason).toMatch(/hash mismatch/);
    expect((await store.verifyChain('tenant-other')).valid).toBe(true);
    raw('UPDATE events SET data = ? WHERE stream_id = ? AND revision = 2', '{"n":2,"who":"u-17"}', stream);
    expect((await store.verifyChain(stream)).valid).toBe(true);
  });

  test('the stored text itself is what verifies: the same value rewritten in another form (key order, spaces) is an edit', async () => {
    raw('UPDATE events SET data = ? WHERE stream_id = ? AND revision = 3', '{"who":"u-17", "n":3}', stream);
    expect(JSON.parse('{"who":"u-17", "n":3}')).toEqual(stored[3]!.data);
    const verification = await store.verifyChain(stream);
    expect(verification).toMatchObject({ valid: false, firstBadRevision: 3, firstBadPosition: stored[3]!.position });
    expect(verification.reason).toMatch(/hash mismatch/);
    raw('UPDATE events SET data = ? WHERE stream_id = ? AND revision = 3', canonicalJson(stored[3]!.data), stream);
    expect((await store.verifyChain(stream)).valid).toBe(true);
  });

  test('an edited hash column is reported at that revision', async () => {
    raw('UPDATE events SET hash = ? WHERE stream_id = ? AND revision = 4', 'f'.repeat(64), stream);
    const verification = await store.verifyChain(stream);
    expect(verification).toMatchObject({ valid: false, firstBadRevision: 4, firstBadPosition: stored[4]!.position });
    expect(verification.reason).toMatch(/hash mismatch/);
    raw('UPDATE events SET hash = ? WHERE stream_id = ? AND revision = 4', stored[4]!.hash, stream);
  });

  test('a re-hashed edit (content and its own hash rewritten consistently) breaks the link to the next event', async () => {
    const forged = { ...stored[1]!, metadata: { tenantId: 't2', schemaVersion: 1 } };
    const forgedHash = eventHash(forged.prevHash, forged);
    raw('UPDATE events SET metadata = ?, hash = ? WHERE stream_id = ? AND revision = 1', canonicalJson(forged.metadata), forgedHash, stream);
    const verification = await store.verifyChain(stream);
    expect(verification).toMatchObject({ valid: false, events: 2, firstBadRevision: 2, firstBadPosition: stored[2]!.position });
    expect(verification.reason).toMatch(/broken link/);
    raw('UPDATE events SET metadata = ?, hash = ? WHERE stream_id = ? AND revision = 1', canonicalJson(stored[1]!.metadata), stored[1]!.hash, stream);
    expect((await store.verifyChain(stream)).valid).toBe(true);
  });

  test('a deleted row is reported as a broken link at the next event', async () => {
    raw('DELETE FROM events WHERE stream_id = ? AND revision = 3', stream);
    const verification = await store.verifyChain(stream);
    expect(verification).toMatchObject({ valid: false, events: 3, firstBadRevision: 4, firstBadPosition: stored[4]!.position });
    expect(verification.reason).toMatch(/broken link/);
  });
});

describe('SQLite chain walk in two halves (the compiled store, with its worker)', () => {
  const compiled = join(here, '../../../dist/libs/event-store/src/sqlite/sqlite-event-store.js');
  const stream = 'tenant-halves';

  test('every defect — in either half, at the split, a deleted row beside it — is reported exactly as one walk reports it', async () => {
    if (!existsSync(compiled)) throw new Error(`${compiled} is missing: run \`npm run build\` (npm test does) before this suite`);
    const { SqliteEventStore: Compiled } = (await import(compiled)) as typeof import('../src/sqlite/sqlite-event-store.js');
    const path = freshPath();
    const writer = SqliteEventStore.open(path);
    const stored: RecordedEvent[] = [];
    for (let batch = 0; batch < 10; batch++) {
      stored.push(
        ...(
          await writer.append(
            stream,
            Array.from({ length: 40 }, (_, i) => event(`h-${batch}-${i}`, batch * 40 + i)),
          )
        ).events,
      );
      await writer.append('tenant-other', [event(`o-${batch}`, batch)]);
    }
    const raw = (sql: string, ...params: (string | number)[]) => {
      const db = new DatabaseSync(path);
      db.prepare(sql).run(...params);
      db.close();
    };
    // The source store walks in one thread (its worker is compiled only); the compiled one splits at 400 / 2 = 200.
    const halves = Compiled.open(path, { parallelVerifyFrom: 10 });
    const progress: number[] = [];
    const check = async (what: string) => {
      const one = await writer.verifyChain(stream);
      const two = await halves.verifyChain(stream, (n) => progress.push(n));
      expect({ what, ...two }).toEqual({ what, ...one });
      return one;
    };
    try {
      expect(await check('intact')).toMatchObject({ valid: true, events: 400, head: stored[399]!.hash });
      expect(progress.at(-1)).toBe(400);
      const cases: [string, string, (string | number)[], (string | number)[]][] = [
        [
          'edited in the first half',
          'UPDATE events SET data = ? WHERE stream_id = ? AND revision = ?',
          ['{"n":1}', stream, 57],
          [canonicalJson(stored[57]!.data), stream, 57],
        ],
        [
          'edited in the second half',
          'UPDATE events SET data = ? WHERE stream_id = ? AND revision = ?',
          ['{"n":1}', stream, 333],
          [canonicalJson(stored[333]!.data), stream, 333],
        ],
        [
          'the hash of the last row of the first half',
          'UPDATE events SET hash = ? WHERE stream_id = ? AND revision = ?',
          ['f'.repeat(64), stream, 199],
          [stored[199]!.hash, stream, 199],
        ],
        [
          'the link of the first row of the second half',
          'UPDATE events SET prev_hash = ? WHERE stream_id = ? AND revision = ?',
          ['e'.repeat(64), stream, 200],
          [stored[199]!.hash, stream, 200],
        ],
      ];
      for (const [what, sql, tamper, restore] of cases) {
        raw(sql, ...tamper);
        expect((await check(what)).valid).toBe(false);
        raw(sql, ...restore);
        expect((await check(`${what}, restored`)).valid).toBe(true);
      }
      raw('DELETE FROM events WHERE stream_id = ? AND revision = ?', stream, 201);
      expect(await check('a deleted row right after the split')).toMatchObject({ valid: false, firstBadRevision: 202 });
      raw('DELETE FROM events WHERE stream_id = ? AND revision = ?', stream, 100);
      expect(await check('and one in the first half')).toMatchObject({ valid: false, firstBadRevision: 101 });
    } finally {
      await halves.close();
      await writer.close();
    }
  }, 60_000);
});

test('a chain walk lets the event loop turn between pages (a server keeps answering during /integrity)', async () => {
  const store = SqliteEventStore.open(freshPath());
  try {
    for (let batch = 0; batch < 5; batch++)
      await store.append(
        'tenant-long',
        Array.from({ length: 1000 }, (_, i) => event(`l-${batch}-${i}`, i)),
      );
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const walking = store.verifyChain('tenant-long');
    let ticksWhenDone = -1;
    const verification = await walking.finally(() => (ticksWhenDone = ticks));
    clearInterval(timer);
    expect(verification).toMatchObject({ valid: true, events: 5000 });
    expect(ticksWhenDone).toBeGreaterThan(0);
  } finally {
    await store.close();
  }
});

describe('SQLite event store: more than one process', () => {
  const child = join(here, 'append-child.mjs');
  const compiled = join(here, '../../../dist/libs/event-store/src/sqlite/sqlite-event-store.js');

  test('a subscription sees, by polling, events another process appends to the same file', async () => {
    if (!existsSync(compiled)) throw new Error(`${compiled} is missing: run \`npm run build\` (npm test does) before this suite`);
    const path = freshPath();
    const store = SqliteEventStore.open(path, { pollIntervalMs: 50 });
    try {
      await store.append('tenant-parent', [event('parent-1', 1)]);
      const subscription = store.subscribeToAll({ after: await store.headPosition() });
      const proc = spawn(process.execPath, [child, path, 'tenant-child', '10', '5'], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise<number | null>((resolve) => proc.on('exit', resolve));
      const received: RecordedEvent[] = [];
      const deadline = setTimeout(() => void subscription.close(), 15_000);
      for await (const e of subscription) {
        received.push(e);
        if (received.length === 50) break;
      }
      clearTimeout(deadline);
      expect(await exited).toBe(0);
      expect(received.map((e) => e.revision)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      expect(received.every((e) => e.streamId === 'tenant-child')).toBe(true);
      expect((await store.verifyChain('tenant-child')).valid).toBe(true);
    } finally {
      await store.close();
    }
  });
});

describe('SQLite event store: memory stays flat', () => {
  test('readAll and readStream page through 5 000 events without loading them at once', async () => {
    const store = SqliteEventStore.open(freshPath());
    try {
      for (let b = 0; b < 5; b++) {
        await store.append(
          'tenant-big',
          Array.from({ length: 1000 }, (_, i) => event(`big-${b}-${i}`, i)),
        );
      }
      let count = 0;
      let ordered = true;
      let last = -1;
      for await (const e of store.readAll()) {
        ordered &&= e.position > last;
        last = e.position;
        count++;
      }
      expect({ count, ordered }).toEqual({ count: 5000, ordered: true });
      let revision = 5000;
      for await (const e of store.readStream('tenant-big', { direction: 'backwards' })) ordered &&= e.revision === --revision;
      expect({ revision, ordered }).toEqual({ revision: 0, ordered: true });
      expect((await store.verifyChain('tenant-big')).events).toBe(5000);
    } finally {
      await store.close();
    }
  });
});

describe('SQLite event store: a store made with ids unique across streams is migrated on open', () => {
  /** The events table as the first schema made it: UNIQUE(id) across every stream. */
  const FIRST_SCHEMA = `CREATE TABLE events (
    position  INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_id TEXT    NOT NULL,
    revision  INTEGER NOT NULL,
    id        TEXT    NOT NULL UNIQUE,
    type      TEXT    NOT NULL,
    data      TEXT    NOT NULL,
    metadata  TEXT    NOT NULL,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL,
    UNIQUE (stream_id, revision)
  )`;
  const dump = (path: string) => {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      return {
        rows: db.prepare('SELECT * FROM events ORDER BY position').all(),
        seq: db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get(),
      };
    } finally {
      db.close();
    }
  };

  test('the old file opens, keeps every row byte for byte and its position counter, verifies, and then takes an id another stream has', async () => {
    // Rows written by the store itself (so the chains are real), then moved into a file with the first schema.
    const source = freshPath();
    const writer = SqliteEventStore.open(source);
    for (let i = 0; i < 30; i++) await writer.append(`tenant-${i % 3}`, [event(`old-${i}`, i)]);
    await writer.close();
    const path = freshPath();
    const old = new DatabaseSync(path);
    old.exec(FIRST_SCHEMA);
    old.exec(`ATTACH DATABASE '${source}' AS source`);
    old.exec('INSERT INTO events SELECT * FROM source.events ORDER BY position');
    // A counter above the last row (its newest rows were deleted once): no position may ever be handed out again.
    old.exec("UPDATE sqlite_sequence SET seq = 40 WHERE name = 'events'");
    old.exec('DETACH DATABASE source');
    expect(() =>
      old
        .prepare('INSERT INTO events (stream_id, revision, id, type, data, metadata, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run('tenant-9', 0, 'old-0', 't', '{}', '{}', '', ''),
    ).toThrow(/UNIQUE/);
    old.close();
    const before = dump(path);

    const store = SqliteEventStore.open(path);
    try {
      expect(dump(path)).toEqual(before);
      for (let t = 0; t < 3; t++) expect(await store.verifyChain(`tenant-${t}`)).toMatchObject({ valid: true, events: 10 });
      const appended = await store.append('tenant-9', [event('old-0', 0)]);
      expect(appended.events[0]).toMatchObject({ id: 'old-0', streamId: 'tenant-9', position: 41 });
      expect(await store.append('tenant-0', [event('old-0', 0)])).toMatchObject({ nextRevision: 0, events: [expect.objectContaining({ position: 1 })] });
    } finally {
      await store.close();
    }
    // Opening again finds nothing left to migrate.
    const again = SqliteEventStore.open(path);
    expect(await again.verifyChain('tenant-9')).toMatchObject({ valid: true, events: 1 });
    await again.close();
  });
});

describe('SQLite large appends in a worker thread', () => {
  const many = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => event(`${prefix}-${i}`, i));

  test('a large append leaves the event loop free, and a small one in this thread meanwhile lands too: both chains valid, the answers what is stored', async () => {
    requireAppendWorker();
    const path = freshPath();
    const store = SqliteEventStore.open(path, { workerAppendFrom: 1000, appendWorkerFile: appendWorker });
    try {
      let turns = 0;
      const counting = setInterval(() => turns++, 0);
      let turnsWhenDone = -1;
      const large = store.append('tenant-large', many('big', 5000)).finally(() => (turnsWhenDone = turns));
      // In this thread (below the threshold): into the same stream and into another, while the large one is under way.
      const small = await store.append('tenant-large', many('small', 3));
      const other = await store.append('tenant-other', many('other', 2));
      const big = await large;
      clearInterval(counting);
      // The in-thread path awaits nothing while the lock is free; only the worker path turns the loop meanwhile.
      expect(turnsWhenDone).toBeGreaterThan(0);

      expect(big.events).toHaveLength(5000);
      expect(small.events).toHaveLength(3);
      expect(other.events).toHaveLength(2);
      const stored = await collect(store.readStream('tenant-large'));
      expect(stored).toHaveLength(5003);
      expect(stored.map((e) => e.revision)).toEqual(Array.from({ length: 5003 }, (_, i) => i));
      const byId = new Map(stored.map((e) => [e.id, e]));
      for (const answered of [...big.events, ...small.events]) expect(byId.get(answered.id)).toEqual(answered);
      expect(big.nextRevision).toBe(big.events.at(-1)!.revision);
      expect(await store.verifyChain('tenant-large')).toMatchObject({ valid: true, events: 5003 });
      expect(await store.verifyChain('tenant-other')).toMatchObject({ valid: true, events: 2 });
      // The hashes are the chain's own, not the worker's idea of it: recomputed from the events as given.
      for (const e of stored) expect(e.hash).toBe(eventHash(e.prevHash, e));
    } finally {
      await store.close();
    }
  }, 60_000);

  test('a subscription of this process sees a worker append at once, and a replay of it is answered with the stored events', async () => {
    requireAppendWorker();
    const store = SqliteEventStore.open(freshPath(), { pollIntervalMs: 60_000, workerAppendFrom: 10, appendWorkerFile: appendWorker });
    try {
      const subscription = store.subscribeToAll();
      const batch = many('sub', 20);
      const first = await store.append('tenant-sub', batch);
      const seen: RecordedEvent[] = [];
      for await (const e of subscription) {
        seen.push(e);
        if (seen.length === 20) break;
      }
      expect(seen).toEqual(first.events);
      expect(await store.append('tenant-sub', batch, { expectedRevision: 'no_stream' })).toEqual(first);
    } finally {
      await store.close();
    }
  }, 30_000);

  test('storage full in the worker is the StorageFullError of the in-thread path, and nothing of the batch is stored', async () => {
    requireAppendWorker();
    const path = freshPath();
    const store = SqliteEventStore.open(path, { maxPageCount: 40, workerAppendFrom: 100, appendWorkerFile: appendWorker });
    try {
      await store.append('tenant-full', many('fits', 3));
      await expect(store.append('tenant-full', many('too-much', 5000))).rejects.toBeInstanceOf(StorageFullError);
      expect(await store.streamRevision('tenant-full')).toBe(2);
      expect((await store.append('tenant-full', many('after', 1))).events[0]!.revision).toBe(3);
    } finally {
      await store.close();
    }
  }, 30_000);

  test('knownIds over more ids than one slice answers exactly the stored ones', async () => {
    requireAppendWorker();
    const store = SqliteEventStore.open(freshPath(), { workerAppendFrom: 1000, appendWorkerFile: appendWorker });
    try {
      await store.append('tenant-known', many('k', 6000));
      await store.append('tenant-elsewhere', many('k', 5));
      const asked = Array.from({ length: 12_000 }, (_, i) => (i % 2 === 0 ? `k-${i / 2}` : `unknown-${i}`));
      const known = await store.knownIds('tenant-known', asked);
      expect(known).toEqual(new Set(Array.from({ length: 6000 }, (_, i) => `k-${i}`)));
    } finally {
      await store.close();
    }
  }, 30_000);

  test('close() waits for a worker append under way: what it acknowledged is stored', async () => {
    requireAppendWorker();
    const path = freshPath();
    const store = SqliteEventStore.open(path, { workerAppendFrom: 10, appendWorkerFile: appendWorker });
    const appending = store.append('tenant-closing', many('closing', 3000));
    await store.close();
    const result = await appending;
    const again = SqliteEventStore.open(path);
    try {
      expect(await again.streamRevision('tenant-closing')).toBe(result.nextRevision);
      expect(await again.verifyChain('tenant-closing')).toMatchObject({ valid: true, events: 3000 });
    } finally {
      await again.close();
    }
  }, 30_000);
});

async function collect(events: AsyncIterable<RecordedEvent>): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

describe('the append worker and the end of a process', () => {
  test('a process whose last work is close() after a worker append ends normally, with close() settled', async () => {
    const compiled = join(here, '../../../dist/libs/event-store/src/sqlite/sqlite-event-store.js');
    if (!existsSync(compiled)) throw new Error(`${compiled} is missing: run \`npm run build\` (npm test does) before this suite`);
    // No process.exit: the script ends when its event loop is empty. The idle worker is unref'd, so a close() that did
    // not hold the process until the worker's exit would leave the top-level await unsettled (exit code 13).
    const script = `
      const { SqliteEventStore } = await import(${JSON.stringify(compiled)});
      const store = SqliteEventStore.open(${JSON.stringify(freshPath())}, { workerAppendFrom: 1 });
      const events = Array.from({ length: 50 }, (_, i) => ({ id: 'w-' + i, type: 'Noted', data: { n: i }, metadata: {} }));
      const { events: stored } = await store.append('tenant-exit', events);
      await store.close();
      process.stdout.write('closed after ' + stored.length);
    `;
    const file = join(dir, 'close-at-exit.mjs');
    writeFileSync(file, script);
    const proc = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (b: Buffer) => (out += b));
    proc.stderr.on('data', (b: Buffer) => (err += b));
    const code = await new Promise<number | null>((resolve) => proc.on('close', resolve));
    expect({ code, out, err }).toEqual({ code: 0, out: 'closed after 50', err: '' });
  });
});
