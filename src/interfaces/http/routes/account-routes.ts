import type Router from '@koa/router';
import { z } from 'zod';
import type { ConfirmEmail } from '../../../application/use-cases/confirm-email.js';
import type { OwnAccount } from '../../../application/use-cases/own-account.js';
import type { RequestPasswordReset, ResetPassword } from '../../../application/use-cases/password-reset.js';
import type { VerifyAccessToken } from '../../../application/use-cases/verify-access-token.js';
import type { UserView } from '../../../domain/user.js';
import type { AppState } from '../state.js';
import { bearerToken, requireAuth } from '../middleware/require-auth.js';
import { unwrap } from '../error-response.js';
import { missingToken } from '../http-error.js';
import { bodyOf, paramsOf, textField } from '../input.js';
import { clientAddress } from '../client-address.js';
import { requestContext } from '../request-context.js';
import { sendTokens, sessionOrigin } from './auth-routes.js';

export interface AccountRoutesDependencies {
  readonly verifyAccessToken: VerifyAccessToken;
  readonly confirmEmail: ConfirmEmail;
  readonly requestPasswordReset: RequestPasswordReset;
  readonly resetPassword: ResetPassword;
  readonly ownAccount: OwnAccount;
}

const resetRequest = z.object({ email: textField('email') });
const newPassword = z.object({ password: textField('password') });
const passwordChange = z.object({
  current_password: textField('current_password'),
  new_password: textField('new_password'),
});
const sessionParams = z.object({ id: z.string() });

/** A user as they see themselves (and as the admin API shows one user). */
export const userJson = (user: UserView) => ({
  id: user.id,
  username: user.username,
  email: user.email,
  email_verified: user.emailVerified,
  roles: user.roles,
  is_active: user.isActive,
});

/** Confirmation and reset links (the seed client's calls), and what a logged-in user does with their account. */
export function accountRoutes(router: Router<AppState>, deps: AccountRoutesDependencies): void {
  const auth = requireAuth(deps.verifyAccessToken);

  // The seed client sends the link's token as a bearer token.
  router.get('/api/finalize', async (ctx) => {
    const token = bearerToken(ctx);
    if (!token) throw missingToken();
    ctx.state.tokenPresented = true;
    const confirmed = unwrap(
      await deps.confirmEmail.execute({ token, origin: sessionOrigin(ctx), context: requestContext(ctx) }),
    );
    sendTokens(ctx, 200, confirmed, { user: confirmed.username });
  });

  router.post('/api/reset', async (ctx) => {
    const { email } = bodyOf(ctx, resetRequest, 'email');
    const message = unwrap(
      await deps.requestPasswordReset.execute({ email, client: clientAddress(ctx), context: requestContext(ctx) }),
    );
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { message };
  });

  router.post('/api/reset_finalize', async (ctx) => {
    const token = bearerToken(ctx);
    if (!token) throw missingToken();
    ctx.state.tokenPresented = true;
    const { password } = bodyOf(ctx, newPassword, 'password');
    const reset = unwrap(
      await deps.resetPassword.execute({ token, password, origin: sessionOrigin(ctx), context: requestContext(ctx) }),
    );
    sendTokens(ctx, 200, reset, { user: reset.username });
  });

  router.get('/api/me', auth, async (ctx) => {
    const me = unwrap(await deps.ownAccount.me(ctx.state.principal!));
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { id: me.id, username: me.username, email: me.email, email_verified: me.emailVerified, roles: me.roles };
  });

  router.post('/api/password', auth, async (ctx) => {
    const body = bodyOf(ctx, passwordChange, 'current_password and new_password');
    unwrap(
      await deps.ownAccount.changePassword({
        principal: ctx.state.principal!,
        currentPassword: body.current_password,
        newPassword: body.new_password,
        client: clientAddress(ctx),
        context: requestContext(ctx),
      }),
    );
    ctx.status = 204;
  });

  router.get('/api/sessions', auth, async (ctx) => {
    const sessions = await deps.ownAccount.listSessions(ctx.state.principal!);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      sessions: sessions.map((session) => ({
        id: session.id,
        created_at: new Date(session.createdAt).toISOString(),
        last_refreshed_at: session.refreshedAt === null ? null : new Date(session.refreshedAt).toISOString(),
        client_address: session.clientAddress,
        user_agent: session.userAgent,
        current: session.current,
      })),
    };
  });

  router.delete('/api/sessions/:id', auth, async (ctx) => {
    const { id } = paramsOf(ctx, sessionParams);
    unwrap(await deps.ownAccount.endSession(ctx.state.principal!, id, requestContext(ctx)));
    ctx.status = 204;
  });
}
