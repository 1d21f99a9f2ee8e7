import { type DynamicModule, Module } from '@nestjs/common';
import type { CheckpointFiles, CheckpointKeyring, EventStore } from '@access-ledger/event-store';
import { PUBLIC, secured } from '../docs/openapi.js';
import type { Feature } from '../feature.js';
import { CHECKPOINT_FILES, CHECKPOINT_KEYRING, CheckpointKeysController, PROOF_STORE, ProofsController } from './proofs.controller.js';

/** GET /checkpoints/keys (public), the tenant's checkpoints and proofs (audit:read); docs/proofs.md. */
@Module({})
export class ProofsModule {
  static forStore(store: EventStore, keyring: CheckpointKeyring, files: CheckpointFiles): DynamicModule {
    return {
      module: ProofsModule,
      controllers: [CheckpointKeysController, ProofsController],
      providers: [
        { provide: PROOF_STORE, useValue: store },
        { provide: CHECKPOINT_KEYRING, useValue: keyring },
        { provide: CHECKPOINT_FILES, useValue: files },
      ],
    };
  }
}

const problems = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      String(status),
      { description: 'Problem', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } },
    ]),
  );
const path = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } });
const query = (name: string, required: boolean, description: string) => ({ name, in: 'query', required, description, schema: { type: 'integer', minimum: 1 } });
const json = (description: string) => ({ description, content: { 'application/json': { schema: { type: 'object' } } } });
const auditRead = secured('audit:read');

export function proofsFeature(store: EventStore, keyring: CheckpointKeyring, files: CheckpointFiles): Feature {
  return {
    module: ProofsModule.forStore(store, keyring, files),
    docs: {
      paths: {
        '/checkpoints/keys': {
          get: {
            operationId: 'checkpointKeys',
            summary: 'The Ed25519 public keys that sign checkpoints, retired ones included (docs/proofs.md § 3)',
            ...PUBLIC,
            responses: { '200': json('`{ keys: [{ keyId, algorithm, publicKey (PEM SPKI), createdAt, retiredAt }] }`'), ...problems(429) },
          },
        },
        '/v1/tenants/{tenantId}/checkpoints': {
          get: {
            operationId: 'listCheckpoints',
            summary: "The tenant's signed checkpoints, oldest first",
            ...auditRead,
            parameters: [path('tenantId')],
            responses: { '200': json('`{ checkpoints: [...] }`'), ...problems(401, 403, 429) },
          },
        },
        '/v1/tenants/{tenantId}/checkpoints/consistency': {
          get: {
            operationId: 'consistencyProof',
            summary: 'RFC 9162 consistency proof between two checkpoints (a proof file for `ledger verify-proof`)',
            ...auditRead,
            parameters: [
              path('tenantId'),
              query('from', true, 'tree size of the older checkpoint'),
              query('to', false, 'tree size of the newer (default: latest)'),
            ],
            responses: { '200': json('`{ kind: "consistency", from, to, path }`'), ...problems(400, 401, 403, 404, 429) },
          },
        },
        '/v1/tenants/{tenantId}/events/{eventId}/proof': {
          get: {
            operationId: 'inclusionProof',
            summary: 'RFC 9162 inclusion proof of an event in a checkpoint (a proof file for `ledger verify-proof`)',
            ...auditRead,
            parameters: [path('tenantId'), path('eventId'), query('checkpoint', false, 'tree size of the checkpoint (default: latest)')],
            responses: { '200': json('`{ kind: "inclusion", checkpoint, event, leafIndex, path }`'), ...problems(400, 401, 403, 404, 429) },
          },
        },
      },
    },
  };
}
