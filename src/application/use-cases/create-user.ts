import type { CommonPasswords } from '../ports/common-passwords.js';
import type { PasswordHasher } from '../ports/password-hasher.js';
import type { UserRepository } from '../ports/user-repository.js';
import type { Logger, RequestContext } from '../ports/logger.js';
import type { EmailTaken, InvalidInput, UserExists } from '../../domain/errors.js';
import { validateEmail } from '../../domain/email.js';
import { type Result, fail, ok } from '../../domain/result.js';
import { DEFAULT_ROLES, type NewUser, type User, validateRoles } from '../../domain/user.js';
import { validateUsername } from '../../domain/username.js';
import { checkNewPassword } from '../../domain/password-policy.js';
import { type Actor, actorFields } from './update-user.js';

export interface CreateUserInput {
  readonly username: string;
  readonly password: string;
  /** Defaults to `['user']`. Only trusted callers (the admin CLI) pass roles. */
  readonly roles?: readonly string[];
  /** An e-mail address, checked by src/domain/email.ts. */
  readonly email?: string;
  /** Who creates the user (the admin CLI); none for a sign-up, whose actor is the new user. */
  readonly actor?: Actor;
  /** Who asked (request id, client address, user agent), added to the security events logged. */
  readonly context?: RequestContext;
}

export type CreateUserError = InvalidInput | UserExists | EmailTaken;

/** Creates an active user after the username, password and role rules; the password is stored as a hash. */
export class CreateUser {
  constructor(
    private readonly users: UserRepository,
    private readonly hasher: PasswordHasher,
    private readonly commonPasswords: CommonPasswords,
    private readonly logger: Logger,
  ) {}

  async execute(input: CreateUserInput): Promise<Result<User, CreateUserError>> {
    const prepared = await this.prepare(input);
    if (!prepared.ok) return prepared;
    const created = await this.users.create(prepared.value);
    if (!created.ok) return fail({ code: created.error });
    this.created(created.value, input);
    return ok(created.value);
  }

  /**
   * Checks the username, password, address and roles, in that order, and hashes the password: the user to store, for
   * callers that store it with more (a confirmation token and its mail).
   */
  async prepare(input: CreateUserInput): Promise<Result<NewUser, InvalidInput>> {
    const username = validateUsername(input.username);
    if (!username.ok) return username;
    const password = checkNewPassword(input.password, (candidate) => this.commonPasswords.contains(candidate));
    if (!password.ok) return password;
    const email = input.email === undefined ? ok(null) : validateEmail(input.email);
    if (!email.ok) return email;
    const roles = validateRoles(input.roles ?? DEFAULT_ROLES);
    if (!roles.ok) return roles;
    return ok({
      username: username.value,
      passwordHash: await this.hasher.hash(password.value),
      roles: roles.value,
      isActive: true,
      email: email.value,
      emailVerified: false,
    });
  }

  /** Logs a stored user: with its actor and target when an admin made it (the audit trail), else as the new user. */
  created(user: User, by: Pick<CreateUserInput, 'actor' | 'context'> = {}): void {
    const log = by.context === undefined ? this.logger : this.logger.child(by.context);
    log.info('user created', {
      event: 'user_created',
      outcome: 'success',
      ...(by.actor === undefined
        ? { user_id: user.id, username: user.username, roles: user.roles }
        : {
            ...actorFields(by.actor),
            target_user_id: user.id,
            target_username: user.username,
            target_roles: user.roles,
          }),
    });
  }
}
