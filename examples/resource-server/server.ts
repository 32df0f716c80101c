/**
 * An example resource server for jwt-login access tokens (issue 10, point 6), in two styles:
 *
 * - `GET /offline` checks the token itself, against the public keys jwt-login publishes (jose's `createRemoteJWKSet`,
 *   which caches the set and fetches it again when a token names a `kid` it has not seen). No call to jwt-login per
 *   request; a logged-out token is accepted until it expires.
 * - `GET /introspected` asks jwt-login (`POST /api/introspect`, RFC 7662) on every request: one round trip, and a
 *   logout or a deactivation is refused at once.
 *
 *   JWT_LOGIN_URL=http://127.0.0.1:8000 INTROSPECTION_CLIENT=id:secret PORT=8100 npm start
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import { type JWTPayload, createRemoteJWKSet, jwtVerify } from 'jose';
import Koa, { type Context } from 'koa';

export interface ResourceServerOptions {
  /** Where jwt-login answers, e.g. `http://127.0.0.1:8000`. */
  readonly jwtLoginUrl: string;
  /** The `iss` of jwt-login's tokens (its JWT_ISSUER). */
  readonly issuer?: string;
  /** An `id:secret` pair of jwt-login's INTROSPECTION_CLIENTS. */
  readonly introspectionClient: { readonly id: string; readonly secret: string };
  /**
   * How long the key set is kept before it is fetched again: at most jwt-login's JWKS_MAX_AGE (default 5 minutes), so
   * that a rotated-in key is known before it signs (KEY_PUBLISH_DELAY, longer than JWKS_MAX_AGE).
   */
  readonly jwksCacheMaxAgeMs?: number;
  /** The least time between two fetches of the key set (jose's default: 30 s). */
  readonly jwksCooldownMs?: number;
  /** The time tokens are judged at (tests move it); default the system clock. */
  readonly now?: () => number;
}

/** Only the algorithms jwt-login signs with public keys: an HS256 token (keyed with a public key) is refused. */
const ALGORITHMS = ['ES256', 'RS256'];

function bearerToken(ctx: Context): string | undefined {
  return /^Bearer +(\S+) *$/i.exec(ctx.get('Authorization'))?.[1];
}

function refuse(ctx: Context, reason: string): void {
  ctx.status = 401;
  ctx.set('WWW-Authenticate', 'Bearer error="invalid_token"');
  ctx.body = { error: 'invalid_token', reason };
}

export function createResourceServer(options: ResourceServerOptions): Koa {
  const now = options.now ?? Date.now;
  const issuer = options.issuer ?? 'jwt-login';
  const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', options.jwtLoginUrl), {
    cacheMaxAge: options.jwksCacheMaxAgeMs ?? 5 * 60_000,
    cooldownDuration: options.jwksCooldownMs ?? 30_000,
  });
  const introspectionUrl = new URL('/api/introspect', options.jwtLoginUrl);
  const basic = Buffer.from(
    `${encodeURIComponent(options.introspectionClient.id)}:${encodeURIComponent(options.introspectionClient.secret)}`,
  ).toString('base64');

  const router = new Router();
  router.get('/offline', async (ctx) => {
    const token = bearerToken(ctx);
    if (token === undefined) return refuse(ctx, 'no bearer token');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        issuer,
        algorithms: ALGORITHMS,
        currentDate: new Date(now()),
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      return refuse(ctx, error instanceof Error ? error.message : 'unverifiable');
    }
    if (payload.typ !== 'access') return refuse(ctx, 'not an access token');
    ctx.body = { checked: 'offline', sub: payload.sub };
  });

  router.get('/introspected', async (ctx) => {
    const token = bearerToken(ctx);
    if (token === undefined) return refuse(ctx, 'no bearer token');
    const response = await fetch(introspectionUrl, {
      method: 'POST',
      headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
    });
    if (!response.ok) {
      ctx.status = 502;
      ctx.body = { error: 'introspection_failed', status: response.status };
      return;
    }
    const state = (await response.json()) as { active: boolean; sub?: string; username?: string };
    if (!state.active) return refuse(ctx, 'inactive');
    ctx.body = { checked: 'introspection', sub: state.sub, username: state.username };
  });

  const app = new Koa();
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

/** Starts the example on `port` (0: any free one). @returns its URL and a function that stops it. */
export async function startResourceServer(
  options: ResourceServerOptions,
  port = 0,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const server: Server = createResourceServer(options).listen(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Run as a program: the configuration from the environment. */
async function main(): Promise<void> {
  const [id = '', secret = ''] = (process.env.INTROSPECTION_CLIENT ?? '').split(/:(.*)/s);
  const { url } = await startResourceServer(
    { jwtLoginUrl: process.env.JWT_LOGIN_URL ?? 'http://127.0.0.1:8000', introspectionClient: { id, secret } },
    Number(process.env.PORT ?? 8100),
  );
  process.stdout.write(`resource server on ${url}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`resource server: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
