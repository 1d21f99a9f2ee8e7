import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Registry } from 'prom-client';
import { LEDGER, type LedgerHealth, type LedgerUseCases } from '@access-ledger/ledger';
import { METRICS_REGISTRY } from '../metrics/api-metrics.js';
import { PROBLEM_CONTENT_TYPE, problem } from '../problem/problem.js';

@Controller()
export class OperationsController {
  constructor(
    @Inject(LEDGER) private readonly ledger: LedgerUseCases,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
  ) {}

  /** Liveness: the process answers. */
  @Get('health')
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: the event store and the read model are reachable and every projection has reached the head found at start (503 otherwise). */
  @Get('ready')
  async ready(@Res() reply: FastifyReply): Promise<void> {
    let health: LedgerHealth;
    try {
      health = await this.ledger.health();
    } catch (error) {
      reply
        .status(503)
        .header('content-type', PROBLEM_CONTENT_TYPE)
        .send(problem(503, 'not-ready', `Health check failed: ${(error as Error).message}`));
      return;
    }
    // A full disk or a broken chain is a reason not to send writes here.
    const reasons: string[] = [];
    const down = [health.eventStore ? null : 'event store', health.readModel ? null : 'read model'].filter(Boolean).join(' and ');
    if (down) reasons.push(`${down} unreachable.`);
    // A restore, a rebuild or a restart far behind: the reports would answer for an older history until then.
    const behind = Object.entries(health.catchingUp ?? {});
    if (behind.length > 0)
      reasons.push(
        `Catching up: ${behind.map(([name, n]) => `${name} is ${n} event(s) behind`).join(', ')} the head found at start (position ${health.startHead}).`,
      );
    if (health.storageFull !== undefined) reasons.push(`Storage full (${health.storageFull}): writes answer 507 until one succeeds again.`);
    for (const b of health.integrityBroken ?? []) {
      reasons.push(
        `Integrity broken for tenant ${b.tenantId} (stream ${b.streamId}, revision ${b.firstBadRevision ?? '?'}, position ${b.firstBadPosition ?? '?'}): its writes answer 503 integrity-broken; restore a backup (\`ledger restore\`) and restart.`,
      );
    }
    if (reasons.length === 0) {
      reply.status(200).send({ status: 'ready', ...health });
      return;
    }
    reply
      .status(503)
      .header('content-type', PROBLEM_CONTENT_TYPE)
      .send({ ...problem(503, 'not-ready', `Not ready: ${reasons.join(' ')}${health.detail ? ` ${health.detail}` : ''}`), health });
  }

  @Get('metrics')
  @Header('cache-control', 'no-store')
  async metrics(@Res() reply: FastifyReply): Promise<void> {
    reply.header('content-type', this.registry.contentType).send(await this.registry.metrics());
  }
}
