import { eventJsonProblem } from '@access-ledger/access-model';
import { ProblemException, problem } from '../problem/problem.js';

const SUSPICIOUS_KEY = /"(?:__proto__|constructor|prototype)"\s*:/;

/**
 * JSON bodies: the syntax error's own message (with its position) goes back to the client, and keys that
 * could pollute prototypes (`__proto__`, `constructor.prototype`) are refused with 400 rather than
 * silently stripped, as Fastify's default parser does with `onProtoPoisoning: 'error'`, but saying why.
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw malformed('', 'the body is empty');
  // A body becomes one event (a refused command is stored too, R22), so it gets an event's limits,
  // checked before JSON.parse recurses into it.
  const tooMuch = eventJsonProblem(text);
  if (tooMuch) throw new ProblemException(problem(400, 'body-limit', `The body ${tooMuch}.`, { errors: [{ path: '', message: `the body ${tooMuch}` }] }));
  let value: unknown;
  try {
    value = SUSPICIOUS_KEY.test(text) ? JSON.parse(text, refusePollutingKeys) : JSON.parse(text);
  } catch (error) {
    if (error instanceof ProblemException) throw error;
    throw malformed('', (error as Error).message);
  }
  return value;
}

function refusePollutingKeys(this: unknown, key: string, value: unknown): unknown {
  if (key === '__proto__' || (key === 'constructor' && typeof value === 'object' && value !== null && 'prototype' in value)) {
    throw malformed(key, 'this key is not allowed (prototype pollution)');
  }
  return value;
}

function malformed(path: string, message: string): ProblemException {
  return new ProblemException(problem(400, 'malformed-body', 'The body is not valid JSON.', { errors: [{ path, message }] }));
}
