import type { SessionStarter, IssuedTokens } from '../services/session-starter.js';
import type { CreateUser } from './create-user.js';
import type { DomainError } from '../../domain/errors.js';
import { type Result, ok } from '../../domain/result.js';

export interface RegisterUserInput {
  readonly username: unknown;
  readonly password: unknown;
}

export type RegisterUserOutput = IssuedTokens & { readonly userId: number };

/** Public sign-up: an active user with only the `user` role, logged in at once. */
export class RegisterUser {
  constructor(
    private readonly createUser: CreateUser,
    private readonly sessions: SessionStarter,
  ) {}

  async execute(input: RegisterUserInput): Promise<Result<RegisterUserOutput, DomainError>> {
    const created = await this.createUser.execute({ username: input.username, password: input.password });
    if (!created.ok) return created;
    return ok({ ...(await this.sessions.start(created.value)), userId: created.value.id });
  }
}
