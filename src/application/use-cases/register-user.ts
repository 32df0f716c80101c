import type { Logger, RequestContext } from '../ports/logger.js';
import type { AuthEvents } from '../ports/auth-events.js';
import type { PasswordHasher } from '../ports/password-hasher.js';
import type { RateLimits } from '../ports/rate-limits.js';
import type { SessionStarter, IssuedTokens } from '../services/session-starter.js';
import type { CreateUser, CreateUserError } from './create-user.js';
import type { RegistrationClosed, TooManyRequests } from '../../domain/errors.js';
import type { AccountStore } from '../ports/account-store.js';
import type { Clock } from '../ports/clock.js';
import type { OpaqueTokens } from '../ports/opaque-tokens.js';
import type { AccountMails } from '../services/account-mails.js';
import { type Result, fail, ok } from '../../domain/result.js';
import { overClientLimit, overMailLimits } from '../services/client-limit.js';

export interface RegisterUserInput {
  readonly username: string;
  readonly password: string;
  /** Optional; checked by src/domain/email.ts, unique after trimming and case folding. */
  readonly email?: string;
  /** The client's address, for the registration limit. */
  readonly client: string;
  readonly userAgent?: string;
  /** Who asked (request id, client address, user agent), added to the security events logged. */
  readonly context?: RequestContext;
}

export interface RegistrationSettings {
  /** `closed`: public sign-up is refused (admins and the CLI still create users). */
  readonly registration: 'open' | 'closed';
  /** `required`: an account registered with an address stays inactive until the address is confirmed. */
  readonly emailConfirmation: 'off' | 'required';
}

/** Tokens at once, or (confirmation required) a message to check the mail: the same whoever holds the address. */
export type RegisteredWithTokens = IssuedTokens & { readonly kind: 'tokens'; readonly userId: number };
export type RegisterUserOutput = RegisteredWithTokens | { readonly kind: 'confirm'; readonly message: string };
export type RegisterUserError = CreateUserError | TooManyRequests | RegistrationClosed;

export const CONFIRMATION_MESSAGE =
  'Check your e-mail: we sent a link to confirm your address. Your account works once it is confirmed.';

/**
 * Public sign-up, limited per client address: a user with only the `user` role. Without an address, or with
 * confirmation off, the user is active and logged in at once (a given address gets a confirmation mail). With
 * confirmation required, an account with an address waits for its confirmation, and the answer is the same message
 * whether or not the address is taken: the owner of a taken address gets a notice mail instead.
 */
export class RegisterUser {
  constructor(
    private readonly createUser: CreateUser,
    private readonly sessions: SessionStarter,
    private readonly limits: RateLimits,
    private readonly logger: Logger,
    private readonly hasher: PasswordHasher,
    private readonly accounts: AccountStore,
    private readonly mails: AccountMails,
    private readonly tokens: OpaqueTokens,
    private readonly clock: Clock,
    private readonly settings: RegistrationSettings,
    private readonly events: AuthEvents,
  ) {}

  /** Without an address, the answer is always tokens. */
  execute(
    input: RegisterUserInput & { readonly email?: undefined },
  ): Promise<Result<RegisteredWithTokens, RegisterUserError>>;
  execute(input: RegisterUserInput): Promise<Result<RegisterUserOutput, RegisterUserError>>;
  async execute(input: RegisterUserInput): Promise<Result<RegisterUserOutput, RegisterUserError>> {
    const log = input.context === undefined ? this.logger : this.logger.child(input.context);
    if (this.settings.registration === 'closed') return fail({ code: 'RegistrationClosed' });
    // At capacity, the request is shed (503) before it costs a database round trip or a registration.
    this.hasher.ensureCapacity();
    const limited = await overClientLimit(this.limits, log, 'registration', input.client);
    if (limited) return fail(limited);
    const origin = { client: input.client, userAgent: input.userAgent };
    if (input.email === undefined) {
      const created = await this.createUser.execute({
        username: input.username,
        password: input.password,
        ...(input.context === undefined ? {} : { context: input.context }),
      });
      if (!created.ok) return created;
      const issued = await this.sessions.start(created.value, origin);
      this.events.record('registration');
      return ok({ kind: 'tokens', ...issued, userId: created.value.id });
    }

    const prepared = await this.createUser.prepare({ ...input, email: input.email });
    if (!prepared.ok) return prepared;
    const email = input.email;
    const required = this.settings.emailConfirmation === 'required';
    const token = this.tokens.generate();
    const now = this.clock.now();
    const created = await this.accounts.createWithConfirmation(
      { ...prepared.value, email, isActive: !required },
      {
        hash: this.tokens.digest(token),
        createdAt: now,
        expiresAt: now + this.mails.settings.confirmationSeconds * 1000,
      },
      required,
      (user) => this.mails.confirmation(email, user.username, token),
    );
    if (!created.ok) {
      if (created.error === 'EmailTaken' && required) {
        await this.noticeToOwner(email, input.client);
        return ok({ kind: 'confirm', message: CONFIRMATION_MESSAGE });
      }
      return fail({ code: created.error });
    }
    this.createUser.created(created.value, input);
    this.events.record('registration');
    log.info('confirmation mail queued', {
      event: 'mail_queued',
      kind: 'confirmation',
      user_id: created.value.id,
    });
    if (required) return ok({ kind: 'confirm', message: CONFIRMATION_MESSAGE });
    return ok({ kind: 'tokens', ...(await this.sessions.start(created.value, origin)), userId: created.value.id });
  }

  /** Tells the owner of a taken address, within the mail limits (over them, silently nothing: the answer is the same). */
  private async noticeToOwner(email: string, client: string): Promise<void> {
    if (await overMailLimits(this.limits, this.logger, client, email)) return;
    await this.accounts.enqueue(this.mails.addressTaken(email));
    this.logger.info('address-taken notice queued', { event: 'mail_queued', kind: 'address-taken' });
  }
}
