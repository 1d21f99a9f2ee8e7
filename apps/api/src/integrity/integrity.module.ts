import { Module } from '@nestjs/common';
import { IntegrityController } from './integrity.controller.js';

/** GET /v1/tenants/{t}/integrity: the hash-chain walk. */
@Module({ controllers: [IntegrityController] })
export class IntegrityModule {}
