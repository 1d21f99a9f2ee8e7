import { Module } from '@nestjs/common';
import { CommandsController } from './commands.controller.js';

/** POST /v1/tenants/{t}/commands (described by the core of docs/openapi.ts, from CommandBody). */
@Module({ controllers: [CommandsController] })
export class CommandsModule {}
