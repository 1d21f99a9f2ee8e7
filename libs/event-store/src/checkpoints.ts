import { createPrivateKey, createPublicKey, generateKeyPairSync, hash, sign, verify, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson, chainDefect, eventHash, GENESIS_HASH } from './chain.js';
import { leafHashOfChainHash, MerkleFrontier, verifyConsistency, verifyInclusion } from './merkle.js';
import type { EventStore, JsonValue } from './port.js';

/**
 * Signed checkpoints and the proof files an auditor verifies offline (docs/proofs.md).
 *
 * A checkpoint says "the tenant's log had `treeSize` events, their Merkle root was `rootHash` and the last one's
 * chain hash `chainHead`, at `time`", signed with Ed25519 over the canonical JSON of those fields (chain.ts's
 * canonicalJson, UTF-8): { chainHead, keyId, rootHash, streamId, tenantId, time, treeSize, version }.
 */

export interface CheckpointBody {
  readonly version: 1;
  readonly tenantId: string;
  readonly streamId: string;
  readonly treeSize: number;
  readonly rootHash: string;
  readonly chainHead: string;
  readonly time: string;
  readonly keyId: string;
}

export interface SignedCheckpoint extends CheckpointBody {
  /** Ed25519 signature (base64) of the canonical JSON of the body (every field but this one). */
  readonly signature: string;
}

export interface PublicCheckpointKey {
  readonly keyId: string;
  readonly algorithm: 'Ed25519';
  /** SubjectPublicKeyInfo, PEM. */
  readonly publicKey: string;
  readonly createdAt: string;
  /** When a newer key replaced it (it still verifies the checkpoints it signed). */
  readonly retiredAt: string | null;
}

/** The bytes a checkpoint's signature covers. */
export function checkpointSigningBytes(c: CheckpointBody): Buffer {
  const { version, tenantId, streamId, treeSize, rootHash, chainHead, time, keyId } = c;
  return Buffer.from(canonicalJson({ version, tenantId, streamId, treeSize, rootHash, chainHead, time, keyId }), 'utf8');
}

/** The key id: the first 16 hex digits of SHA-256 of the DER SubjectPublicKeyInfo. */
export function keyIdOf(publicKey: KeyObject): string {
  return hash('sha256', publicKey.export({ type: 'spki', format: 'der' }), 'hex').slice(0, 16);
}

/**
 * The signing keys in a directory (`$LEDGER_DATA_DIR/checkpoint-keys`): `keys.json` lists every public key, old ones
 * included (they keep verifying what they signed), and `<keyId>.pem` is each private key (mode 600). The newest key
 * signs. An operator's own key (PKCS#8 PEM) is imported by `importKey`.
 */
export class CheckpointKeyring {
  readonly #dir: string;
  #keys: PublicCheckpointKey[];
  #signer: { keyId: string; key: KeyObject } | undefined;

  private constructor(dir: string) {
    this.#dir = dir;
    const list = join(dir, 'keys.json');
    this.#keys = existsSync(list) ? (JSON.parse(readFileSync(list, 'utf8')) as { keys: PublicCheckpointKey[] }).keys : [];
  }

  /** Opens the keyring, creating its first key when it has none. */
  static open(dir: string, now: () => Date = () => new Date()): CheckpointKeyring {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const ring = new CheckpointKeyring(dir);
    if (ring.#keys.length === 0) ring.rotate(now());
    return ring;
  }

  get publicKeys(): readonly PublicCheckpointKey[] {
    return this.#keys;
  }

  /** Generates a new signing key; the current one is retired (still published). Returns the new key id. */
  rotate(at: Date = new Date()): string {
    const { privateKey } = generateKeyPairSync('ed25519');
    return this.#add(privateKey, at);
  }

  /** Makes the operator's Ed25519 private key (PKCS#8 PEM) the signing key. */
  importKey(pem: string, at: Date = new Date()): string {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`checkpoint keys are Ed25519; this key is ${key.asymmetricKeyType}`);
    return this.#add(key, at);
  }

