import type { Middleware } from 'koa';
import type { LimitedAction, RateLimits } from '../../../application/ports/rate-limits.js';
import type { AppState } from '../state.js';
import type { Logger } from '../../../application/ports/logger.js';
import { domainErrorToHttp } from '../error-response.js';

/** Counts the request against the client's limit for `action`; over it, 429 with Retry-After. */
export function rateLimit(action: LimitedAction, limits: RateLimits, logger: Logger): Middleware<AppState> {
  return async (ctx, next) => {
    const retryAfterSeconds = await limits.hit(action, ctx.ip);
    if (retryAfterSeconds > 0) {
      logger.warn('rate limited', { event: 'rate_limited', action, request_id: ctx.state.requestId });
      throw domainErrorToHttp({ code: 'TooManyRequests', retryAfterSeconds });
    }
    await next();
  };
}
