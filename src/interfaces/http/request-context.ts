import type { Context } from 'koa';
import type { RequestContext } from '../../application/ports/logger.js';
import type { AppState } from './state.js';
import { clientAddress } from './client-address.js';

/** A user agent longer than this is cut (a client controls it; the line must stay small). */
const MAX_USER_AGENT = 512;

/**
 * The request as log lines name it: its id, client address and user agent. Worked out once per request; the request
 * line and the security events of the use cases it calls all carry it.
 */
export function requestContext(ctx: Context & { state: AppState }): RequestContext {
  if (ctx.state.logContext !== undefined) return ctx.state.logContext;
  const userAgent = ctx.get('User-Agent');
  const context = {
    request_id: ctx.state.requestId,
    client_ip: clientAddress(ctx),
    // Always the same three keys (undefined is not written), so every line has the same shape.
    user_agent: userAgent === '' ? undefined : userAgent.slice(0, MAX_USER_AGENT),
  };
  ctx.state.logContext = context;
  return context;
}
