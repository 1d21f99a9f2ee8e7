import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { type AuthContext, type CommandOptions, type CommandOutcome, LEDGER, type LedgerUseCases } from '@access-ledger/ledger';

/** The HTTP edge's one command: hand an untrusted command body to the Ledger, which validates and decides. */
export class ExecuteLedgerCommand extends Command<CommandOutcome> {
  constructor(
    readonly tenantId: string,
    readonly body: unknown,
    readonly options: CommandOptions,
    readonly auth: AuthContext,
  ) {
    super();
  }
}

@CommandHandler(ExecuteLedgerCommand)
export class ExecuteLedgerCommandHandler implements ICommandHandler<ExecuteLedgerCommand, CommandOutcome> {
  constructor(@Inject(LEDGER) private readonly ledger: LedgerUseCases) {}

  execute(command: ExecuteLedgerCommand): Promise<CommandOutcome> {
    return this.ledger.executeCommand(command.tenantId, command.body, command.options, command.auth);
  }
}
