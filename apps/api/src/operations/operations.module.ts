import { Module } from '@nestjs/common';
import { OperationsController } from './operations.controller.js';

/** /health, /ready and /metrics: what an orchestrator and Prometheus read. */
@Module({ controllers: [OperationsController] })
export class OperationsModule {}
