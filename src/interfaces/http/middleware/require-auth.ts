import type { Context, Middleware } from 'koa';
import type { VerifyAccessToken } from '../../../application/use-cases/verify-access-token.js';
import type { AppState } from '../state.js';
import { missingToken } from '../http-error.js';
import { domainErrorToHttp, unwrap } from '../error-response.js';
import { invalidToken } from '../../../domain/errors.js';

const BEARER = /^Bearer[ ]+([^\s]+)[ ]*$/i;

/**
 * The access token of a request: only from `Authorization: Bearer` (never the query string, RFC 6750 section 2.3
 * discouraged, nor cookies).
 */
export function bearerToken(ctx: Context): string | undefined {
  const header = ctx.get('Authorization');
  const match = BEARER.exec(header);
  return match?.[1];
}

/** flask-praetorian's `auth_required`: a valid access token of an active user, or an error answer. */
export function requireAuth(verifyAccessToken: VerifyAccessToken): Middleware<AppState> {
  return async (ctx, next) => {
    if (ctx.get('Authorization') === '') throw missingToken();
    ctx.state.tokenPresented = true;
    const token = bearerToken(ctx);
    if (token === undefined) throw domainErrorToHttp(invalidToken('Authorization is not a Bearer token'));
    ctx.state.principal = unwrap(await verifyAccessToken.execute({ token }));
    await next();
  };
}
