import type { Middleware } from 'koa';
import type { Logger } from '../../../application/ports/logger.js';
import type { AppState } from '../state.js';
import { requestContext } from '../request-context.js';

/** Probes that run every few seconds: their lines are written at debug, so they do not drown the others. */
const PROBES = new Set(['/api/health', '/api/ready']);

/**
 * One line per request once it is answered (and, at debug level, one when it starts), with the request's id, client
 * address and user agent; health and readiness probes at debug only. Logs the path without its query string, which
 * could hold a token.
 */
export function requestLogger(logger: Logger): Middleware<AppState> {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    const { request_id: requestId, client_ip: clientIp, user_agent: userAgent } = requestContext(ctx);
    logger.debug('request started', {
      request_id: requestId,
      client_ip: clientIp,
      user_agent: userAgent,
      event: 'request_started',
      method: ctx.method,
      path: ctx.path,
    });
    try {
      await next();
    } finally {
      const fields = {
        request_id: requestId,
        client_ip: clientIp,
        user_agent: userAgent,
        event: 'request',
        outcome: ctx.status < 400 ? 'success' : 'failure',
        method: ctx.method,
        path: ctx.path,
        status: ctx.status,
        duration_ms: Number(process.hrtime.bigint() - started) / 1e6,
        user_id: ctx.state.principal?.userId ?? null,
      };
      if (ctx.status >= 500) logger.error('request', fields);
      else if (PROBES.has(ctx.path)) logger.debug('request', fields);
      else logger.info('request', fields);
    }
  };
}
