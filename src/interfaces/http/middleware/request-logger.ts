import type { Middleware } from 'koa';
import type { Logger } from '../../../application/ports/logger.js';
import type { AppState } from '../state.js';
import { clientAddress } from '../client-address.js';

/** Probes that run every few seconds: their lines are written at debug, so they do not drown the others. */
const PROBES = new Set(['/api/health', '/api/ready']);
/** A user agent longer than this is cut (a client controls it; the line must stay small). */
const MAX_USER_AGENT = 512;

/**
 * Runs the request in a log context holding its id, client address and user agent, so every line written while it
 * runs (the security events of its use cases included) carries them. Then writes one line per request once it is
 * answered (and, at debug level, one when it starts); health and readiness probes at debug only. Logs the path
 * without its query string, which could hold a token.
 */
export function requestLogger(logger: Logger): Middleware<AppState> {
  return (ctx, next) => {
    const userAgent = ctx.get('User-Agent');
    const context = {
      request_id: ctx.state.requestId,
      client_ip: clientAddress(ctx),
      ...(userAgent === '' ? {} : { user_agent: userAgent.slice(0, MAX_USER_AGENT) }),
    };
    return logger.inContext(context, async () => {
      const started = process.hrtime.bigint();
      logger.debug('request started', { event: 'request_started', method: ctx.method, path: ctx.path });
      try {
        await next();
      } finally {
        const fields = {
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
    });
  };
}
