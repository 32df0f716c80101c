import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { Authenticate } from '../../../application/use-cases/authenticate.js';
import type { RefreshAccessToken } from '../../../application/use-cases/refresh-access-token.js';
import type { RegisterUser } from '../../../application/use-cases/register-user.js';
import type { RotateRefreshToken } from '../../../application/use-cases/rotate-refresh-token.js';
import type { IssuedAccessToken } from '../../../application/services/access-token-issuer.js';
import type { AppState } from '../state.js';
import { requestBody } from '../middleware/body-parser.js';
import { bearerToken } from '../middleware/require-auth.js';
import { unwrap } from '../error-response.js';
import { missingToken, validationError } from '../http-error.js';
import { bodyOf, textField } from '../input.js';
import { clientAddress } from '../client-address.js';
import { requestContext } from '../request-context.js';

export interface AuthRoutesDependencies {
  readonly registerUser: RegisterUser;
  readonly authenticate: Authenticate;
  readonly rotateRefreshToken: RotateRefreshToken;
  readonly refreshAccessToken: RefreshAccessToken;
}

const credentials = z.object({ username: textField('username'), password: textField('password') });
const registration = credentials.extend({ email: textField('email').optional() });
const CREDENTIALS = 'username and password strings';

/** Answers with a login's body, plus `extra` fields (the `user` of a confirmation or reset). */
export function sendTokens(
  ctx: Context,
  status: number,
  issued: IssuedAccessToken & { refreshToken?: string },
  extra: Record<string, unknown> = {},
): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
  ctx.body = {
    access_token: issued.accessToken,
    ...(issued.refreshToken === undefined ? {} : { refresh_token: issued.refreshToken }),
    token_type: 'Bearer',
    expires_in: issued.expiresIn,
    ...extra,
  };
}

/** The user agent a session is started with, for the list of sessions. */
export const sessionOrigin = (ctx: Context) => ({
  client: clientAddress(ctx),
  userAgent: ctx.get('User-Agent') || undefined,
});

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

/** Adds the routes to `router`. Each use case applies its own limit (registrations, logins, refreshes per client). */
export function authRoutes(router: Router<AppState>, deps: AuthRoutesDependencies): void {
  router.post('/api/registration', async (ctx) => {
    const { username, password, email } = bodyOf(ctx, registration, CREDENTIALS);
    const registered = unwrap(
      await deps.registerUser.execute({
        username,
        password,
        email,
        ...sessionOrigin(ctx),
        context: requestContext(ctx),
      }),
    );
    if (registered.kind === 'confirm') {
      ctx.status = 201;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { message: registered.message };
      return;
    }
    sendTokens(ctx, 201, registered);
  });

  router.post('/api/login', async (ctx) => {
    const { username, password } = bodyOf(ctx, credentials, CREDENTIALS);
    const authenticated = unwrap(
      await deps.authenticate.execute({ username, password, ...sessionOrigin(ctx), context: requestContext(ctx) }),
    );
    sendTokens(ctx, 200, authenticated);
  });

  router.post('/api/refresh', async (ctx) => {
    const refreshToken = presentedRefreshToken(ctx);
    if (refreshToken !== undefined) {
      ctx.state.tokenPresented = true;
      sendTokens(
        ctx,
        200,
        unwrap(
          await deps.rotateRefreshToken.execute({
            refreshToken,
            client: clientAddress(ctx),
            context: requestContext(ctx),
          }),
        ),
      );
      return;
    }
    const accessToken = previousAccessToken(ctx);
    if (!accessToken) throw missingToken();
    ctx.state.tokenPresented = true;
    sendTokens(
      ctx,
      200,
      unwrap(
        await deps.refreshAccessToken.execute({
          accessToken,
          client: clientAddress(ctx),
          context: requestContext(ctx),
        }),
      ),
    );
  });
}
