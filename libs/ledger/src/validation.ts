import type { z } from 'zod';
import type { FieldError } from './ledger.port.js';

/** Every failing field of a zod error, as `path: message` pairs (problem+json `errors`). */
export function issuesOf(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
}

const PROTOTYPE_KEY = /"(?:__proto__|constructor|prototype)"\s*:/;

/** A key JSON.parse would have kept as an own property but that reaches prototypes elsewhere. */
export class PrototypeKeyError extends Error {
  override readonly name = 'PrototypeKeyError';
  constructor(readonly key: string) {
    super(`the key ${key} is not allowed (prototype pollution)`);
  }
}

/**
 * JSON.parse, refusing `__proto__` and `constructor.prototype` keys anywhere, as the commands route's body parser
 * does: JSON.parse makes them own properties, which zod then drops silently or a later spread turns into a
 * prototype. The reviver only runs on text that could hold such a key.
 */
export function parseJsonRefusingPrototypeKeys(text: string): unknown {
  return PROTOTYPE_KEY.test(text) ? JSON.parse(text, refusePrototypeKeys) : JSON.parse(text);
}

function refusePrototypeKeys(key: string, value: unknown): unknown {
  if (key === '__proto__') throw new PrototypeKeyError(key);
  if (key === 'constructor' && typeof value === 'object' && value !== null && Object.hasOwn(value, 'prototype'))
    throw new PrototypeKeyError('constructor.prototype');
  return value;
}
