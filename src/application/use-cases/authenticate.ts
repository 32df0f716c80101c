import type { PasswordHasher } from '../ports/password-hasher.js';
import type { UserRepository } from '../ports/user-repository.js';
import type { Logger } from '../ports/logger.js';
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
  ) {}

  async execute(input: AuthenticateInput): Promise<Result<AuthenticateOutput, AuthenticateError>> {
    const password = normalizePassword(input.password);
    // At capacity, the request is shed (503) before it costs a database round trip or a rate-limit point.
    this.hasher.ensureCapacity();

    const blockedFor = await this.limits.loginAttempted(input.username, input.client);
    if (blockedFor > 0) {
      this.logger.warn('login rate limited', { event: 'rate_limited', action: 'login', retry_after: blockedFor });
      return fail(tooManyRequests(blockedFor));
    }

    const user = await this.users.findByUsername(input.username);
    const hash = user?.passwordHash ?? (await this.hasher.dummyHash());
    const matches = await this.hasher.verify(hash, password);
    if (!user || !matches) {
      this.logger.warn('login failed', { event: 'login_failure', user_id: user?.id ?? null });
      return fail({ code: 'InvalidCredentials' });
    }
    await this.limits.loginSucceeded(input.username, input.client);
    if (!user.isActive) {
      this.logger.warn('login refused: inactive user', { event: 'login_inactive_user', user_id: user.id });
      return fail({ code: 'InactiveUser' });
    }
    if (this.hasher.needsRehash(user.passwordHash)) {
      await this.users.updatePasswordHash(user.id, await this.hasher.hash(password));
      this.logger.info('password hash upgraded', { event: 'password_rehashed', user_id: user.id });
    }
    return ok({ ...(await this.sessions.start(user)), userId: user.id });
  }
}
