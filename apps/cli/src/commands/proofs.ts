import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CheckpointFiles,
  CheckpointKeyring,
  consistencyProofFile,
  inclusionProofFile,
  makeCheckpoint,
  proofFileDefect,
  tenantOfStream,
  tenantStream,
  type ProofFile,
  type PublicCheckpointKey,
  type SignedCheckpoint,
} from '@access-ledger/event-store';
import { CliError, configOf } from '../program.js';

/**
 * Proofs (docs/proofs.md): `ledger checkpoint` signs checkpoints of the tenants' Merkle trees, `ledger prove` writes
 * an inclusion or consistency proof file, `ledger verify-proof` checks one offline with nothing but the public keys.
 */

export const checkpointKeysDir = (dataDir: string) => join(dataDir, 'checkpoint-keys');
export const checkpointsDir = (dataDir: string) => join(dataDir, 'checkpoints');

function readJson<T>(file: string, what: string): T {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (error) {
    throw new CliError(`cannot read ${what} ${file}: ${(error as Error).message}`, 2);
  }
}

export function readCheckpoint(file: string): SignedCheckpoint {
  return readJson<SignedCheckpoint>(file, 'checkpoint');
}

export function registerProofs(program: Command): void {
  program
    .command('checkpoint')
    .description(
      "Sign a checkpoint {tenant, tree size, Merkle root, chain head, time} of each tenant's log with the data directory's Ed25519 key (created on first use in DATA_DIR/checkpoint-keys; keys.json there lists the public keys) and write it to DATA_DIR/checkpoints/TENANT/SIZE.json.",
    )
    .option('-t, --tenant <tenant>', 'only this tenant (default: every tenant)')
    .option('--rotate-key', 'first make a new signing key (the old public key stays published)', false)
    .option('--import-key <pem>', "first make this Ed25519 private key (PKCS#8 PEM file) the signing key (the operator's own)")
    .action(async (options: { tenant?: string; rotateKey: boolean; importKey?: string }, command: Command) => {
      const { withEventStore } = await import('../ledger-on-disk.js');
      const config = configOf(command);
      const keyring = CheckpointKeyring.open(checkpointKeysDir(config.dataDir));
      if (options.importKey !== undefined) keyring.importKey(readFileSync(options.importKey, 'utf8'));
      else if (options.rotateKey) keyring.rotate();
      await withEventStore(config, async (store) => {
        const tenants = (await store.streamIds()).map(tenantOfStream).filter((t): t is string => t !== undefined);
        if (options.tenant !== undefined && !tenants.includes(options.tenant)) throw new CliError(`tenant ${options.tenant} has no events in this store`, 1);
        for (const tenantId of options.tenant ? [options.tenant] : tenants) {
          const checkpoint = await makeCheckpoint(store, keyring, tenantId, tenantStream(tenantId));
          if (checkpoint === undefined) continue;
          process.stdout.write(`${new CheckpointFiles(checkpointsDir(config.dataDir)).write(checkpoint)}\n`);
        }
      });
    });

  program
    .command('prove')
    .description('Write (to stdout) an inclusion proof of an event in a checkpoint (--event), or a consistency proof from an older checkpoint (--from).')
    .requiredOption('--checkpoint <file>', 'the checkpoint to prove against (its tenant is the one proven)')
    .option('--event <id>', 'the event id')
    .option('--from <file>', 'an older checkpoint of the same tenant')
    .action(async (options: { checkpoint: string; event?: string; from?: string }, command: Command) => {
      if ((options.event === undefined) === (options.from === undefined)) throw new CliError('give exactly one of --event and --from', 2);
      const { withEventStore } = await import('../ledger-on-disk.js');
      const checkpoint = readCheckpoint(options.checkpoint);
      const proof = await withEventStore(configOf(command), async (store): Promise<ProofFile> => {
        if (options.from !== undefined) return consistencyProofFile(store, readCheckpoint(options.from), checkpoint);
        const found = await inclusionProofFile(store, checkpoint, options.event!);
        if (found === undefined) throw new CliError(`no event ${options.event} in tenant ${checkpoint.tenantId}`, 1);
        return found;
      });
      process.stdout.write(`${JSON.stringify(proof, null, 2)}\n`);
    });

  program
    .command('verify-proof')
    .description(
      'Check a proof file offline, with nothing but the public keys (keys.json of DATA_DIR/checkpoint-keys, or GET /checkpoints/keys): the checkpoint signature(s), the event hash and the RFC 9162 path. Exit 1 when it does not hold.',
    )
    .argument('<proof>', 'a proof file written by `ledger prove`')
    .requiredOption('--keys <file>', 'the public keys, `{ "keys": [...] }`')
    .action((file: string, options: { keys: string }) => {
      const proof = readJson<ProofFile>(file, 'proof');
      const keys = readJson<{ keys: PublicCheckpointKey[] }>(options.keys, 'public keys').keys;
      const defect = proofFileDefect(proof, keys);
      if (defect !== null) throw new CliError(`proof INVALID: ${defect}`, 1);
      process.stdout.write(
        proof.kind === 'inclusion'
          ? `proof valid: event ${proof.event.id} (revision ${proof.event.revision}) is in ${proof.checkpoint.tenantId}'s log of ${proof.checkpoint.treeSize} events, signed by ${proof.checkpoint.keyId} at ${proof.checkpoint.time}\n`
          : `proof valid: ${proof.to.tenantId}'s log of ${proof.to.treeSize} events extends its log of ${proof.from.treeSize} events\n`,
      );
    });
}
