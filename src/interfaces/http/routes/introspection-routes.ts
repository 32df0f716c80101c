import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import type { ClientCredentials } from '../../../application/ports/client-credentials.js';
import type { IntrospectToken } from '../../../application/use-cases/introspect-token.js';
import type { VerifyAccessToken } from '../../../application/use-cases/verify-access-token.js';
import type { AppState } from '../state.js';
import { HttpError, missingToken } from '../http-error.js';
import { bodyOf } from '../input.js';
import { requireAuth } from '../middleware/require-auth.js';
import { requireRoles } from '../middleware/require-roles.js';
import { INTROSPECTION_PATH } from './key-routes.js';

export interface IntrospectionRoutesDependencies {
  readonly introspectToken: IntrospectToken;
  readonly verifyAccessToken: VerifyAccessToken;
  readonly clientCredentials: ClientCredentials;
}

/** The role a token needs to call the introspection endpoint itself. */
export const INTROSPECT_ROLE = 'introspect';
const MAX_TOKEN_LENGTH = 8192;
const BASIC = /^Basic[ ]+([A-Za-z0-9+/]+=*)[ ]*$/i;
const BASIC_CHALLENGE = { 'WWW-Authenticate': 'Basic realm="jwt-login", charset="UTF-8"' };

const input = z.object({
  token: z
    .string({ required_error: 'token must be a string', invalid_type_error: 'token must be a string' })
    .min(1, 'token must not be empty')
    .max(MAX_TOKEN_LENGTH, `token must be at most ${MAX_TOKEN_LENGTH} characters`),
  token_type_hint: z.string().optional(),
});

const invalidClient = () =>
  new HttpError(401, 'InvalidClient', 'The client id or secret is not valid', BASIC_CHALLENGE);

/** RFC 6749 2.3.1: the id and secret are form-encoded before they are joined with a colon. */
function formDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * Who may introspect: a client of `INTROSPECTION_CLIENTS` with HTTP Basic (RFC 7617), or a bearer token of a user with
 * the `introspect` role. Anything else is a 401 (403 for a token without the role).
 */
function introspectionCaller(deps: IntrospectionRoutesDependencies): Middleware<AppState> {
  const bearer = requireAuth(deps.verifyAccessToken);
  const role = requireRoles('all', [INTROSPECT_ROLE]);
  return async (ctx, next) => {
    const header = ctx.get('Authorization');
    if (header === '') throw new HttpError(401, 'MissingToken', missingToken().message, BASIC_CHALLENGE);
    const basic = BASIC.exec(header);
    if (basic === null) {
      await bearer(ctx, () => role(ctx, next) as Promise<void>);
      return;
    }
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const id = colon < 0 ? undefined : formDecode(decoded.slice(0, colon));
    const secret = colon < 0 ? undefined : formDecode(decoded.slice(colon + 1));
    if (id === undefined || secret === undefined || !deps.clientCredentials.check(id, secret)) throw invalidClient();
    await next();
  };
}

/** Adds the routes to `router`: RFC 7662 introspection. */
export function introspectionRoutes(router: Router<AppState>, deps: IntrospectionRoutesDependencies): void {
  router.post(INTROSPECTION_PATH, introspectionCaller(deps), async (ctx) => {
    const { token } = bodyOf(ctx, input, 'a token string');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.introspectToken.execute({ token });
  });
}
