import type { UserRepository } from '../ports/user-repository.js';
import { type DomainError, invalidInput } from '../../domain/errors.js';
import { type Result, fail, ok } from '../../domain/result.js';
import type { User } from '../../domain/user.js';

export const MAX_PAGE_SIZE = 100;

export interface ListUsersOutput {
  readonly users: readonly Omit<User, 'passwordHash'>[];
  readonly page: number;
  readonly perPage: number;
  readonly total: number;
}

/** One page of users, without their password hashes. */
export class ListUsers {
  constructor(private readonly users: UserRepository) {}

  async execute(input: {
    readonly page: number;
    readonly perPage: number;
  }): Promise<Result<ListUsersOutput, DomainError>> {
    if (!Number.isSafeInteger(input.page) || input.page < 1 || input.page > 1_000_000) {
      return fail(invalidInput('page', 'page must be a whole number from 1'));
    }
    if (!Number.isSafeInteger(input.perPage) || input.perPage < 1 || input.perPage > MAX_PAGE_SIZE) {
      return fail(invalidInput('per_page', `per_page must be a whole number from 1 to ${MAX_PAGE_SIZE}`));
    }
    const { users, total } = await this.users.list({ offset: (input.page - 1) * input.perPage, limit: input.perPage });
    return ok({
      users: users.map(({ passwordHash: _hash, ...user }) => user),
      page: input.page,
      perPage: input.perPage,
      total,
    });
  }
}
