import type { Middleware } from 'koa';
import type { AppState } from '../state.js';
import { domainErrorToHttp } from '../error-response.js';

/**
 * flask-praetorian's `roles_required` (mode `all`) and `roles_accepted` (mode `any`), over the roles of the
 * authenticated principal. Goes after `requireAuth`.
 */
export function requireRoles(mode: 'all' | 'any', roles: readonly string[]): Middleware<AppState> {
  return async (ctx, next) => {
    const held = new Set(ctx.state.principal?.roles ?? []);
    const allowed = mode === 'all' ? roles.every((role) => held.has(role)) : roles.some((role) => held.has(role));
    if (!allowed) throw domainErrorToHttp({ code: 'MissingRoles', roles, mode });
    await next();
  };
}
