import cors from '@koa/cors';
import type { Middleware } from 'koa';
import type { AppState } from '../state.js';

/**
 * CORS for browser clients. Bearer tokens only, never cookies, so no credentials mode. With an allow-list, an origin
 * not on it (including `null`) gets no `Access-Control-Allow-Origin` at all.
 */
export function corsPolicy(allowed: '*' | readonly string[]): Middleware<AppState> {
  const origins = allowed === '*' ? undefined : new Set(allowed);
  const policy = cors({
    origin: (ctx) => {
      const origin = ctx.get('Origin');
      if (!origins) return '*';
      return origins.has(origin) ? origin : '';
    },
    allowMethods: ['GET', 'POST', 'PATCH', 'OPTIONS'],
    allowHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
    exposeHeaders: ['X-Request-Id', 'Retry-After', 'WWW-Authenticate'],
    maxAge: 600,
    credentials: false,
  }) as Middleware<AppState>;
  return (ctx, next) => {
    // No Origin: not a cross-origin browser request, so no CORS header is needed, only Vary (what @koa/cors would
    // answer too, without its two extra awaits on every same-origin or server-to-server request).
    if (ctx.get('Origin') === '') {
      ctx.vary('Origin');
      return next();
    }
    return policy(ctx, next) as Promise<void>;
  };
}
