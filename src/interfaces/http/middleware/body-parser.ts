import bodyParser from 'koa-bodyparser';
import type { Context, Middleware } from 'koa';
import type { AppState } from '../state.js';
import { HttpError } from '../http-error.js';

const JSON_TYPES = ['application/json', 'application/*+json'];
/** The seed's React client posts `JSON.stringify(...)` as `text/plain`, the fetch default. */
const TEXT_TYPES = ['text/plain'];

function hasBody(ctx: Context): boolean {
  return ctx.get('Transfer-Encoding') !== '' || Number(ctx.get('Content-Length') || 0) > 0;
}

/**
 * Reads request bodies: JSON as JSON, and `text/plain` or a body without a content type as text that routes read as
 * JSON (or, for the praetorian refresh, as a raw token). Any other content type gets 415; more than `limit` gets 413.
 */
export function parseBody(limit: string): Middleware<AppState> {
  const parser = bodyParser({
    enableTypes: ['json', 'text'],
    extendTypes: { json: JSON_TYPES, text: TEXT_TYPES },
    jsonLimit: limit,
    textLimit: limit,
    strict: false,
  });
  return (ctx, next) => {
    // Compressed bodies are refused outright: inflating is a decompression-bomb risk, and a stream that fails to inflate
    // after the parser stopped reading raises an error no one listens to, which would end the process.
    const encoding = ctx.get('Content-Encoding').trim().toLowerCase();
    if (encoding !== '' && encoding !== 'identity') {
      throw new HttpError(415, 'UnsupportedMediaType', 'Compressed request bodies (Content-Encoding) are not accepted');
    }
    // No body (every GET, most guarded requests): nothing to parse, and the parser's own work is skipped.
    if (!hasBody(ctx)) return next();
    if (!ctx.get('Content-Type')) ctx.request.headers['content-type'] = 'text/plain';
    if (!ctx.request.is([...JSON_TYPES, ...TEXT_TYPES])) {
      throw new HttpError(415, 'UnsupportedMediaType', 'Send the body as application/json (or text/plain JSON)');
    }
    return parser(ctx, next) as Promise<void>;
  };
}

/** The request body as sent: parsed JSON, a string (text bodies), or undefined when there was none. */
export type RequestBody =
  | { readonly kind: 'json'; readonly value: unknown }
  | { readonly kind: 'text'; readonly value: string }
  | { readonly kind: 'none' };

export function requestBody(ctx: Context): RequestBody {
  const body = (ctx.request as { body?: unknown }).body;
  if (!hasBody(ctx)) return { kind: 'none' };
  if (typeof body === 'string' && ctx.request.is(TEXT_TYPES)) {
    if (body.trim() === '') return { kind: 'none' };
    try {
      return { kind: 'json', value: JSON.parse(body) };
    } catch {
      return { kind: 'text', value: body };
    }
  }
  return { kind: 'json', value: body };
}
