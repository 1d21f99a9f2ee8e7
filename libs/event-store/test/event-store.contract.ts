import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { eventHash, GENESIS_HASH } from '../src/chain.js';
import { ConcurrencyConflictError, IdempotencyMismatchError, type EventStore, type EventToAppend, type RecordedEvent, type Subscription } from '../src/port.js';

/**
 * The one contract every EventStore adapter must pass (style.md: one suite per port, every adapter).
 * It never assumes an empty store: every test uses streams of its own and measures positions from the
 * head it found, so it runs as well against a long-lived KurrentDB as against a fresh SQLite file.
 */
export interface ContractStore {
  readonly store: EventStore;
  /** Called after the store was closed. */
  readonly dispose?: () => Promise<void>;
}

export function eventStoreContract(adapter: string, open: () => Promise<ContractStore>): void {
  describe(`EventStore contract: ${adapter}`, () => {
    let opened: ContractStore;
    let store: EventStore;
    let run: string;

    beforeEach(async () => {
      opened = await open();
      store = opened.store;
      run = randomUUID().slice(0, 8);
    });

    afterEach(async () => {
      await store.close();
      await opened.dispose?.();
    });

    const streamName = (name: string): string => `contract-${run}-${name}`;
    let counter = 0;
    const event = (label: string, extra: Record<string, unknown> = {}): EventToAppend => ({
      id: `${run}-${label}-${++counter}`,
      type: 'ContractEventRecorded',
      data: { label, n: counter, nested: { z: 1, a: [1, 'two', null, true, { y: 2, x: 1 }] }, ...extra } as EventToAppend['data'],
      metadata: { tenantId: 'contract', occurredAt: '2026-03-01T00:00:00.000Z', schemaVersion: 1 },
    });
    const events = (label: string, count: number): EventToAppend[] => Array.from({ length: count }, (_, i) => event(`${label}${i}`));
    const collect = async (iterable: AsyncIterable<RecordedEvent>): Promise<RecordedEvent[]> => {
      const out: RecordedEvent[] = [];
      for await (const e of iterable) out.push(e);
      return out;
    };
    const ours = (e: RecordedEvent): boolean => e.streamId.startsWith(`contract-${run}-`);

    /** Reads a subscription until `count` of our events arrived (or the deadline closes it). */
    const take = async (
      subscription: Subscription,
      count: number,
      onEach?: (received: number) => Promise<void> | void,
      deadlineMs = 20_000,
    ): Promise<RecordedEvent[]> => {
      const out: RecordedEvent[] = [];
      const deadline = setTimeout(() => void subscription.close(), deadlineMs);
      try {
        for await (const e of subscription) {
          if (!ours(e)) continue;
          out.push(e);
          await onEach?.(out.length);
          if (out.length >= count) break;
        }
      } finally {
        clearTimeout(deadline);
      }
      return out;
    };

    test('append then readStream returns the events as stored, with revisions, positions and the chain', async () => {
      const s = streamName('roundtrip');
      const input = events('rt', 3);
      const result = await store.append(s, input, { expectedRevision: 'no_stream' });

      expect(result.nextRevision).toBe(2);
      expect(result.events.map((e) => [e.id, e.type, e.streamId, e.revision])).toEqual(input.map((e, i) => [e.id, e.type, s, i]));
      expect(result.events.map((e) => e.data)).toEqual(input.map((e) => e.data));
      expect(result.events.map((e) => e.metadata)).toEqual(input.map((e) => e.metadata));
      const positions = result.events.map((e) => e.position);
      expect([...positions].sort((a, b) => a - b)).toEqual(positions);
      expect(new Set(positions).size).toBe(3);
      expect(result.events[0]!.prevHash).toBe(GENESIS_HASH);
      expect(result.events[1]!.prevHash).toBe(result.events[0]!.hash);

      expect(await collect(store.readStream(s))).toEqual(result.events);
      expect(await collect(store.readStream(s, { direction: 'backwards' }))).toEqual([...result.events].reverse());
      expect((await collect(store.readStream(s, { fromRevision: 1 }))).map((e) => e.revision)).toEqual([1, 2]);
      expect((await collect(store.readStream(s, { fromRevision: 1, direction: 'backwards' }))).map((e) => e.revision)).toEqual([1, 0]);
      expect((await collect(store.readStream(s, { maxCount: 2 }))).map((e) => e.revision)).toEqual([0, 1]);
      expect(await collect(store.readStream(streamName('missing')))).toEqual([]);
      expect(await store.streamRevision(s)).toBe(2);
      expect(await store.streamRevision(streamName('missing'))).toBeNull();
      expect(await store.headPosition()).toBeGreaterThanOrEqual(positions[2]!);
      const streams = await store.streamIds();
      expect(streams).toContain(s);
      expect(streams).not.toContain(streamName('missing'));
      expect(streams).toEqual([...streams].sort());
      await store.ping();
    });

    test('expected revision: no_stream, stream_exists, any and an exact revision; a conflict stores nothing', async () => {
      const s = streamName('expected');
      await expect(store.append(s, [event('e')], { expectedRevision: 'stream_exists' })).rejects.toMatchObject({
        name: 'ConcurrencyConflictError',
        actual: null,
      });
      expect(await store.streamRevision(s)).toBeNull();

      expect((await store.append(s, [event('e')], { expectedRevision: 'no_stream' })).nextRevision).toBe(0);
      const noStream = store.append(s, [event('e')], { expectedRevision: 'no_stream' });
      await expect(noStream).rejects.toBeInstanceOf(ConcurrencyConflictError);
      await expect(noStream).rejects.toMatchObject({ streamId: s, expected: 'no_stream', actual: 0 });

      expect((await store.append(s, [event('e')], { expectedRevision: 'stream_exists' })).nextRevision).toBe(1);
      expect((await store.append(s, [event('e')], { expectedRevision: 1 })).nextRevision).toBe(2);
      await expect(store.append(s, [event('e')], { expectedRevision: 1 })).rejects.toMatchObject({ expected: 1, actual: 2 });
      await expect(store.append(s, [event('e')], { expectedRevision: 5 })).rejects.toBeInstanceOf(ConcurrencyConflictError);
      expect((await store.append(s, events('e', 2), { expectedRevision: 'any' })).nextRevision).toBe(4);
      expect((await store.append(s, [event('e')])).nextRevision).toBe(5);
      expect(await store.streamRevision(s)).toBe(5);
      expect((await store.verifyChain(s)).valid).toBe(true);
    });

    test('idempotent re-append by id: the same batch returns the stored events and writes nothing', async () => {
      const s = streamName('idem');
      const batch = events('i', 2);
      const first = await store.append(s, batch, { expectedRevision: 'no_stream' });
      const head = await store.headPosition();

      expect(await store.append(s, batch, { expectedRevision: 'no_stream' })).toEqual(first);
      expect(await store.append(s, batch)).toEqual(first);
      expect(await store.headPosition()).toBe(head);

      // A retry that comes after other appends, with the expectation the first attempt had.
      await store.append(s, [event('later')], { expectedRevision: 1 });
      expect(await store.append(s, batch, { expectedRevision: 'no_stream' })).toEqual(first);
      expect(await store.streamRevision(s)).toBe(2);
      expect((await collect(store.readStream(s))).map((e) => e.id)).toEqual([batch[0]!.id, batch[1]!.id, expect.any(String)]);
    });

    test('command keys: recorded in the same append as their events, found with those events; a conflict stores neither', async () => {
      const stream = streamName('keys');
      expect(await store.commandByKey(stream, 'k-1')).toBeUndefined();
      await store.append(stream, events('pre', 2));
      const batch = events('cmd', 3);
      const { events: stored } = await store.append(stream, batch, {
        expectedRevision: 1,
        commands: [
          { key: 'k-1', first: 0, count: 2, answer: { kind: 'appended' } },
          { key: 'k-2', first: 2, count: 1, answer: { kind: 'refused', rule: 'R24', detail: 'no' } },
        ],
      });
      const one = await store.commandByKey(stream, 'k-1');
      expect(one).toEqual({ key: 'k-1', answer: { kind: 'appended' }, events: stored.slice(0, 2) });
      expect(await store.commandByKey(stream, 'k-2')).toEqual({ key: 'k-2', answer: { kind: 'refused', rule: 'R24', detail: 'no' }, events: stored.slice(2) });
      // Keys are per stream.
      expect(await store.commandByKey(streamName('other'), 'k-1')).toBeUndefined();
      // The append that loses the race records no key either.
      await expect(
        store.append(stream, events('late', 1), { expectedRevision: 1, commands: [{ key: 'k-3', first: 0, count: 1, answer: { kind: 'appended' } }] }),
      ).rejects.toBeInstanceOf(ConcurrencyConflictError);
      expect(await store.commandByKey(stream, 'k-3')).toBeUndefined();
      // A key already recorded fails the whole append: nothing of it is stored.
      await expect(
        store.append(stream, events('again', 1), { commands: [{ key: 'k-1', first: 0, count: 1, answer: { kind: 'appended' } }] }),
      ).rejects.toThrow();
      expect(await store.streamRevision(stream)).toBe(4);
    });

    test('verifyChain with tail checks the last events only, from the hash the event before them stores', async () => {
      const stream = streamName('tail');
      await store.append(stream, events('t', 7));
      const full = await store.verifyChain(stream);
      expect(await store.verifyChain(stream, undefined, { tail: 3 })).toEqual({ ...full, events: 3 });
      expect(await store.verifyChain(stream, undefined, { tail: 100 })).toEqual(full);
      expect(await store.verifyChain(streamName('none'), undefined, { tail: 3 })).toMatchObject({ valid: true, events: 0 });
    });

    test('knownIds tells which ids are stored in the stream asked about', async () => {
      const a = (await store.append(streamName('known-a'), events('ka', 2))).events;
      const b = (await store.append(streamName('known-b'), events('kb', 1))).events;
      const unknown = `${run}-never-stored`;
      expect(await store.knownIds(streamName('known-a'), [a[1]!.id, unknown, b[0]!.id])).toEqual(new Set([a[1]!.id]));
      expect(await store.knownIds(streamName('known-b'), [a[1]!.id, unknown, b[0]!.id])).toEqual(new Set([b[0]!.id]));
      expect(await store.knownIds(streamName('known-a'), [unknown])).toEqual(new Set());
      expect(await store.knownIds(streamName('never-written'), [a[0]!.id])).toEqual(new Set());
      expect(await store.knownIds(streamName('known-a'), [])).toEqual(new Set());
    });

    test('eventById answers the stored event of this stream, and undefined for an id of another stream or none', async () => {
      const a = (await store.append(streamName('by-id-a'), events('ba', 3))).events;
      const b = (await store.append(streamName('by-id-b'), events('bb', 1))).events;
      expect(await store.eventById(streamName('by-id-a'), a[1]!.id)).toEqual(a[1]);
      expect(await store.eventById(streamName('by-id-b'), b[0]!.id)).toEqual(b[0]);
      expect(await store.eventById(streamName('by-id-a'), b[0]!.id)).toBeUndefined();
      expect(await store.eventById(streamName('by-id-a'), `${run}-never-stored`)).toBeUndefined();
      expect(await store.eventById(streamName('never-written'), a[0]!.id)).toBeUndefined();
    });

    test('ids are unique per stream: the same id in two streams is stored in both; again in the same stream is the idempotent no-op', async () => {
      const shared = event('shared-id');
      const inA = await store.append(streamName('same-id-a'), [shared]);
      const inB = await store.append(streamName('same-id-b'), [shared]);
      expect(inB.events).toHaveLength(1);
      expect(inB.events[0]!.id).toBe(shared.id);
      expect(inB.events[0]!.streamId).toBe(streamName('same-id-b'));
      expect(inB.events[0]!.position).not.toBe(inA.events[0]!.position);
      const head = await store.headPosition();
      expect(await store.append(streamName('same-id-a'), [shared])).toEqual(inA);
      expect(await store.append(streamName('same-id-b'), [shared])).toEqual(inB);
      expect(await store.headPosition()).toBe(head);
      for (const s of ['same-id-a', 'same-id-b']) expect((await collect(store.readStream(streamName(s)))).map((e) => e.id)).toEqual([shared.id]);
      expect((await store.verifyChain(streamName('same-id-b'))).valid).toBe(true);
    });

    test('idempotency: a batch whose ids were only partly stored is refused and stores nothing', async () => {
      const s = streamName('partial');
      const batch = events('p', 2);
      await store.append(s, batch, { expectedRevision: 'no_stream' });
      const head = await store.headPosition();

      const fresh = event('fresh');
      const overlap = store.append(s, [batch[1]!, fresh]);
      await expect(overlap).rejects.toBeInstanceOf(IdempotencyMismatchError);
      await expect(overlap).rejects.toMatchObject({ streamId: s, eventIds: [batch[1]!.id] });
      // Ids stored as consecutive events of this stream, in this order, are a replay even as a sub-run.
      expect((await store.append(s, [batch[0]!])).events).toEqual([expect.objectContaining({ id: batch[0]!.id, revision: 0 })]);
      await expect(store.append(s, [batch[1]!, batch[0]!])).rejects.toBeInstanceOf(IdempotencyMismatchError);
      expect(await store.headPosition()).toBe(head);
      expect(await store.streamRevision(s)).toBe(1);
      // The fresh event alone is fine afterwards.
      expect((await store.append(s, [fresh])).nextRevision).toBe(2);
    });

    test('atomicity: a batch that fails part-way stores none of its events', async () => {
      const s = streamName('atomic');
      const head = await store.headPosition();
      const bad = [event('a'), event('b', { broken: Number.NaN }), event('c')];
      await expect(store.append(s, bad)).rejects.toThrow();
      const twice = event('twice');
      await expect(store.append(s, [event('d'), twice, twice])).rejects.toThrow(/twice/);
      expect(await store.streamRevision(s)).toBeNull();
      expect(await store.headPosition()).toBe(head);
      // None of the rejected ids is taken: they append normally now.
      expect((await store.append(s, [bad[0]!, bad[2]!], { expectedRevision: 'no_stream' })).nextRevision).toBe(1);
    });

    test('readAll forwards and backwards with after, before and maxCount', async () => {
      const head = await store.headPosition();
      const a = streamName('all-a');
      const b = streamName('all-b');
      const written = [
        ...(await store.append(a, events('a', 3))).events,
        ...(await store.append(b, events('b', 2))).events,
        ...(await store.append(a, events('a', 2))).events,
      ];
      const pos = written.map((e) => e.position);
      const ids = written.map((e) => e.id);

      const forwards = (await collect(store.readAll({ after: head }))).filter(ours);
      expect(forwards).toEqual(written);
      expect((await collect(store.readAll({ after: pos[2] }))).filter(ours).map((e) => e.id)).toEqual(ids.slice(3));
      expect((await collect(store.readAll({ after: head, before: pos[5] }))).filter(ours).map((e) => e.id)).toEqual(ids.slice(0, 5));
      expect((await collect(store.readAll({ after: pos[1], maxCount: 2 }))).map((e) => e.id)).toEqual(ids.slice(2, 4));

      const backwards = (await collect(store.readAll({ direction: 'backwards', after: head }))).filter(ours);
      expect(backwards).toEqual([...written].reverse());
      expect((await collect(store.readAll({ direction: 'backwards', before: pos[4], after: head }))).filter(ours).map((e) => e.id)).toEqual(
        ids.slice(0, 4).reverse(),
      );
      expect((await collect(store.readAll({ direction: 'backwards', maxCount: 2 }))).map((e) => e.id)).toEqual(ids.slice(5).reverse());
      expect(await store.headPosition()).toBe(pos[6]);
    });

    test('readAllPages gives the events of readAll, forwards, in pages of at most pageSize', async () => {
      const head = await store.headPosition();
      const written = [
        ...(await store.append(streamName('pages-a'), events('a', 4))).events,
        ...(await store.append(streamName('pages-b'), events('b', 3))).events,
      ];
      const pages: (readonly RecordedEvent[])[] = [];
      for await (const page of store.readAllPages({ after: head, pageSize: 3 })) pages.push(page);
      expect(pages.flat().filter(ours)).toEqual(written);
      expect(pages.every((page) => page.length >= 1 && page.length <= 3)).toBe(true);
      const rest: RecordedEvent[] = [];
      for await (const page of store.readAllPages({ after: written[4]!.position })) rest.push(...page);
      expect(rest.filter(ours).map((e) => e.id)).toEqual(written.slice(5).map((e) => e.id));
      const content: RecordedEvent[] = [];
      for await (const page of store.readAllPages({ after: head, chain: false })) content.push(...page);
      expect(content.filter(ours).map(({ prevHash, hash, ...rest }) => rest)).toEqual(written.map(({ prevHash, hash, ...rest }) => rest));
      const none: (readonly RecordedEvent[])[] = [];
      for await (const page of store.readAllPages({ after: await store.headPosition() })) none.push(page);
      expect(none).toEqual([]);
    });

    test('catch-up subscription from the start replays history, then delivers live appends; close ends it', async () => {
      const head = await store.headPosition();
      const s = streamName('sub');
      const history = (await store.append(s, events('h', 5))).events;
      const subscription = store.subscribeToAll(head < 0 ? {} : { after: head });
      let live: RecordedEvent[] = [];
      const received = await take(subscription, 8, async (n) => {
        if (n === 5) live = [...(await store.append(s, events('live', 3))).events];
      });
      expect(received).toEqual([...history, ...live]);

      // close() ends a subscription that is waiting for events, promptly.
      const idle = store.subscribeToAll({ after: live[2]!.position });
      const iterating = (async () => {
        for await (const e of idle) if (ours(e)) throw new Error(`unexpected event ${e.id}`);
        return 'ended';
      })();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const closedAt = Date.now();
      await idle.close();
      expect(await iterating).toBe('ended');
      expect(Date.now() - closedAt).toBeLessThan(1000);
    });

    test('catch-up subscription from a middle position: no gap and no duplicate across the switch to live, with appends while catching up', async () => {
      const s = streamName('switch');
      const t = streamName('switch-other');
      const history: RecordedEvent[] = [];
      for (let i = 0; i < 3; i++) history.push(...(await store.append(i === 1 ? t : s, events(`h${i}-`, 700))).events);
      const from = history[49]!;
      const subscription = store.subscribeToAll({ after: from.position });
      const appended: RecordedEvent[] = [];
      const appendSome = async (label: string, count: number) => appended.push(...(await store.append(s, events(label, count))).events);

      const expectedCount = history.length - 50 + 5 + 300 + 7 + 2;
      let aroundPageEdge: Promise<unknown> = Promise.resolve();
      const received = await take(subscription, expectedCount, async (n) => {
        if (n === 1) await appendSome('during-catch-up-', 5); // while ~2000 historical events are still ahead
        if (n === 990) aroundPageEdge = appendSome('around-page-edge-', 300); // not awaited here: races the reader
        if (n === 1500) await Promise.all([appendSome('x', 7), appendSome('y', 2)]);
      });
      // Its events were read (committed) before its acknowledgement may have come back (an append worker's answer
      // can arrive after later, smaller appends were acknowledged): the test's own list waits for it.
      await aroundPageEdge;

      const expected = (await collect(store.readAll({ after: from.position }))).filter(ours);
      expect(expected).toHaveLength(expectedCount);
      expect(received.map((e) => e.id)).toEqual(expected.map((e) => e.id));
      expect(new Set(received.map((e) => e.position)).size).toBe(received.length);
      expect(received.every((e, i) => i === 0 || e.position > received[i - 1]!.position)).toBe(true);
      expect(received[0]!.id).toBe(history[50]!.id);
      expect(appended).toHaveLength(314);
    });

    test('two racing appends with the same expected revision: exactly one wins, the other gets ConcurrencyConflictError', async () => {
      const s = streamName('race');
      const fresh = await Promise.allSettled([
        store.append(s, [event('r1')], { expectedRevision: 'no_stream' }),
        store.append(s, [event('r2')], { expectedRevision: 'no_stream' }),
      ]);
      expect(fresh.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const lost = fresh.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(lost.reason).toBeInstanceOf(ConcurrencyConflictError);

      const racing = await Promise.allSettled([
        store.append(s, events('a', 3), { expectedRevision: 0 }),
        store.append(s, events('b', 3), { expectedRevision: 0 }),
      ]);
      expect(racing.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect((racing.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrencyConflictError);
      expect(await store.streamRevision(s)).toBe(3);
      expect((await store.verifyChain(s)).valid).toBe(true);
    });

    test('the chain verifies, and each hash is sha256(prevHash + canonical event)', async () => {
      const s = streamName('chain');
      await store.append(s, events('c', 4));
      await store.append(s, events('c', 3), { expectedRevision: 3 });
      const stored = await collect(store.readStream(s));
      let prev = GENESIS_HASH;
      for (const e of stored) {
        expect(e.prevHash).toBe(prev);
        expect(e.hash).toBe(eventHash(prev, e));
        prev = e.hash;
      }
      const progress: number[] = [];
      const verification = await store.verifyChain(s, (n) => progress.push(n));
      expect(verification).toEqual({ streamId: s, events: 7, head: prev, valid: true });
      expect(progress.at(-1)).toBe(7);
      expect(await store.verifyChain(streamName('none'))).toEqual({ streamId: streamName('none'), events: 0, head: null, valid: true });
    });

    test('multiple streams keep separate chains, each starting from the genesis hash', async () => {
      const a = streamName('tenant-a');
      const b = streamName('tenant-b');
      await store.append(a, events('a', 2));
      await store.append(b, events('b', 3));
      await store.append(a, events('a', 2));
      const first = async (s: string) => (await collect(store.readStream(s, { maxCount: 1 })))[0]!;
      expect((await first(a)).prevHash).toBe(GENESIS_HASH);
      expect((await first(b)).prevHash).toBe(GENESIS_HASH);
      expect(await store.verifyChain(a)).toMatchObject({ valid: true, events: 4 });
      expect(await store.verifyChain(b)).toMatchObject({ valid: true, events: 3 });
      expect((await store.verifyChain(a)).head).not.toBe((await store.verifyChain(b)).head);
    });
  });
}
