import type Router from '@koa/router';
import type { Logout } from '../../../application/use-cases/logout.js';
import type { VerifyAccessToken } from '../../../application/use-cases/verify-access-token.js';
import type { AppState } from '../state.js';
import { requireAuth } from '../middleware/require-auth.js';
import { requestContext } from '../request-context.js';
import { requestBody } from '../middleware/body-parser.js';
import { validationError } from '../http-error.js';

export interface SessionRoutesDependencies {
  readonly verifyAccessToken: VerifyAccessToken;
  readonly logout: Logout;
}

/** `{"all": true}` ends every session of the user; no body (the seed's client) or `{}` ends this one. */
function logoutAll(ctx: Parameters<Parameters<Router<AppState>['post']>[1]>[0]): boolean {
  const body = requestBody(ctx);
  if (body.kind !== 'json') return false;
  if (typeof body.value !== 'object' || body.value === null || Array.isArray(body.value)) {
    throw validationError('The request body must be empty or a JSON object with all (true or false)');
  }
  const { all } = body.value as Record<string, unknown>;
  if (all !== undefined && typeof all !== 'boolean') throw validationError('all must be true or false');
  return all === true;
}

/** Adds the routes to `router`. */
export function sessionRoutes(router: Router<AppState>, deps: SessionRoutesDependencies): void {
  router.post('/api/logout', requireAuth(deps.verifyAccessToken), async (ctx) => {
    await deps.logout.execute({ principal: ctx.state.principal!, all: logoutAll(ctx), context: requestContext(ctx) });
    ctx.status = 204;
  });
}
