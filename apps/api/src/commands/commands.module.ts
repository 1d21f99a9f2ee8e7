import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { CommandsController } from './commands.controller.js';
import { ExecuteCommandHandler } from './execute-command.js';

/** POST /v1/tenants/{t}/commands (described by the core of docs/openapi.ts, from CommandBody), over the command bus. */
@Module({ imports: [CqrsModule], controllers: [CommandsController], providers: [ExecuteCommandHandler] })
export class CommandsModule {}
