import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { AppState } from '../state.js';

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Takes `X-Request-Id` from the request when it is a sane value, else makes one; echoes it on every response. */
export function requestId(): Middleware<AppState> {
  return (ctx, next) => {
    const given = ctx.get('X-Request-Id');
    ctx.state.requestId = SANE_REQUEST_ID.test(given) ? given : randomUUID();
    ctx.res.setHeader('X-Request-Id', ctx.state.requestId);
    return next();
  };
}
