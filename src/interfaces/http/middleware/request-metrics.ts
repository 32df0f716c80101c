import type { Middleware } from 'koa';
import type { AppState } from '../state.js';

/** What the HTTP layer reports to metrics (see the metrics adapter). */
export interface RequestMetrics {
  /** A request began; the returned function is called once it is answered, with its route template. */
  requestStarted(): (route: string, method: string, status: number) => void;
}

/**
 * Times every request and counts those in flight, labelled by the route template the router matched (`/api/users/:id`,
 * never the path itself, so a client cannot make the labels grow), `unmatched` for a path no route has.
 */
export function requestMetrics(metrics: RequestMetrics): Middleware<AppState> {
  return async (ctx, next) => {
    const done = metrics.requestStarted();
    try {
      await next();
    } finally {
      const route = (ctx as { _matchedRoute?: unknown })._matchedRoute;
      done(typeof route === 'string' ? route : 'unmatched', ctx.method, ctx.status);
    }
  };
}
