import type { z } from 'zod';
import type { FieldError } from './ledger.port.js';

/**
 * Every failing field of a zod error, as `path: message` pairs (problem+json `errors`). An unknown key of a strict
 * object is one error per key, at the key's own path; `accepted` (the parameters of a query) is named in its message.
 */
export function issuesOf(error: z.ZodError, accepted?: readonly string[]): FieldError[] {
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({
          path: [...issue.path, key].map(String).join('.'),
          message: accepted ? `is not a parameter of this route; accepted: ${accepted.join(', ')}` : 'is not a known field',
        }))
      : [{ path: issue.path.map(String).join('.'), message: issue.message }],
  );
}

/** The keys an object schema accepts (its shape; refinements keep it), for the "accepted: …" of an unknown parameter. */
export function acceptedKeys(schema: z.ZodType): string[] {
  const shape = (schema as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : [];
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

/** The prototype key a JSON text holds (the error `parseJsonRefusingPrototypeKeys` would throw), if any. */
export function prototypeKeyIn(text: string): PrototypeKeyError | undefined {
  if (!PROTOTYPE_KEY.test(text)) return undefined;
  try {
    JSON.parse(text, refusePrototypeKeys);
  } catch (error) {
    if (error instanceof PrototypeKeyError) return error;
    throw error;
  }
  return undefined;
}

function refusePrototypeKeys(key: string, value: unknown): unknown {
  if (key === '__proto__') throw new PrototypeKeyError(key);
  if (key === 'constructor' && typeof value === 'object' && value !== null && Object.hasOwn(value, 'prototype'))
    throw new PrototypeKeyError('constructor.prototype');
  return value;
}
