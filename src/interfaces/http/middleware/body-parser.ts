import bodyParser from 'koa-bodyparser';
import type { Context, Middleware } from 'koa';
import type { AppState } from '../state.js';
import { HttpError } from '../http-error.js';

const JSON_TYPES = ['application/json', 'application/*+json'];
/** The seed's React client posts `JSON.stringify(...)` as `text/plain`, the fetch default. */
const TEXT_TYPES = ['text/plain'];
/**
 * What `curl -d` sends, and the seed's own docstring examples: a JSON body labelled as a form, which Flask's
 * `get_json(force=True)` read as JSON. A real form body (`username=a&password=b`) is read as a form.
 */
const FORM_TYPES = ['application/x-www-form-urlencoded'];

function hasBody(ctx: Context): boolean {
  return ctx.get('Transfer-Encoding') !== '' || Number(ctx.get('Content-Length') || 0) > 0;
}

/**
 * Reads request bodies: JSON as JSON, and `text/plain` or a body without a content type as text that routes read as
 * JSON (or, for the praetorian refresh, as a raw token). Any other content type gets 415; more than `limit` gets 413.
 */
export function parseBody(limit: string): Middleware<AppState> {
  const parser = bodyParser({
    enableTypes: ['json', 'text', 'form'],
    extendTypes: { json: JSON_TYPES, text: TEXT_TYPES, form: FORM_TYPES },
    jsonLimit: limit,
    textLimit: limit,
    formLimit: limit,
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
    if (!ctx.request.is([...JSON_TYPES, ...TEXT_TYPES, ...FORM_TYPES])) {
      throw new HttpError(
        415,
        'UnsupportedMediaType',
        'Send the body as application/json (or JSON as text/plain or application/x-www-form-urlencoded)',
      );
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
  if (ctx.request.is(FORM_TYPES)) {
    const raw = (ctx.request as { rawBody?: string }).rawBody ?? '';
    if (raw.trim() === '') return { kind: 'none' };
    try {
      return { kind: 'json', value: JSON.parse(raw) };
    } catch {
      // A form (`name=value&...`), or a bare token as the praetorian refresh takes it.
      return raw.includes('=') ? { kind: 'json', value: { ...(body as object) } } : { kind: 'text', value: raw };
    }
  }
  return { kind: 'json', value: body };
}
