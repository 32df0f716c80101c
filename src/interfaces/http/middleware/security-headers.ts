import helmet from 'koa-helmet';
import type { Middleware } from 'koa';
import type { AppState } from '../state.js';

/**
 * helmet's headers, tightened for a JSON API that no page should frame or load: CSP `default-src 'none'` with
 * `frame-ancestors 'none'`, X-Frame-Options DENY, nosniff, no referrer.
 */
export function securityHeaders(): Middleware<AppState> {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
  }) as Middleware<AppState>;
}
