import type { PasswordHasher } from '../ports/password-hasher.js';
import type { UserRepository } from '../ports/user-repository.js';
import type { Logger, RequestContext } from '../ports/logger.js';
import type { AuthEvents } from '../ports/auth-events.js';
import type { RateLimits } from '../ports/rate-limits.js';
import type { IssuedTokens, SessionStarter } from '../services/session-starter.js';
import {
  type InactiveUser,
  type InvalidCredentials,
  type TooManyRequests,
  tooManyRequests,
} from '../../domain/errors.js';
import { type Result, fail, ok } from '../../domain/result.js';
import { normalizePassword } from '../../domain/password-policy.js';

export interface AuthenticateInput {
  readonly username: string;
  readonly password: string;
  /** The client's address, for the brute-force limits. */
  readonly client: string;
  /** Who asked (request id, client address, user agent), added to the security events logged. */
  readonly context?: RequestContext;
  /** The client's user agent, shown to the user in the list of their sessions. */
  readonly userAgent?: string;
}

export type AuthenticateOutput = IssuedTokens & { readonly userId: number };

export type AuthenticateError = InvalidCredentials | InactiveUser | TooManyRequests;

/**
 * Logs a user in with username and password, under the brute-force limits. An unknown user and a wrong password are
 * one answer, `InvalidCredentials`, reached through the same password verification so that timing does not tell them
 * apart.
 */
export class Authenticate {
  constructor(
    private readonly users: UserRepository,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionStarter,
    private readonly limits: RateLimits,
    private readonly logger: Logger,
    private readonly events: AuthEvents,
  ) {}

  async execute(input: AuthenticateInput): Promise<Result<AuthenticateOutput, AuthenticateError>> {
    const log = input.context === undefined ? this.logger : this.logger.child(input.context);
    const password = normalizePassword(input.password);
    // At capacity, the request is shed (503) before it costs a database round trip or a rate-limit point.
    this.hasher.ensureCapacity();

    const attempt = await this.limits.beginLogin(input.username, input.client);
    if ('retryAfterSeconds' in attempt) {
      const retryAfter = attempt.retryAfterSeconds;
      log.warn('login rate limited', {
        event: 'rate_limited',
        outcome: 'failure',
        action: 'login',
        retry_after: retryAfter,
      });
      this.events.record('login_lockout');
      return fail(tooManyRequests(retryAfter));
    }
    // A database fault or an overload breaks the attempt off: refused, not failed, so it gives its place back uncounted.
    const orAbandon = async <T>(work: () => Promise<T>): Promise<T> => {
      try {
        return await work();
      } catch (error) {
        await attempt.abandoned().catch(() => undefined);
        throw error;
      }
    };
    const user = await orAbandon(() => this.users.findByUsername(input.username));
    const hash = user?.passwordHash ?? (await this.hasher.dummyHash());
    const matches = await orAbandon(() => this.hasher.verify(hash, password, input.password));
    if (!user || !matches) {
      await attempt.failed();
      if (user && !this.hasher.recognizes(user.passwordHash)) {
        // A corrupt row, or a scheme nobody told us of: it matches no password. The hash itself is never logged.
        log.warn('stored password hash unreadable: the user cannot log in', {
          event: 'password_hash_unreadable',
          user_id: user.id,
        });
      }
      log.warn('login failed', {
        event: 'login_failure',
        outcome: 'failure',
        user_id: user?.id ?? null,
        username: user?.username ?? null,
      });
      this.events.record('login_failure');
      return fail({ code: 'InvalidCredentials' });
    }
    if (!user.isActive) {
      // The right password, but no tokens: the failures are not cleared, so guessing cannot go on at full speed.
      await attempt.abandoned();
      log.warn('login refused: inactive user', {
        event: 'login_inactive_user',
        outcome: 'failure',
        user_id: user.id,
        username: user.username,
      });
      this.events.record('login_failure');
      return fail({ code: 'InactiveUser' });
    }
    const issued = await orAbandon(async () => {
      // A legacy (flask-praetorian) or weaker hash is replaced in the same transaction as the session starts.
      const upgrade = this.hasher.needsRehash(user.passwordHash)
        ? { from: user.passwordHash, to: await this.hasher.hash(password) }
        : undefined;
      const started = await this.sessions.start(user, { client: input.client, userAgent: input.userAgent }, upgrade);
      if (upgrade) log.info('password hash upgraded', { event: 'password_rehashed', user_id: user.id });
      return started;
    });
    await attempt.succeeded();
    log.info('logged in', {
      event: 'login_success',
      outcome: 'success',
      user_id: user.id,
      username: user.username,
    });
    this.events.record('login_success');
    return ok({ ...issued, userId: user.id });
  }
}
