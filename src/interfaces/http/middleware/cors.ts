import cors from '@koa/cors';
import type { Middleware } from 'koa';
import type { AppState } from '../state.js';

/**
 * CORS for browser clients. Bearer tokens only, never cookies, so no credentials mode. With an allow-list, an origin
 * not on it (including `null`) gets no `Access-Control-Allow-Origin` at all.
 */
export function corsPolicy(allowed: '*' | readonly string[]): Middleware<AppState> {
  const origins = allowed === '*' ? undefined : new Set(allowed);
  return cors({
    origin: (ctx) => {
      const origin = ctx.get('Origin');
      // No Origin: not a cross-origin browser request, so no CORS headers are needed (and none are computed).
      if (origin === '') return '';
      if (!origins) return '*';
      return origins.has(origin) ? origin : '';
    },
    allowMethods: ['GET', 'POST', 'PATCH', 'OPTIONS'],
    allowHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
    exposeHeaders: ['X-Request-Id', 'Retry-After', 'WWW-Authenticate'],
    maxAge: 600,
    credentials: false,
  }) as Middleware<AppState>;
}
