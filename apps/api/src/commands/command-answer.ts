import type { CommandOutcome } from '@access-ledger/ledger';
import type { Answer } from '../idempotency/idempotent-execution.js';
import { problem } from '../problem/problem.js';

/**
 * CommandOutcome → HTTP answer (http-api.md "Commands" and "Errors"). `keep` marks the answers an
 * idempotency key replays: decisions (appended, refused, violation). A concurrency conflict or an invalid
 * body decided nothing, so a retry with the same key runs again.
 */
export function commandAnswer(outcome: CommandOutcome): Answer {
  switch (outcome.kind) {
    case 'appended':
      return { status: 201, body: { events: outcome.events }, keep: true, ...(outcome.replayed ? { replayed: true } : {}) };
    case 'refused':
      return {
        status: 403,
        body: { ...problem(403, 'command-refused', outcome.detail, { rule: outcome.rule, title: 'Command refused' }), events: outcome.events },
        keep: true,
        ...(outcome.replayed ? { replayed: true } : {}),
      };
    case 'violation':
      return { status: 409, body: problem(409, 'invariant-violated', outcome.detail, { rule: outcome.rule, title: 'Invariant would break' }), keep: true };
    case 'conflict':
      return { status: 409, body: problem(409, 'concurrency-conflict', outcome.detail, { title: 'Concurrency conflict' }), keep: false };
    case 'actor-not-allowed':
      return { status: 403, body: problem(403, 'actor-not-allowed', outcome.detail, { title: 'Actor not allowed for this API key' }), keep: false };
    case 'invalid':
      return { status: 400, body: problem(400, 'invalid-command', 'The command failed validation.', { errors: outcome.errors }), keep: false };
  }
}
