import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Clock } from '../../../application/ports/clock.js';
import type { PublishedKeys } from '../../../application/ports/published-keys.js';
import type { AppState } from '../state.js';

export interface KeyRoutesDependencies {
  readonly publishedKeys: PublishedKeys;
  readonly clock: Clock;
  readonly discovery: {
    /** The `iss` of our tokens. */
    readonly issuer: string;
    /** Shorter than the rotation's publish delay, so that every verifier sees a new key before it signs. */
    readonly jwksMaxAgeSeconds: number;
  };
}

export const JWKS_PATH = '/.well-known/jwks.json';
export const INTROSPECTION_PATH = '/api/introspect';

/** Adds the routes to `router`: the JWKS (RFC 7517), at the root and under `/api/`, and RFC 8414 metadata. */
export function keyRoutes(router: Router<AppState>, deps: KeyRoutesDependencies): void {
  const jwks = (ctx: Context) => {
    ctx.set('Cache-Control', `public, max-age=${deps.discovery.jwksMaxAgeSeconds}`);
    ctx.type = 'application/jwk-set+json';
    ctx.body = deps.publishedKeys.jwks(Math.floor(deps.clock.now() / 1000));
  };
  router.get(JWKS_PATH, jwks);
  router.get(`/api${JWKS_PATH}`, jwks);

  router.get('/.well-known/oauth-authorization-server', (ctx) => {
    // Addresses as this request reached us (behind a trusted proxy, as the proxy says it was reached).
    const origin = `${ctx.protocol}://${ctx.host}`;
    ctx.set('Cache-Control', `public, max-age=${deps.discovery.jwksMaxAgeSeconds}`);
    ctx.body = {
      issuer: deps.discovery.issuer,
      jwks_uri: `${origin}${JWKS_PATH}`,
      introspection_endpoint: `${origin}${INTROSPECTION_PATH}`,
      introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
      // No OAuth authorization or token endpoint: tokens come from /api/login.
      response_types_supported: [],
      grant_types_supported: [],
    };
  });
}
