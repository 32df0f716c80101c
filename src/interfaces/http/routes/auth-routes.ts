import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Authenticate } from '../../../application/use-cases/authenticate.js';
import type { RefreshToken } from '../../../application/use-cases/refresh-token.js';
import type { RegisterUser } from '../../../application/use-cases/register-user.js';
import type { RefreshTokenOutput } from '../../../application/use-cases/refresh-token.js';
import type { AppState } from '../state.js';
import type { RateLimits } from '../../../application/ports/rate-limits.js';
import type { Logger } from '../../../application/ports/logger.js';
import { rateLimit } from '../middleware/rate-limit.js';
import { jsonObjectBody, requestBody } from '../middleware/body-parser.js';
import { bearerToken } from '../middleware/require-auth.js';
import { domainErrorToHttp } from '../error-response.js';
import { missingToken, validationError } from '../http-error.js';

export interface AuthRoutesDependencies {
  readonly registerUser: RegisterUser;
  readonly authenticate: Authenticate;
  readonly refreshToken: RefreshToken;
  readonly rateLimits: RateLimits;
  readonly logger: Logger;
}

const CREDENTIALS = 'username and password strings';

function sendTokens(ctx: Context, status: number, issued: RefreshTokenOutput): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
  ctx.body = {
    access_token: issued.accessToken,
    ...(issued.refreshToken === undefined ? {} : { refresh_token: issued.refreshToken }),
    token_type: 'Bearer',
    expires_in: issued.expiresIn,
  };
}

/** An opaque refresh token is 32 bytes base64url; anything far off that is not one of ours. */
const MAX_REFRESH_TOKEN_LENGTH = 256;

/** `{"refresh_token": "..."}` selects rotation; undefined when the body has no such field. */
function presentedRefreshToken(ctx: Context): string | undefined {
  const body = requestBody(ctx);
  if (body.kind !== 'json' || typeof body.value !== 'object' || body.value === null || Array.isArray(body.value)) {
    return undefined;
  }
  const { refresh_token: refreshToken } = body.value as Record<string, unknown>;
  if (refreshToken === undefined) return undefined;
  if (typeof refreshToken !== 'string' || refreshToken.length === 0 || refreshToken.length > MAX_REFRESH_TOKEN_LENGTH) {
    throw validationError(`refresh_token must be a string of 1 to ${MAX_REFRESH_TOKEN_LENGTH} characters`);
  }
  return refreshToken;
}

/**
 * The previous access token of a praetorian refresh: the raw body (what the seed's client sends), a JSON string,
 * `{"access_token"}`, or `Authorization: Bearer`.
 */
function previousAccessToken(ctx: Context): string | undefined {
  const body = requestBody(ctx);
  if (body.kind === 'text') return body.value.trim();
  if (body.kind === 'json') {
    if (typeof body.value === 'string') return body.value.trim();
    if (typeof body.value === 'object' && body.value !== null && !Array.isArray(body.value)) {
      const { access_token: accessToken } = body.value as Record<string, unknown>;
      if (accessToken !== undefined) {
        if (typeof accessToken !== 'string') throw validationError('access_token must be a string');
        return accessToken.trim();
      }
    } else {
      throw validationError('The request body must be the previous access token or a JSON object with access_token');
    }
  }
  return bearerToken(ctx);
}

/** Adds the routes to `router`. */
export function authRoutes(router: Router<AppState>, deps: AuthRoutesDependencies): void {
  router.post('/api/registration', rateLimit('registration', deps.rateLimits, deps.logger), async (ctx) => {
    const body = jsonObjectBody(ctx, CREDENTIALS);
    const result = await deps.registerUser.execute({ username: body.username, password: body.password });
    if (!result.ok) throw domainErrorToHttp(result.error);
    sendTokens(ctx, 201, result.value);
  });

  router.post('/api/login', async (ctx) => {
    const body = jsonObjectBody(ctx, CREDENTIALS);
    const result = await deps.authenticate.execute({
      username: body.username,
      password: body.password,
      client: ctx.ip,
    });
    if (!result.ok) throw domainErrorToHttp(result.error);
    sendTokens(ctx, 200, result.value);
  });

  router.post('/api/refresh', rateLimit('refresh', deps.rateLimits, deps.logger), async (ctx) => {
    const refreshToken = presentedRefreshToken(ctx);
    const accessToken = refreshToken === undefined ? previousAccessToken(ctx) : undefined;
    if (!refreshToken && !accessToken) throw missingToken();
    ctx.state.tokenPresented = true;
    const result = await deps.refreshToken.execute(
      refreshToken !== undefined ? { refreshToken } : { accessToken: accessToken! },
    );
    if (!result.ok) throw domainErrorToHttp(result.error);
    sendTokens(ctx, 200, result.value);
  });
}
