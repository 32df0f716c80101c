import type Router from '@koa/router';
import type { GetSecret } from '../../../application/use-cases/get-secret.js';
import type { VerifyAccessToken } from '../../../application/use-cases/verify-access-token.js';
import type { AppState } from '../state.js';
import { requireAuth } from '../middleware/require-auth.js';

export interface ProtectedRoutesDependencies {
  readonly verifyAccessToken: VerifyAccessToken;
  readonly getSecret: GetSecret;
}

/** Adds the routes to `router`. */
export function protectedRoutes(router: Router<AppState>, deps: ProtectedRoutesDependencies): void {
  router.get('/api/protected', requireAuth(deps.verifyAccessToken), (ctx) => {
    ctx.body = { message: deps.getSecret.execute({ principal: ctx.state.principal! }).message };
  });
}
