import type { Logger, RequestContext } from '../ports/logger.js';
import type { AuthEvents } from '../ports/auth-events.js';
import type { PasswordHasher } from '../ports/password-hasher.js';
import type { RateLimits } from '../ports/rate-limits.js';
import type { SessionStarter, IssuedTokens } from '../services/session-starter.js';
import type { CreateUser, CreateUserError } from './create-user.js';
import type { TooManyRequests } from '../../domain/errors.js';
import { type Result, fail, ok } from '../../domain/result.js';
import { overClientLimit } from '../services/client-limit.js';

export interface RegisterUserInput {
  readonly username: string;
  readonly password: string;
  /** The client's address, for the registration limit. */
  readonly client: string;
  /** Who asked (request id, client address, user agent), added to the security events logged. */
  readonly context?: RequestContext;
}

export type RegisterUserOutput = IssuedTokens & { readonly userId: number };

/** Public sign-up, limited per client address: an active user with only the `user` role, logged in at once. */
export class RegisterUser {
  constructor(
    private readonly createUser: CreateUser,
    private readonly sessions: SessionStarter,
    private readonly limits: RateLimits,
    private readonly logger: Logger,
    private readonly hasher: PasswordHasher,
    private readonly events: AuthEvents,
  ) {}

  async execute(input: RegisterUserInput): Promise<Result<RegisterUserOutput, CreateUserError | TooManyRequests>> {
    const log = input.context === undefined ? this.logger : this.logger.child(input.context);
    // At capacity, the request is shed (503) before it costs a database round trip or a registration.
    this.hasher.ensureCapacity();
    const limited = await overClientLimit(this.limits, log, 'registration', input.client);
    if (limited) return fail(limited);
    const created = await this.createUser.execute({
      username: input.username,
      password: input.password,
      ...(input.context === undefined ? {} : { context: input.context }),
    });
    if (!created.ok) return created;
    const issued = await this.sessions.start(created.value);
    this.events.record('registration');
    return ok({ ...issued, userId: created.value.id });
  }
}
