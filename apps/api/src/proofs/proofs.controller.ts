import { Controller, Get, Inject, Param, Query, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import {
  type CheckpointFiles,
  type CheckpointKeyring,
  consistencyProofFile,
  inclusionProofFile,
  tenantStream,
  type ConsistencyProofFile,
  type EventStore,
  type InclusionProofFile,
  type PublicCheckpointKey,
  type SignedCheckpoint,
} from '@access-ledger/event-store';
import { InvalidInputError, NotFoundError } from '@access-ledger/ledger';
import { ApiKeyGuard } from '../auth/api-key.guard.js';
import { RequireScope } from '../auth/require-scope.js';
import { ZodValidationPipe } from '../validation/zod-validation.pipe.js';

/** Public keys, checkpoints and proofs. */
export const PROOF_STORE = Symbol('PROOF_STORE');
export const CHECKPOINT_KEYRING = Symbol('CHECKPOINT_KEYRING');
export const CHECKPOINT_FILES = Symbol('CHECKPOINT_FILES');

const size = z.coerce.number().int().min(1);
export const ProofQuery = z.strictObject({ checkpoint: size.optional() });
export const ConsistencyQuery = z.strictObject({ from: size, to: size.optional() });

/** GET /checkpoints/keys (outside /v1, whose routes all authenticate, like /health): no key needed — an auditor must get the public keys without an account. */
@Controller('checkpoints')
export class CheckpointKeysController {
  constructor(@Inject(CHECKPOINT_KEYRING) private readonly keyring: CheckpointKeyring) {}

  @Get('keys')
  keys(): { keys: readonly PublicCheckpointKey[] } {
    return { keys: this.keyring.publicKeys };
  }
}

@Controller('v1/tenants/:tenantId')
@UseGuards(ApiKeyGuard)
export class ProofsController {
  constructor(
    @Inject(PROOF_STORE) private readonly store: EventStore,
    @Inject(CHECKPOINT_FILES) private readonly files: CheckpointFiles,
  ) {}

  @Get('checkpoints')
  @RequireScope('audit:read')
  list(@Param('tenantId') tenantId: string): { checkpoints: SignedCheckpoint[] } {
    return { checkpoints: this.files.list(tenantId) };
  }

  @Get('checkpoints/consistency')
  @RequireScope('audit:read', { query: true })
  async consistency(
    @Param('tenantId') tenantId: string,
    @Query(new ZodValidationPipe(ConsistencyQuery)) q: z.infer<typeof ConsistencyQuery>,
  ): Promise<ConsistencyProofFile> {
    const to = this.#checkpoint(tenantId, q.to);
    const from = this.#checkpoint(tenantId, q.from);
    if (from.treeSize > to.treeSize) throw new InvalidInputError([{ path: 'from', message: `must not be after to (${to.treeSize})` }]);
    return consistencyProofFile(this.store, from, to);
  }

  @Get('events/:eventId/proof')
  @RequireScope('audit:read', { query: true })
  async proof(
    @Param('tenantId') tenantId: string,
    @Param('eventId') eventId: string,
    @Query(new ZodValidationPipe(ProofQuery)) q: z.infer<typeof ProofQuery>,
  ): Promise<InclusionProofFile> {
    const checkpoint = this.#checkpoint(tenantId, q.checkpoint);
    const event = await this.store.eventById(tenantStream(tenantId), eventId);
    if (event === undefined) throw new NotFoundError(`no event ${eventId} in tenant ${tenantId}`);
    if (event.revision >= checkpoint.treeSize)
      throw new NotFoundError(`event ${eventId} (revision ${event.revision}) is newer than the checkpoint of ${checkpoint.treeSize} events: ask a later one`);
    return (await inclusionProofFile(this.store, checkpoint, eventId))!;
  }

  /** The checkpoint of this tree size, or the latest; 404 naming the ones there are. */
  #checkpoint(tenantId: string, treeSize: number | undefined): SignedCheckpoint {
    const all = this.files.list(tenantId);
    const found = treeSize === undefined ? all.at(-1) : all.find((c) => c.treeSize === treeSize);
    if (found === undefined)
      throw new NotFoundError(
        treeSize === undefined
          ? `tenant ${tenantId} has no checkpoint yet`
          : `no checkpoint of ${treeSize} events for tenant ${tenantId}; checkpoints: ${
              all
                .map((c) => c.treeSize)
                .slice(-20)
                .join(', ') || '(none)'
            }`,
      );
    return found;
  }
}
