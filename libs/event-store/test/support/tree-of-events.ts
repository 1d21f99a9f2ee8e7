import { expect } from '@jest/globals';
import { leafHashOfChainHash, rootOfLeafHashes, verifyConsistency, verifyInclusion } from '../../src/merkle.js';
import type { SqliteEventStore } from '../../src/sqlite/sqlite-event-store.js';

const hex = (s: string) => Buffer.from(s, 'hex');

/** Leaf hashes of a stream, from its chain hashes (node:crypto, nothing stored trusted). */
export async function leavesOf(store: SqliteEventStore, stream: string): Promise<Buffer[]> {
  const leaves: Buffer[] = [];
  for await (const e of store.readStream(stream)) leaves.push(leafHashOfChainHash(e.hash));
  return leaves;
}

export const rootOf = (leaves: Buffer[], n: number) => rootOfLeafHashes(leaves.slice(0, n)).toString('hex');

/** The stored tree is the tree of all the stream's events: roots, an inclusion and a consistency proof. */
export async function expectTreeOfEvents(store: SqliteEventStore, stream: string, leafSeed: number, sizeSeed: number): Promise<void> {
  const leaves = await leavesOf(store, stream);
  const n = leaves.length;
  expect(await store.merkle.treeSize(stream)).toBe(n);
  expect(await store.merkle.rootHash(stream, n)).toBe(rootOf(leaves, n));
  const size = 1 + (sizeSeed % n);
  const leaf = leafSeed % size;
  const root = rootOf(leaves, size);
  expect(await store.merkle.rootHash(stream, size)).toBe(root);
  const proof = await store.merkle.inclusionProof(stream, leaf, size);
  expect(verifyInclusion(leaf, size, leaves[leaf]!, proof.map(hex), hex(root))).toBe(true);
  const consistency = await store.merkle.consistencyProof(stream, size, n);
  expect(verifyConsistency(size, n, hex(root), hex(rootOf(leaves, n)), consistency.map(hex))).toBe(true);
}
