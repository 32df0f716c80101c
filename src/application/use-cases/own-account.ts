import type { AccountStore } from '../ports/account-store.js';
import type { Clock } from '../ports/clock.js';
import type { CommonPasswords } from '../ports/common-passwords.js';
import type { Logger, RequestContext } from '../ports/logger.js';
import type { PasswordHasher } from '../ports/password-hasher.js';
import type { RateLimits } from '../ports/rate-limits.js';
import type { SessionRepository } from '../ports/session-repository.js';
import type { UserRepository } from '../ports/user-repository.js';
import type { Principal } from './verify-access-token.js';
import {
  type InvalidCredentials,
  type InvalidInput,
  type SessionNotFound,
  type TooManyRequests,
  type UserNotFound,
  tooManyRequests,
} from '../../domain/errors.js';
import { checkNewPassword, normalizePassword } from '../../domain/password-policy.js';
import { type Result, fail, ok } from '../../domain/result.js';
import type { SessionSummary } from '../../domain/session.js';
import { type UserId, type UserView, viewOf } from '../../domain/user.js';

/** A user's view of one of their sessions. */
export type OwnSession = SessionSummary & { readonly current: boolean };

/** What a logged-in user does with their own account: look at it, change the password, see and end sessions. */
export class OwnAccount {
  constructor(
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
    private readonly accounts: AccountStore,
    private readonly hasher: PasswordHasher,
    private readonly commonPasswords: CommonPasswords,
    private readonly limits: RateLimits,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  async me(principal: Principal): Promise<Result<UserView, UserNotFound>> {
    const user = await this.users.findById(principal.userId);
    return user ? ok(viewOf(user)) : fail({ code: 'UserNotFound' });
  }

  /**
   * Changes the password after checking the current one, which counts toward the brute-force limit like a login; every
   * other session of the user is revoked, this one stays.
   */
  async changePassword(input: {
    readonly principal: Principal;
    readonly currentPassword: string;
    readonly newPassword: string;
    readonly client: string;
    readonly context?: RequestContext;
  }): Promise<Result<void, InvalidCredentials | InvalidInput | TooManyRequests | UserNotFound>> {
    const { principal } = input;
    const log = input.context === undefined ? this.logger : this.logger.child(input.context);
    this.hasher.ensureCapacity();
    const user = await this.users.findById(principal.userId);
    if (!user) return fail({ code: 'UserNotFound' });
    const attempt = await this.limits.beginLogin(user.username, input.client);
    if ('retryAfterSeconds' in attempt) {
      log.warn('password change rate limited', { event: 'rate_limited', action: 'password_change' });
      return fail(tooManyRequests(attempt.retryAfterSeconds));
    }
    let matches: boolean;
    try {
      matches = await this.hasher.verify(user.passwordHash, normalizePassword(input.currentPassword));
    } catch (error) {
      await attempt.abandoned().catch(() => undefined);
      throw error;
    }
    if (!matches) {
      await attempt.failed();
      log.warn('password change refused: wrong current password', {
        event: 'password_change',
        outcome: 'failure',
        user_id: user.id,
      });
      return fail({ code: 'InvalidCredentials' });
    }
    await attempt.succeeded();
    const password = checkNewPassword(input.newPassword, (candidate) => this.commonPasswords.contains(candidate));
    if (!password.ok) return password;
    const hash = await this.hasher.hash(password.value);
    // A flask-praetorian token (LEGACY_TOKENS) has no session to keep: every session of the user ends.
    const kept = principal.sessionId ?? '';
    if (!(await this.accounts.changePassword(user.id, hash, kept, this.clock.now()))) {
      return fail({ code: 'UserNotFound' });
    }
    log.info('password changed', { event: 'password_change', outcome: 'success', user_id: user.id });
    return ok(undefined);
  }

  async listSessions(principal: Principal): Promise<OwnSession[]> {
    const live = await this.sessions.listLive(principal.userId, this.clock.now());
    return live.map((session) => ({ ...session, current: session.id === principal.sessionId }));
  }

  /** Ends one of the user's own sessions; another user's, or an unknown one, is not found. */
  async endSession(
    principal: Principal,
    sessionId: string,
    context?: RequestContext,
  ): Promise<Result<void, SessionNotFound>> {
    const log = context === undefined ? this.logger : this.logger.child(context);
    const session = await this.sessions.findById(sessionId);
    if (!session || session.userId !== principal.userId) return fail({ code: 'SessionNotFound' });
    await this.sessions.revoke(session.id, this.clock.now(), 'ended_by_user');
    log.info('session revoked', {
      event: 'revocation',
      reason: 'ended_by_user',
      user_id: principal.userId,
      session_id: session.id,
    });
    return ok(undefined);
  }
}

/** An administrator's view of users, one at a time. */
export class ManageUser {
  constructor(
    private readonly users: UserRepository,
    private readonly accounts: AccountStore,
    private readonly hasher: PasswordHasher,
    private readonly commonPasswords: CommonPasswords,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  async get(id: UserId): Promise<Result<UserView, UserNotFound>> {
    const user = await this.users.findById(id);
    return user ? ok(viewOf(user)) : fail({ code: 'UserNotFound' });
  }

  async find(username: string): Promise<Result<UserView, UserNotFound>> {
    const user = await this.users.findByUsername(username);
    return user ? ok(viewOf(user)) : fail({ code: 'UserNotFound' });
  }

  /** Sets a password chosen by an administrator (the CLI's reset-password); every session of the user is revoked. */
  async setPassword(username: string, password: string): Promise<Result<UserView, UserNotFound | InvalidInput>> {
    const user = await this.users.findByUsername(username);
    if (!user) return fail({ code: 'UserNotFound' });
    const checked = checkNewPassword(password, (candidate) => this.commonPasswords.contains(candidate));
    if (!checked.ok) return checked;
    const hash = await this.hasher.hash(checked.value);
    if (!(await this.accounts.changePassword(user.id, hash, '', this.clock.now())))
      return fail({ code: 'UserNotFound' });
    this.logger.info('password set by an administrator', {
      event: 'password_change',
      outcome: 'success',
      user_id: user.id,
    });
    return ok(viewOf(user));
  }

  /** Deletes a user and their sessions; their tokens stop working at once. */
  async delete(id: UserId, actor?: Principal, context?: RequestContext): Promise<Result<void, UserNotFound>> {
    if (!(await this.accounts.deleteUser(id))) return fail({ code: 'UserNotFound' });
    const log = context === undefined ? this.logger : this.logger.child(context);
    log.info('user deleted', { event: 'user_deleted', user_id: id, actor_id: actor?.userId ?? null });
    return ok(undefined);
  }
}
