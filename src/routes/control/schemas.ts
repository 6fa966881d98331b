// Schemas shared by the control API's routes (/_ministream/*).
import { Type, type TSchema } from 'typebox';
import { FailureEnvelope } from '../envelope.js';
import { CONTROL_TAG } from './openapi.js';

/** A body that may be left out: the JSON parser turns an empty body into "none" (null to the validator). */
export const OptionalBody = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const AccountId = Type.String({ minLength: 1, maxLength: 32 });

export const UidParams = Type.Object({ uid: Type.String({ pattern: '^[0-9a-f]{32}$', description: 'A video uid' }) });

/** The common part of every control route's schema: its tag, its summary, its 4xx answer. */
export function controlSchema<S extends Record<string, unknown>>(summary: string, schema: S) {
  const response = (schema.response ?? {}) as Record<string, unknown>;
  return { tags: [CONTROL_TAG], summary, ...schema, response: { ...response, '4xx': FailureEnvelope } };
}
