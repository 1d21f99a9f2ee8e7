import { Module } from '@nestjs/common';
import { ImportController } from './import.controller.js';

/** POST /v1/tenants/{t}/events:import (described by the core of docs/openapi.ts, from ImportLine). */
@Module({ controllers: [ImportController] })
export class ImportsModule {}
