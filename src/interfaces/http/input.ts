import { LONE_SURROGATE, LONE_SURROGATE_MESSAGE } from '../../domain/password-policy.js';
import type { Context } from 'koa';
import { z } from 'zod';
import { validationError } from './http-error.js';
import { requestBody } from './middleware/body-parser.js';

/**
 * Request input, parsed once at the route with zod (as logto's `koaGuard` does): a bad shape is a 400
 * `ValidationError` whose message is the first issue's, which names the field. Use cases receive typed values.
 */
function parse<S extends z.ZodTypeAny>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationError(parsed.error.issues[0]?.message ?? 'The request is not valid');
  return parsed.data as z.output<S>;
}

/**
 * The JSON object body, checked against `schema`.
 * @param expected what the object should hold, for the message when the body is not an object at all.
 */
export function bodyOf<S extends z.ZodTypeAny>(ctx: Context, schema: S, expected: string): z.output<S> {
  const body = requestBody(ctx);
  if (body.kind === 'text') throw validationError('The request body is not valid JSON');
  if (body.kind === 'none' || typeof body.value !== 'object' || body.value === null || Array.isArray(body.value)) {
    throw validationError(`The request body must be a JSON object with ${expected}`);
  }
  return parse(schema, body.value);
}

export function queryOf<S extends z.ZodTypeAny>(ctx: Context, schema: S): z.output<S> {
  return parse(schema, ctx.query);
}

export function paramsOf<S extends z.ZodTypeAny>(ctx: Context & { params?: unknown }, schema: S): z.output<S> {
  return parse(schema, ctx.params ?? {});
}

/**
 * A string field of well-formed Unicode (credentials at login too, so that a lone surrogate never stands for U+FFFD),
 * named in the message when it is missing or not a string.
 */
export const textField = (field: string) =>
  z
    .string({ required_error: `${field} must be a string`, invalid_type_error: `${field} must be a string` })
    .refine((value) => !LONE_SURROGATE.test(value), LONE_SURROGATE_MESSAGE(field));
