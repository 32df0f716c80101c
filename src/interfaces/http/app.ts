import Koa from 'koa';
import Router from '@koa/router';
import type { Logger } from '../../application/ports/logger.js';
import type { AppState } from './state.js';
import { requestId } from './middleware/request-id.js';
import { requestLogger } from './middleware/request-logger.js';
import { type RequestMetrics, requestMetrics } from './middleware/request-metrics.js';
import { errorHandler } from './middleware/error-handler.js';
import { parseBody } from './middleware/body-parser.js';
import { corsPolicy } from './middleware/cors.js';
import { securityHeaders } from './middleware/security-headers.js';
import { type AuthRoutesDependencies, authRoutes } from './routes/auth-routes.js';
import { type ProtectedRoutesDependencies, protectedRoutes } from './routes/protected-routes.js';
import { type HealthRoutesDependencies, healthRoutes } from './routes/health-routes.js';
import { type SessionRoutesDependencies, sessionRoutes } from './routes/session-routes.js';
import { type AdminRoutesDependencies, adminRoutes } from './routes/admin-routes.js';
import { type DocsRoutesDependencies, docsRoutes } from './routes/docs-routes.js';
import { type AccountRoutesDependencies, accountRoutes } from './routes/account-routes.js';
import { type KeyRoutesDependencies, keyRoutes } from './routes/key-routes.js';
import { type IntrospectionRoutesDependencies, introspectionRoutes } from './routes/introspection-routes.js';

export interface AppOptions {
  /** Largest accepted request body, e.g. `16kb`. */
  readonly bodyLimit: string;
  /** Take the client address from X-Forwarded-For. */
  readonly trustProxy: boolean;
  /** `'*'` or the origins browsers may call from. */
  readonly corsOrigins: '*' | readonly string[];
}

export type AppDependencies = AuthRoutesDependencies &
  ProtectedRoutesDependencies &
  HealthRoutesDependencies &
  SessionRoutesDependencies &
  AdminRoutesDependencies &
  AccountRoutesDependencies &
  KeyRoutesDependencies &
  IntrospectionRoutesDependencies &
  DocsRoutesDependencies & {
    readonly logger: Logger;
    readonly metrics: RequestMetrics;
    readonly isUnavailableError: (error: unknown) => boolean;
    readonly options: AppOptions;
  };

/** Builds the Koa application: middleware in order, then the routes. */
export function createApp(deps: AppDependencies): Koa<AppState> {
  const app = new Koa<AppState>();
  app.silent = true;
  app.proxy = deps.options.trustProxy;
  // Behind one proxy: the client address is the entry that proxy appended (the right-most), never one the client wrote.
  app.maxIpsCount = 1;
  app.on('error', (error: unknown) => deps.logger.error('koa error', { err: String(error) }));

  app.use(requestId());
  app.use(requestMetrics(deps.metrics));
  app.use(securityHeaders());
  app.use(requestLogger(deps.logger));
  app.use(errorHandler({ logger: deps.logger, isUnavailableError: deps.isUnavailableError, retryAfterSeconds: 1 }));
  app.use(corsPolicy(deps.options.corsOrigins));
  app.use(parseBody(deps.options.bodyLimit));

  const router = new Router<AppState>();
  healthRoutes(router, deps);
  authRoutes(router, deps);
  protectedRoutes(router, deps);
  sessionRoutes(router, deps);
  accountRoutes(router, deps);
  adminRoutes(router, deps);
  keyRoutes(router, deps);
  introspectionRoutes(router, deps);
  docsRoutes(router, deps);
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
