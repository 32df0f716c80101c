import type { CommonPasswords } from '../ports/common-passwords.js';
import type { PasswordHasher } from '../ports/password-hasher.js';
import type { UserRepository } from '../ports/user-repository.js';
import type { Logger } from '../ports/logger.js';
import type { AccessTokenIssuer, IssuedAccessToken } from '../services/access-token-issuer.js';
import { type DomainError } from '../../domain/errors.js';
import { type Result, fail, ok } from '../../domain/result.js';
import { DEFAULT_ROLES } from '../../domain/user.js';
import { validateUsername } from '../../domain/username.js';
import { checkNewPassword } from '../../domain/password-policy.js';

export interface RegisterUserInput {
  readonly username: unknown;
  readonly password: unknown;
}

export type RegisterUserOutput = IssuedAccessToken & { readonly userId: number };

/** Creates an active user with the `user` role and logs it in. */
export class RegisterUser {
  constructor(
    private readonly users: UserRepository,
    private readonly hasher: PasswordHasher,
    private readonly commonPasswords: CommonPasswords,
    private readonly tokens: AccessTokenIssuer,
    private readonly logger: Logger,
  ) {}

  async execute(input: RegisterUserInput): Promise<Result<RegisterUserOutput, DomainError>> {
    const username = validateUsername(input.username);
    if (!username.ok) return username;
    const password = checkNewPassword(input.password, (candidate) => this.commonPasswords.contains(candidate));
    if (!password.ok) return password;

    const created = await this.users.create({
      username: username.value,
      passwordHash: await this.hasher.hash(password.value),
      roles: DEFAULT_ROLES,
      isActive: true,
    });
    if (!created.ok) return fail({ code: 'UserExists' });

    this.logger.info('user registered', { event: 'user_registered', user_id: created.value.id });
    return ok({ ...this.tokens.issueForLogin(created.value), userId: created.value.id });
  }
}
