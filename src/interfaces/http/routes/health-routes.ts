import type Router from '@koa/router';
import type { AppState } from '../state.js';
import { serviceUnavailable } from '../http-error.js';

export interface HealthRoutesDependencies {
  /** True while the service can answer requests that need the database. */
  readonly isReady: () => Promise<boolean>;
}

/** Adds the routes to `router`. */
export function healthRoutes(router: Router<AppState>, deps: HealthRoutesDependencies): void {
  const root = (ctx: { body: unknown }) => {
    ctx.body = { 'JWT Server Application': 'Running!' };
  };
  router.get('/api/', root);
  // Flask redirected /api to /api/; the seed's client and curl users call both.
  router.get('/api', root);

  router.get('/api/health', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  router.get('/api/ready', async (ctx) => {
    if (!(await deps.isReady())) throw serviceUnavailable(1);
    ctx.body = { status: 'ready' };
  });
}
