import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { type AuthContext, LEDGER, type LedgerUseCases } from '@access-ledger/ledger';
import { IdempotentExecution } from '../idempotency/idempotent-execution.js';
import { ApiMetrics } from '../metrics/api-metrics.js';
import type { StoredAnswer } from '../idempotency/idempotency-store.js';
import { commandAnswer } from './command-answer.js';

/** A command as the route received it: the untrusted body, the tenant, the If-Match revision and who sent it. */
export class ExecuteCommand extends Command<StoredAnswer & { readonly replayed: boolean }> {
  constructor(
    readonly tenantId: string,
    readonly body: unknown,
    readonly expectedRevision: number | undefined,
    readonly auth: AuthContext,
  ) {
    super();
  }
}

/**
 * The command handler at the edge of the bus: at most once per idempotency key (across retries, restarts and other
 * processes), the Ledger's use case (validate, decide, group-commit, append), the outcome as an HTTP answer, and the
 * command counter. The route only reads HTTP (media type, If-Match, the key) and writes the answer.
 */
@CommandHandler(ExecuteCommand)
export class ExecuteCommandHandler implements ICommandHandler<ExecuteCommand> {
  constructor(
    @Inject(LEDGER) private readonly ledger: LedgerUseCases,
    @Inject(IdempotentExecution) private readonly idempotency: IdempotentExecution,
    @Inject(ApiMetrics) private readonly metrics: ApiMetrics,
  ) {}

  async execute({ tenantId, body, expectedRevision, auth }: ExecuteCommand): Promise<StoredAnswer & { readonly replayed: boolean }> {
    let outcomeKind = 'replayed';
    const answer = await this.idempotency.run(tenantId, idempotencyKeyOf(body), async () => {
      const outcome = await this.ledger.executeCommand(tenantId, body, expectedRevision === undefined ? {} : { expectedRevision }, auth);
      outcomeKind = outcome.kind;
      return commandAnswer(outcome);
    });
    // An invalid body's type is untrusted: it stays out of the labels, which keeps their number bounded.
    this.metrics.commands.inc({ type: outcomeKind === 'invalid' ? '-' : commandTypeOf(body), outcome: answer.replayed ? 'replayed' : outcomeKind });
    return answer;
  }
}

/** Only a well-formed key is honoured; the Ledger reports a malformed one as an invalid field. */
function idempotencyKeyOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const key = (body as Record<string, unknown>).idempotencyKey;
  return typeof key === 'string' && key.length >= 1 && key.length <= 256 ? key : undefined;
}

function commandTypeOf(body: unknown): string {
  const type = (body as { type?: unknown }).type;
  return typeof type === 'string' && /^[A-Za-z]{1,64}$/.test(type) ? type : '-';
}
