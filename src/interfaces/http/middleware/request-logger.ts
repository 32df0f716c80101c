import type { Middleware } from 'koa';
import type { Logger } from '../../../application/ports/logger.js';
import type { AppState } from '../state.js';

/**
 * One line per request once it is answered (and, at debug level, one when it starts). Logs the path without its query
 * string, which could hold a token.
 */
export function requestLogger(logger: Logger): Middleware<AppState> {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    logger.debug('request started', {
      event: 'request_started',
      method: ctx.method,
      path: ctx.path,
      request_id: ctx.state.requestId,
    });
    try {
      await next();
    } finally {
      const fields = {
        event: 'request',
        method: ctx.method,
        path: ctx.path,
        status: ctx.status,
        duration_ms: Number(process.hrtime.bigint() - started) / 1e6,
        request_id: ctx.state.requestId,
        user_id: ctx.state.principal?.userId ?? null,
      };
      if (ctx.status >= 500) logger.error('request', fields);
      else logger.info('request', fields);
    }
  };
}
