import { requestContext } from '../request-context.js';
import type { Context, Middleware } from 'koa';
import type { Logger } from '../../../application/ports/logger.js';
import { Overloaded } from '../../../application/overloaded.js';
import type { AppState } from '../state.js';
import {
  HttpError,
  internalError,
  methodNotAllowed,
  notFound,
  serviceUnavailable,
  validationError,
} from '../http-error.js';

export interface ErrorHandlerOptions {
  readonly logger: Logger;
  /** Tells a database outage (answered 503) from a bug (answered 500). */
  readonly isUnavailableError: (error: unknown) => boolean;
  readonly retryAfterSeconds: number;
}

/** Errors thrown by koa, its body parser and http-errors carry a 4xx `status` and a `type`. */
function clientError(error: unknown): HttpError | undefined {
  if (!(error instanceof Error)) return undefined;
  const { status, type } = error as { status?: unknown; type?: unknown };
  if (typeof status !== 'number' || status < 400 || status > 499) return undefined;
  // co-body marks a JSON syntax error with status 400 but no type.
  if (error instanceof SyntaxError) return validationError('The request body is not valid JSON');
  switch (type ?? status) {
    case 'entity.too.large':
    case 413:
      return new HttpError(413, 'PayloadTooLarge', 'The request body is larger than the server accepts');
    case 'entity.parse.failed':
      return validationError('The request body is not valid JSON');
    case 'encoding.unsupported':
    case 'charset.unsupported':
    case 415:
      return new HttpError(415, 'UnsupportedMediaType', 'The request body encoding or charset is not supported');
    case 'request.size.invalid':
    case 'request.aborted':
    case 'stream.encoding.set':
      return validationError('The request body could not be read');
    default:
      return new HttpError(status, 'BadRequest', 'The request could not be understood');
  }
}

function send(ctx: Context, error: HttpError, state: AppState): void {
  ctx.status = error.status;
  // A body left half read (413) would be taken for the next request on a kept-alive connection.
  if (!ctx.req.complete) ctx.set('Connection', 'close');
  for (const [name, value] of Object.entries(error.headers)) ctx.set(name, value);
  if (error.status === 401 && error.headers['WWW-Authenticate'] === undefined) {
    ctx.set(
      'WWW-Authenticate',
      state.tokenPresented ? 'Bearer realm="jwt-login", error="invalid_token"' : 'Bearer realm="jwt-login"',
    );
  }
  ctx.body = { status_code: error.status, error: error.error, message: error.message, request_id: state.requestId };
}

/**
 * Turns every failure into flask-praetorian's JSON error shape: expected errors as thrown, a database outage as 503
 * with `Retry-After`, anything else as a 500 that carries no stack, SQL or secret (those go to the log).
 * Also answers empty 404 / 405 / 501 results of the router as JSON.
 */
export function errorHandler(options: ErrorHandlerOptions): Middleware<AppState> {
  const sheds = new ShedReport(options.logger);
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.body === undefined || ctx.body === null) {
        if (ctx.status === 404) send(ctx, notFound(), ctx.state);
        else if (ctx.status === 405 || ctx.status === 501) send(ctx, methodNotAllowed(), ctx.state);
      }
    } catch (error) {
      if (error instanceof HttpError) return send(ctx, error, ctx.state);
      const client = clientError(error);
      if (client) return send(ctx, client, ctx.state);
      if (error instanceof Overloaded) {
        sheds.record(error);
        return send(ctx, serviceUnavailable(error.retryAfterSeconds), ctx.state);
      }
      if (options.isUnavailableError(error)) {
        options.logger.error('database unavailable', { ...requestContext(ctx), err: describe(error) });
        return send(ctx, serviceUnavailable(options.retryAfterSeconds), ctx.state);
      }
      options.logger.error('unhandled error', { ...requestContext(ctx), err: describe(error) });
      send(ctx, internalError(), ctx.state);
    }
  };
}

function describe(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  return { name: error.name, message: error.message, stack: error.stack };
}

/**
 * Shed requests, reported as one `overloaded` line a second at most, with how many were shed since the last line: in an
 * overload, a line for each would add to the load (every request still has its own request line).
 */
class ShedReport {
  private pending = 0;
  private reason = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly logger: Logger) {}

  record(error: Overloaded): void {
    this.pending += 1;
    this.reason = error.message;
    if (this.timer) return;
    this.flush();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.pending > 0) this.flush();
    }, 1000);
    this.timer.unref();
  }

  private flush(): void {
    this.logger.warn('overloaded: requests shed', { event: 'overloaded', shed: this.pending, reason: this.reason });
    this.pending = 0;
  }
}
