import type { CommonPasswords } from '../ports/common-passwords.js';
import type { PasswordHasher } from '../ports/password-hasher.js';
import type { UserRepository } from '../ports/user-repository.js';
import type { Logger, RequestContext } from '../ports/logger.js';
import type { InvalidInput, UserExists } from '../../domain/errors.js';
import { type Result, fail, ok } from '../../domain/result.js';
import { DEFAULT_ROLES, type User, validateRoles } from '../../domain/user.js';
import { validateUsername } from '../../domain/username.js';
import { checkNewPassword } from '../../domain/password-policy.js';
import { type Actor, actorFields } from './update-user.js';

export interface CreateUserInput {
  readonly username: string;
  readonly password: string;
  /** Defaults to `['user']`. Only trusted callers (the admin CLI) pass roles. */
  readonly roles?: readonly string[];
  /** Who creates the user (the admin CLI); none for a sign-up, whose actor is the new user. */
  readonly actor?: Actor;
  /** Who asked (request id, client address, user agent), added to the security events logged. */
  readonly context?: RequestContext;
}

export type CreateUserError = InvalidInput | UserExists;

/** Creates an active user after the username, password and role rules; the password is stored as a hash. */
export class CreateUser {
  constructor(
    private readonly users: UserRepository,
    private readonly hasher: PasswordHasher,
    private readonly commonPasswords: CommonPasswords,
    private readonly logger: Logger,
  ) {}

  async execute(input: CreateUserInput): Promise<Result<User, CreateUserError>> {
    const log = input.context === undefined ? this.logger : this.logger.child(input.context);
    const username = validateUsername(input.username);
    if (!username.ok) return username;
    const password = checkNewPassword(input.password, (candidate) => this.commonPasswords.contains(candidate));
    if (!password.ok) return password;
    const roles = validateRoles(input.roles ?? DEFAULT_ROLES);
    if (!roles.ok) return roles;

    const created = await this.users.create({
      username: username.value,
      passwordHash: await this.hasher.hash(password.value),
      roles: roles.value,
      isActive: true,
    });
    if (!created.ok) return fail({ code: 'UserExists' });
    const user = created.value;
    log.info('user created', {
      event: 'user_created',
      outcome: 'success',
      ...(input.actor === undefined
        ? { user_id: user.id, username: user.username, roles: user.roles }
        : {
            ...actorFields(input.actor),
            target_user_id: user.id,
            target_username: user.username,
            target_roles: user.roles,
          }),
    });
    return ok(created.value);
  }
}
