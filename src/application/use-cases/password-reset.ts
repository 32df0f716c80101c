import type { AccountStore } from '../ports/account-store.js';
import type { Clock } from '../ports/clock.js';
import type { CommonPasswords } from '../ports/common-passwords.js';
import type { Logger, RequestContext } from '../ports/logger.js';
import type { AuthEvents } from '../ports/auth-events.js';
import type { OpaqueTokens } from '../ports/opaque-tokens.js';
import type { PasswordHasher } from '../ports/password-hasher.js';
import type { RateLimits } from '../ports/rate-limits.js';
import type { AccountMails } from '../services/account-mails.js';
import { overMailLimits } from '../services/client-limit.js';
import type { IssuedTokens, SessionOrigin, SessionStarter } from '../services/session-starter.js';
import type { InactiveUser, InvalidAccountToken, InvalidInput, UserNotFound } from '../../domain/errors.js';
import { emailKey, validateEmail } from '../../domain/email.js';
import { checkNewPassword } from '../../domain/password-policy.js';
import { type Result, fail, ok } from '../../domain/result.js';
import type { UserId } from '../../domain/user.js';

/** What every reset request is told, whoever holds the address. */
export const RESET_MESSAGE = 'If an active account has this address, a link to reset its password is on its way.';

/**
 * Asks for a password reset. The answer and the work are the same whether the address is unknown, an inactive
 * account's or an active one's: only an active account's address is mailed, by a statement that costs the same either
 * way, and a request over the mail limits is answered as usual.
 */
export class RequestPasswordReset {
  constructor(
    private readonly accounts: AccountStore,
    private readonly mails: AccountMails,
    private readonly tokens: OpaqueTokens,
    private readonly limits: RateLimits,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  async execute(input: {
    readonly email: string;
    readonly client: string;
    readonly context?: RequestContext;
  }): Promise<Result<string, InvalidInput>> {
    const log = input.context === undefined ? this.logger : this.logger.child(input.context);
    const email = validateEmail(input.email);
    if (!email.ok) return email;
    if (await overMailLimits(this.limits, log, input.client, email.value)) return ok(RESET_MESSAGE);
    const token = this.tokens.generate();
    await this.accounts.issueResetByEmail(emailKey(email.value), this.newToken(token), this.mails.reset(token));
    log.info('password reset asked for', { event: 'password_reset_request' });
    return ok(RESET_MESSAGE);
  }

  /** An administrator's request for one user. */
  async forUser(userId: UserId, context?: RequestContext): Promise<Result<void, UserNotFound>> {
    const log = context === undefined ? this.logger : this.logger.child(context);
    const token = this.tokens.generate();
    const sent = await this.accounts.issueResetFor(userId, this.newToken(token), this.mails.reset(token));
    if (!sent) return fail({ code: 'UserNotFound' });
    log.info('password reset sent by an administrator', { event: 'password_reset_request', user_id: userId });
    return ok(undefined);
  }

  private newToken(token: string) {
    const now = this.clock.now();
    return {
      hash: this.tokens.digest(token),
      createdAt: now,
      expiresAt: now + this.mails.settings.resetSeconds * 1000,
    };
  }
}

/**
 * Follows a reset link with a new password: the password policy applies, the token is spent, the password set, every
 * session of the user revoked, and the user logged in anew (the seed's `/api/reset_finalize`).
 */
export class ResetPassword {
  constructor(
    private readonly accounts: AccountStore,
    private readonly tokens: OpaqueTokens,
    private readonly hasher: PasswordHasher,
    private readonly commonPasswords: CommonPasswords,
    private readonly sessions: SessionStarter,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly events: AuthEvents,
  ) {}

  async execute(input: {
    readonly token: string;
    readonly password: string;
    readonly origin: SessionOrigin;
    readonly context?: RequestContext;
  }): Promise<Result<IssuedTokens & { readonly username: string }, InvalidAccountToken | InvalidInput | InactiveUser>> {
    const log = input.context === undefined ? this.logger : this.logger.child(input.context);
    const digest = this.tokens.digest(input.token);
    // A dead link is told at once, before the password is judged or hashed.
    if ((await this.accounts.peek(digest, 'reset', this.clock.now())) === null) return this.refused(log);
    const password = checkNewPassword(input.password, (candidate) => this.commonPasswords.contains(candidate));
    if (!password.ok) return password;
    this.hasher.ensureCapacity();
    const user = await this.accounts.resetPassword(digest, await this.hasher.hash(password.value), this.clock.now());
    if (!user) return this.refused(log);
    log.info('password reset', { event: 'password_reset', outcome: 'success', user_id: user.id });
    this.events.record('password_reset');
    if (!user.isActive) return fail({ code: 'InactiveUser' });
    return ok({ ...(await this.sessions.start(user, input.origin)), username: user.username });
  }

  private refused(log: Logger): Result<never, InvalidAccountToken> {
    log.warn('password reset refused', { event: 'password_reset', outcome: 'invalid_token' });
    return fail({ code: 'InvalidAccountToken' });
  }
}
