/**
 * Issue 14 end to end: `ledger checkpoint`, `ledger prove`, `ledger verify-proof` and `ledger verify --against` as
 * child processes on a real SQLite store; every proof is also checked by an INDEPENDENT verifier written from
 * docs/proofs.md alone (below: it imports nothing of the product's Merkle, chain or checkpoint code).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHash, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import fc from 'fast-check';
import { CheckpointKeyring, eventHash, inclusionProofFile, makeCheckpoint, SqliteEventStore, tenantStream } from '@access-ledger/event-store';
import { runLedger } from './support/ledger-cli.js';

// ---------------------------------------------------------------- the independent verifier (docs/proofs.md only)
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const canon = (v: Json): string =>
  v === null || typeof v !== 'object'
    ? JSON.stringify(v)
    : Array.isArray(v)
      ? `[${v.map(canon).join(',')}]`
      : `{${Object.keys(v)
          .sort()
          .filter((k) => v[k] !== undefined)
          .map((k) => `${JSON.stringify(k)}:${canon(v[k]!)}`)
          .join(',')}}`;
const sha = (...b: Buffer[]) => createHash('sha256').update(Buffer.concat(b)).digest();
const leafOf = (hashHex: string) => sha(Buffer.from([0]), Buffer.from(hashHex, 'hex'));
const node = (l: Buffer, r: Buffer) => sha(Buffer.from([1]), l, r);
interface Cp {
  [k: string]: Json;
  treeSize: number;
  rootHash: string;
  keyId: string;
  signature: string;
  streamId: string;
}
function checkpointOk(cp: Cp, keys: { keyId: string; publicKey: string }[]): boolean {
  const key = keys.find((k) => k.keyId === cp.keyId);
  if (!key) return false;
  const { signature, ...body } = cp;
  return verify(null, Buffer.from(canon(body), 'utf8'), createPublicKey(key.publicKey), Buffer.from(signature, 'base64'));
}
function independentVerify(proof: any, keys: { keyId: string; publicKey: string }[]): boolean {
  if (proof.kind === 'inclusion') {
    const cp = proof.checkpoint as Cp;
    const e = proof.event;
    if (!checkpointOk(cp, keys) || e.streamId !== cp.streamId || proof.leafIndex !== e.revision) return false;
    const view = canon({ data: e.data, id: e.id, metadata: e.metadata, revision: e.revision, streamId: e.streamId, type: e.type });
    if (
      createHash('sha256')
        .update(e.prevHash + view, 'utf8')
        .digest('hex') !== e.hash
    )
      return false;
    let fn = proof.leafIndex;
    let sn = cp.treeSize - 1;
    if (fn > sn) return false;
    let r = leafOf(e.hash);
    for (const h of proof.path as string[]) {
      const p = Buffer.from(h, 'hex');
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = node(p, r);
        while (fn % 2 === 0 && fn !== 0) [fn, sn] = [fn >> 1, sn >> 1];
      } else r = node(r, p);
      [fn, sn] = [fn >> 1, sn >> 1];
    }
    return sn === 0 && r.toString('hex') === cp.rootHash;
  }
  const [from, to] = [proof.from as Cp, proof.to as Cp];
  if (!checkpointOk(from, keys) || !checkpointOk(to, keys) || from.streamId !== to.streamId) return false;
  const [first, second] = [from.treeSize, to.treeSize];
  if (first > second || first < 1) return false;
  if (first === second) return proof.path.length === 0 && from.rootHash === to.rootHash;
  const path: Buffer[] = (proof.path as string[]).map((h) => Buffer.from(h, 'hex'));
  if (path.length === 0) return false;
  if ((first & (first - 1)) === 0) path.unshift(Buffer.from(from.rootHash, 'hex'));
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) [fn, sn] = [fn >> 1, sn >> 1];
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = node(c, fr);
      sr = node(c, sr);
      while (fn % 2 === 0 && fn !== 0) [fn, sn] = [fn >> 1, sn >> 1];
    } else sr = node(sr, c);
    [fn, sn] = [fn >> 1, sn >> 1];
  }
  return fr.toString('hex') === from.rootHash && sr.toString('hex') === to.rootHash && sn === 0;
}
// ----------------------------------------------------------------------------------------------------------------

let root: string;
let dataDir: string;
const stream = tenantStream('acme');
const events = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: `e${from + i}`, type: 'MemberAdded', data: { n: from + i, who: `user-${from + i}` }, metadata: { actor: 'x' } }));

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'proofs-e2e-'));
  dataDir = join(root, 'data');
  const store = SqliteEventStore.open(join(dataDir, 'events.sqlite'));
  await store.append(stream, events(0, 100));
  await store.append(tenantStream('other'), events(0, 5));
  await store.close();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const keysFile = () => join(dataDir, 'checkpoint-keys', 'keys.json');
const keys = () => (JSON.parse(readFileSync(keysFile(), 'utf8')) as { keys: { keyId: string; publicKey: string }[] }).keys;
async function checkpoint(dir = dataDir, ...args: string[]): Promise<string> {
  const run = await runLedger(dir, ['checkpoint', '--tenant', 'acme', ...args]);
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return run.stdout.trim();
}
async function prove(args: string[]): Promise<string> {
  const run = await runLedger(dataDir, ['prove', ...args]);
  expect(run.status).toBe(0);
  const file = join(root, `proof-${Math.random()}.json`);
  writeFileSync(file, run.stdout);
  return file;
}

describe('signed checkpoints and offline proofs (issue 14)', () => {
  let cp1: string;
  let cp2: string;

  test('checkpoints are signed; an inclusion and a consistency proof verify offline and in the independent verifier', async () => {
    cp1 = await checkpoint();
    const store = SqliteEventStore.open(join(dataDir, 'events.sqlite'));
    await store.append(stream, events(100, 37));
    await store.close();
    cp2 = await checkpoint(dataDir, '--rotate-key'); // signed by a new key; the old one stays published
    expect(keys()).toHaveLength(2);
    const c1 = JSON.parse(readFileSync(cp1, 'utf8'));
    const c2 = JSON.parse(readFileSync(cp2, 'utf8'));
    expect([c1.treeSize, c2.treeSize]).toEqual([100, 137]);
    expect(c1.keyId).not.toBe(c2.keyId);

    for (const args of [
      ['--checkpoint', cp2, '--event', 'e42'],
      ['--checkpoint', cp1, '--event', 'e99'],
      ['--checkpoint', cp2, '--from', cp1],
    ]) {
      const file = await prove(args);
      const run = await runLedger(dataDir, ['verify-proof', file, '--keys', keysFile()]);
      expect(run.stdout).toMatch(/proof valid/);
      expect(run.status).toBe(0);
      expect(independentVerify(JSON.parse(readFileSync(file, 'utf8')), keys())).toBe(true);
    }
  });

  test('a tampered proof, an event of another place, or a checkpoint signed by another key is refused', async () => {
    const file = await prove(['--checkpoint', cp2, '--event', 'e7']);
    const proof = JSON.parse(readFileSync(file, 'utf8'));
    const { privateKey } = generateKeyPairSync('ed25519');
    const { signature: _s, ...body } = proof.checkpoint;
    const cases: [string, unknown][] = [
      ['edited data', { ...proof, event: { ...proof.event, data: { ...proof.event.data, who: 'mallory' } } }],
      ['another leaf index', { ...proof, leafIndex: 8, event: { ...proof.event, revision: 8 } }],
      ['a path node changed', { ...proof, path: [proof.path[1], proof.path[0], ...proof.path.slice(2)] }],
      [
        'forged checkpoint (wrong key)',
        { ...proof, checkpoint: { ...proof.checkpoint, signature: sign(null, Buffer.from(canon(body)), privateKey).toString('base64') } },
      ],
      ['checkpoint with a bigger tree size', { ...proof, checkpoint: { ...proof.checkpoint, treeSize: 200 } }],
    ];
    for (const [what, forged] of cases) {
      const f = join(root, 'forged.json');
      writeFileSync(f, JSON.stringify(forged));
      const run = await runLedger(dataDir, ['verify-proof', f, '--keys', keysFile()]);
      expect([what, run.status, run.stderr]).toEqual([what, 1, expect.stringMatching(/proof INVALID/)]);
      expect([what, independentVerify(forged, keys())]).toEqual([what, false]);
    }
    // `verify --against` with the keys refuses the forged checkpoint too.
    const forgedCp = join(root, 'forged-cp.json');
    writeFileSync(forgedCp, JSON.stringify((cases[3]![1] as { checkpoint: unknown }).checkpoint));
    const run = await runLedger(dataDir, ['verify', '--tenant', 'acme', '--against', forgedCp, '--keys', keysFile()]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/checkpoint refused: checkpoint signature does not verify/);
  });

  test('verify --against catches a truncated, edited (even re-chained), deleted or reordered tail that plain verify misses', async () => {
    const ok = await runLedger(dataDir, ['verify', '--tenant', 'acme', '--against', cp2]);
    expect(ok.stdout).toMatch(/the first 137 events match the checkpoint/);
    expect(ok.status).toBe(0);
    const tamper = async (sql: (db: DatabaseSync) => void, rechain: boolean): Promise<{ plain: number | null; against: string }> => {
      const dir = join(root, `tampered-${Math.random()}`);
      cpSync(dataDir, dir, { recursive: true });
      const db = new DatabaseSync(join(dir, 'events.sqlite'));
      sql(db);
      if (rechain) {
        // The attacker recomputes every hash after the edit, so the chain alone verifies.
        const rows = db
          .prepare('SELECT position, stream_id, revision, id, type, data, metadata FROM events WHERE stream_id = ? ORDER BY revision')
          .all(stream) as any[];
        let prev = '0'.repeat(64);
        rows.forEach((r, i) => {
          const hash = eventHash(prev, {
            streamId: r.stream_id,
            revision: i,
            id: r.id,
            type: r.type,
            data: JSON.parse(r.data),
            metadata: JSON.parse(r.metadata),
          });
          db.prepare('UPDATE events SET revision = ?, prev_hash = ?, hash = ? WHERE position = ?').run(-1 - i, prev, hash, r.position);
          prev = hash;
        });
        db.prepare('UPDATE events SET revision = -1 - revision WHERE stream_id = ?').run(stream);
      }
      db.close();
      const plain = (await runLedger(dir, ['verify', '--tenant', 'acme'])).status;
      const against = await runLedger(dir, ['verify', '--tenant', 'acme', '--against', cp2]);
      expect(against.status).toBe(1);
      return { plain, against: against.stdout };
    };
    // Truncated: the last 10 events deleted. The chain is intact; only the checkpoint knows.
    const truncated = await tamper((db) => db.prepare('DELETE FROM events WHERE stream_id = ? AND revision >= 127').run(stream), false);
    expect(truncated).toEqual({ plain: 0, against: expect.stringMatching(/truncated: the stream has 127 events, the checkpoint covers 137/) });
    // Edited and re-chained: the chain verifies, the Merkle root does not.
    const edited = await tamper(
      (db) => db.prepare(`UPDATE events SET data = '{"n":50,"who":"mallory"}' WHERE stream_id = ? AND revision = 50`).run(stream),
      true,
    );
    expect(edited).toEqual({ plain: 0, against: expect.stringMatching(/chain head .* checkpoint says|history was rewritten/) });
    // Deleted in the middle and re-chained.
    const deleted = await tamper((db) => db.prepare('DELETE FROM events WHERE stream_id = ? AND revision = 60').run(stream), true);
    expect(deleted.plain).toBe(0);
    // Reordered (two events swapped) and re-chained.
    const reordered = await tamper((db) => {
      db.prepare('UPDATE events SET revision = -5 WHERE stream_id = ? AND revision = 5').run(stream);
      db.prepare('UPDATE events SET revision = 5 WHERE stream_id = ? AND revision = 6').run(stream);
      db.prepare('UPDATE events SET revision = 6 WHERE stream_id = ? AND revision = -5').run(stream);
    }, false);
    expect(reordered.plain).toBe(1);
    expect(reordered.against).toMatch(/does NOT match/);
  });
});

describe('property: random logs, random (event, checkpoint) pairs, checked by the independent verifier', () => {
  test('every inclusion proof of every sampled pair verifies; the same proof against another checkpoint does not', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 5 }),
        async (batches, pairs) => {
          const dir = mkdtempSync(join(root, 'prop-'));
          const store = SqliteEventStore.open(join(dir, 'events.sqlite'));
          const ring = CheckpointKeyring.open(join(dir, 'keys'));
          try {
            const checkpoints = [];
            let n = 0;
            for (const b of batches) {
              await store.append(stream, events(n, b));
              n += b;
              checkpoints.push((await makeCheckpoint(store, ring, 'acme', stream))!);
            }
            for (const [ci, ei] of pairs) {
              const cp = checkpoints[ci % checkpoints.length]!;
              const proof = (await inclusionProofFile(store, cp, `e${ei % cp.treeSize}`))!;
              expect(independentVerify(proof, ring.publicKeys as never)).toBe(true);
              const other = checkpoints.find((c) => c.treeSize !== cp.treeSize);
              if (other !== undefined) expect(independentVerify({ ...proof, checkpoint: other }, ring.publicKeys as never)).toBe(false);
            }
          } finally {
            await store.close();
            rmSync(dir, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});
void readdirSync;