  #add(privateKey: KeyObject, at: Date): string {
    const publicKey = createPublicKey(privateKey);
    const keyId = keyIdOf(publicKey);
    const file = join(this.#dir, `${keyId}.pem`);
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    chmodSync(file, 0o600);
    const time = at.toISOString();
    this.#keys = [
      ...this.#keys.filter((k) => k.keyId !== keyId).map((k) => (k.retiredAt === null ? { ...k, retiredAt: time } : k)),
      { keyId, algorithm: 'Ed25519', publicKey: publicKey.export({ type: 'spki', format: 'pem' }) as string, createdAt: time, retiredAt: null },
    ];
    const list = join(this.#dir, 'keys.json');
    writeFileSync(`${list}.tmp`, `${JSON.stringify({ keys: this.#keys }, null, 2)}\n`);
    renameSync(`${list}.tmp`, list);
    this.#signer = { keyId, key: privateKey };
    return keyId;
  }

  sign(body: Omit<CheckpointBody, 'keyId' | 'version'>): SignedCheckpoint {
    const current = this.#keys.find((k) => k.retiredAt === null)!;
    if (this.#signer?.keyId !== current.keyId)
      this.#signer = { keyId: current.keyId, key: createPrivateKey(readFileSync(join(this.#dir, `${current.keyId}.pem`), 'utf8')) };
    const full: CheckpointBody = { version: 1, ...body, keyId: current.keyId };
    return { ...full, signature: sign(null, checkpointSigningBytes(full), this.#signer.key).toString('base64') };
  }
}

/** Whether one of `keys` (by keyId) signed this checkpoint; a reason when not. */
export function checkpointSignatureDefect(c: SignedCheckpoint, keys: readonly PublicCheckpointKey[]): string | null {
  const key = keys.find((k) => k.keyId === c.keyId);
  if (key === undefined) return `checkpoint signed by unknown key ${c.keyId}`;
  let ok: boolean;
  try {
    ok = verify(null, checkpointSigningBytes(c), createPublicKey(key.publicKey), Buffer.from(c.signature, 'base64'));
  } catch (error) {
    return `checkpoint signature unreadable: ${(error as Error).message}`;
  }
  return ok ? null : `checkpoint signature does not verify with key ${c.keyId}`;
}

/** A checkpoint of the stream as it is now (its whole tree), signed by the keyring; undefined for a stream without events. */
export async function makeCheckpoint(
  store: EventStore,
  keyring: CheckpointKeyring,
  tenantId: string,
  streamId: string,
  now: Date = new Date(),
): Promise<SignedCheckpoint | undefined> {
  if (store.merkle === undefined) throw new Error('this event store keeps no Merkle tree (checkpoints need the SQLite store)');
  const treeSize = await store.merkle.treeSize(streamId);
  if (treeSize === 0) return undefined;
  const rootHash = await store.merkle.rootHash(streamId, treeSize);
  let chainHead = '';
  for await (const e of store.readStream(streamId, { fromRevision: treeSize - 1, maxCount: 1 })) chainHead = e.hash;
  return keyring.sign({ tenantId, streamId, treeSize, rootHash, chainHead, time: now.toISOString() });
}

/** An event as the inclusion proof carries it: everything its chain hash covers, and its stored hashes. */
export interface ProvenEvent {
  readonly streamId: string;
  readonly revision: number;
  readonly id: string;
  readonly type: string;
  readonly data: JsonValue;
  readonly metadata: { readonly [key: string]: JsonValue };
  readonly prevHash: string;
  readonly hash: string;
}

export interface InclusionProofFile {
  readonly kind: 'inclusion';
  readonly checkpoint: SignedCheckpoint;
  readonly event: ProvenEvent;
  /** = event.revision. */
  readonly leafIndex: number;
  /** RFC 9162 audit path, hex, bottom up. */
  readonly path: readonly string[];
}

export interface ConsistencyProofFile {
  readonly kind: 'consistency';
  readonly from: SignedCheckpoint;
  readonly to: SignedCheckpoint;
  readonly path: readonly string[];
}

export type ProofFile = InclusionProofFile | ConsistencyProofFile;

export async function inclusionProofFile(store: EventStore, checkpoint: SignedCheckpoint, eventId: string): Promise<InclusionProofFile | undefined> {
  const e = await store.eventById(checkpoint.streamId, eventId);
  if (e === undefined) return undefined;
  if (e.revision >= checkpoint.treeSize)
    throw new RangeError(`event ${eventId} (revision ${e.revision}) is newer than the checkpoint (${checkpoint.treeSize} events)`);
  const path = await store.merkle!.inclusionProof(checkpoint.streamId, e.revision, checkpoint.treeSize);
  const event: ProvenEvent = {
    streamId: e.streamId,
    revision: e.revision,
    id: e.id,
    type: e.type,
    data: e.data,
    metadata: e.metadata,
    prevHash: e.prevHash,
    hash: e.hash,
  };
  return { kind: 'inclusion', checkpoint, event, leafIndex: e.revision, path };
}

export async function consistencyProofFile(store: EventStore, from: SignedCheckpoint, to: SignedCheckpoint): Promise<ConsistencyProofFile> {
  if (from.streamId !== to.streamId) throw new RangeError('the two checkpoints are of different tenants');
  return { kind: 'consistency', from, to, path: await store.merkle!.consistencyProof(to.streamId, from.treeSize, to.treeSize) };
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Verifies a proof file with nothing but the public keys: null when it holds, else why not. */
export function proofFileDefect(proof: ProofFile, keys: readonly PublicCheckpointKey[]): string | null {
  if (proof.kind === 'inclusion') {
    const c = proof.checkpoint;
    const bad = checkpointSignatureDefect(c, keys);
    if (bad !== null) return bad;
    const e = proof.event;
    if (e.streamId !== c.streamId) return `the event is of stream ${e.streamId}, the checkpoint of ${c.streamId}`;
    if (proof.leafIndex !== e.revision) return `leaf index ${proof.leafIndex} is not the event's revision ${e.revision}`;
    if (!proof.path.every((p) => HEX64.test(p))) return 'a path node is not 64 hex digits';
    let computed: string;
    try {
      computed = eventHash(e.prevHash, e);
    } catch (error) {
      return `the event is not canonical JSON: ${(error as Error).message}`;
    }
    if (computed !== e.hash) return `the event's content hashes to ${computed.slice(0, 12)}…, not to its hash ${e.hash.slice(0, 12)}…`;
    const ok = verifyInclusion(
      proof.leafIndex,
      c.treeSize,
      leafHashOfChainHash(e.hash),
      proof.path.map((p) => Buffer.from(p, 'hex')),
      Buffer.from(c.rootHash, 'hex'),
    );
    return ok ? null : `the inclusion path does not lead from event ${e.id} to the checkpoint's root`;
  }
  for (const c of [proof.from, proof.to]) {
    const bad = checkpointSignatureDefect(c, keys);
    if (bad !== null) return bad;
  }
  if (proof.from.streamId !== proof.to.streamId) return 'the two checkpoints are of different streams';
  if (!proof.path.every((p) => HEX64.test(p))) return 'a path node is not 64 hex digits';
  const ok = verifyConsistency(
    proof.from.treeSize,
    proof.to.treeSize,
    Buffer.from(proof.from.rootHash, 'hex'),
    Buffer.from(proof.to.rootHash, 'hex'),
    proof.path.map((p) => Buffer.from(p, 'hex')),
  );
  return ok ? null : `the tree of ${proof.to.treeSize} events does not extend the tree of ${proof.from.treeSize} (the log was rewritten)`;
}

export interface CheckpointVerification {
  readonly valid: boolean;
  readonly treeSize: number;
  /** Events of the stream now. */
  readonly events: number;
  readonly reason?: string;
}

/**
 * `ledger verify --against`: rebuilds the tree of the stream's first `treeSize` events from the events alone (their
 * chain checked on the way, nothing stored about the tree trusted) and compares its root and chain head with the
 * checkpoint's. A truncated tail (fewer events than the checkpoint covers) or a rewritten one (another root) fails.
 */
export async function verifyAgainstCheckpoint(store: EventStore, checkpoint: SignedCheckpoint): Promise<CheckpointVerification> {
  const tree = new MerkleFrontier();
  let prevHash = GENESIS_HASH;
  let events = 0;
  const result = (valid: boolean, reason?: string): CheckpointVerification => ({
    valid,
    treeSize: checkpoint.treeSize,
    events,
    ...(reason ? { reason } : {}),
  });
  for await (const e of store.readStream(checkpoint.streamId)) {
    const defect = chainDefect(e, events, prevHash);
    if (defect !== null && events < checkpoint.treeSize) return result(false, `revision ${e.revision}: ${defect}`);
    if (events < checkpoint.treeSize) tree.push(leafHashOfChainHash(e.hash));
    prevHash = e.hash;
    events++;
    if (events === checkpoint.treeSize) {
      if (e.hash !== checkpoint.chainHead)
        return result(false, `the chain head at ${events} events is ${e.hash.slice(0, 12)}…, the checkpoint says ${checkpoint.chainHead.slice(0, 12)}…`);
      if (tree.root().toString('hex') !== checkpoint.rootHash)
        return result(false, `the Merkle root of the first ${events} events is not the checkpoint's (the history was rewritten)`);
    }
  }
  if (events < checkpoint.treeSize) return result(false, `truncated: the stream has ${events} events, the checkpoint covers ${checkpoint.treeSize}`);
  return result(true);
}

/**
 * Checkpoints on disk, one JSON file each: `DIR/<tenantId>/<treeSize, 12 digits>.json` (DIR =
 * `$LEDGER_DATA_DIR/checkpoints`), written by `ledger checkpoint` and by the server's checkpointer alike.
 */
export class CheckpointFiles {
  constructor(readonly dir: string) {}

  write(c: SignedCheckpoint): string {
    const dir = join(this.dir, c.tenantId);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${String(c.treeSize).padStart(12, '0')}.json`);
    writeFileSync(`${file}.tmp`, `${JSON.stringify(c, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
    return file;
  }

  /** The tenant's checkpoints, oldest first. */
  list(tenantId: string): SignedCheckpoint[] {
    const dir = join(this.dir, tenantId);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => /^\d{12}\.json$/.test(f))
      .sort()
      .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as SignedCheckpoint);
  }

  get(tenantId: string, treeSize: number): SignedCheckpoint | undefined {
    const file = join(this.dir, tenantId, `${String(treeSize).padStart(12, '0')}.json`);
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as SignedCheckpoint) : undefined;
  }
}

export interface CheckpointerOptions {
  readonly store: EventStore;
  readonly keyring: CheckpointKeyring;
  readonly files: CheckpointFiles;
  /** A checkpoint once this many events were appended since the last one… */
  readonly everyEvents: number;
  /** …or this long after the last one, if anything was appended. */
  readonly everyMs: number;
  /** Called with each new checkpoint (anchoring: the sinks). */
  readonly onCheckpoint?: (c: SignedCheckpoint) => void | Promise<void>;
  readonly onError?: (error: unknown) => void;
}

/**
 * The server's checkpointer: every min(everyMs, 1 s) it looks at each tenant's tree size (one indexed read per
 * stream) and signs a checkpoint where `everyEvents` new events accumulated or `everyMs` passed since the last one.
 * `tick()` runs one round (tests, and `stop()` runs a last one so a clean shutdown leaves the head checkpointed).
 */
export function startCheckpointer(o: CheckpointerOptions): { tick(): Promise<SignedCheckpoint[]>; stop(): Promise<void> } {
  const last = new Map<string, { size: number; at: number }>();
  let running: Promise<SignedCheckpoint[]> = Promise.resolve([]);
  const round = async (): Promise<SignedCheckpoint[]> => {
    const made: SignedCheckpoint[] = [];
    if (o.store.merkle === undefined) return made;
    for (const streamId of await o.store.streamIds()) {
      const tenantId = streamId.startsWith('tenant-') ? streamId.slice('tenant-'.length) : undefined;
      if (tenantId === undefined) continue;
      if (!last.has(streamId)) {
        const previous = o.files.list(tenantId).at(-1);
        last.set(streamId, { size: previous?.treeSize ?? 0, at: previous ? Date.parse(previous.time) : 0 });
      }
      const before = last.get(streamId)!;
      const size = await o.store.merkle.treeSize(streamId);
      if (size <= before.size) continue;
      if (size - before.size < o.everyEvents && Date.now() - before.at < o.everyMs) continue;
      const c = await makeCheckpoint(o.store, o.keyring, tenantId, streamId);
      if (c === undefined) continue;
      o.files.write(c);
      last.set(streamId, { size: c.treeSize, at: Date.parse(c.time) });
      made.push(c);
      await o.onCheckpoint?.(c);
    }
    return made;
  };
  const tick = () => {
    running = running.then(round, round).catch((error: unknown) => {
      o.onError?.(error);
      return [];
    });
    return running;
  };
  const timer = setInterval(() => void tick(), Math.max(50, Math.min(o.everyMs, 1000)));
  timer.unref();
  return {
    tick,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
