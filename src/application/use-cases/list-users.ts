import type { UserRepository } from '../ports/user-repository.js';
import { type UserView, viewOf } from '../../domain/user.js';

export const MAX_PAGE_SIZE = 100;

export interface ListUsersInput {
  /** From 1. */
  readonly page: number;
  /** 1 to {@link MAX_PAGE_SIZE}. */
  readonly perPage: number;
}

export interface ListUsersOutput {
  readonly users: readonly UserView[];
  readonly page: number;
  readonly perPage: number;
  readonly total: number;
}

/** One page of users, ordered by id. */
export class ListUsers {
  constructor(private readonly users: UserRepository) {}

  async execute(input: ListUsersInput): Promise<ListUsersOutput> {
    const { users, total } = await this.users.list({ offset: (input.page - 1) * input.perPage, limit: input.perPage });
    return { users: users.map(viewOf), page: input.page, perPage: input.perPage, total };
  }
}
