import type Router from '@koa/router';
import type { Logout } from '../../../application/use-cases/logout.js';
import type { VerifyAccessToken } from '../../../application/use-cases/verify-access-token.js';
import type { AppState } from '../state.js';
import { requireAuth } from '../middleware/require-auth.js';
import { requestContext } from '../request-context.js';

export interface SessionRoutesDependencies {
  readonly verifyAccessToken: VerifyAccessToken;
  readonly logout: Logout;
}

/** Adds the routes to `router`. */
export function sessionRoutes(router: Router<AppState>, deps: SessionRoutesDependencies): void {
  router.post('/api/logout', requireAuth(deps.verifyAccessToken), async (ctx) => {
    await deps.logout.execute({ principal: ctx.state.principal!, context: requestContext(ctx) });
    ctx.status = 204;
  });
}
