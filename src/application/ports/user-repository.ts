import { type ServiceToken, serviceToken } from './service-token.js';
import type { NewUser, User, UserId } from '../../domain/user.js';
import type { Result } from '../../domain/result.js';

export const UserRepository: ServiceToken<UserRepository> = serviceToken('UserRepository');
export interface UserRepository {
  /**
   * Finds the user whose username has the same key as `username` (`usernameKey` of src/domain/username.ts).
   * @returns the user, or null when there is none.
   */
  findByUsername(username: string): Promise<User | null>;
  /** @returns the user with this id, or null when there is none. */
  findById(id: UserId): Promise<User | null>;
  /**
   * Stores a new user.
   * @returns the stored user with its id, or `UserExists` when the username is taken: another user's has the same key,
   *   or the same confusable skeleton (UTS #39: it looks the same); also when another request takes it at that moment;
   *   `EmailTaken` when another user has the same address (compared by `emailKey` of src/domain/email.ts).
   */
  create(user: NewUser): Promise<Result<User, 'UserExists' | 'EmailTaken'>>;
  /** Replaces the password hash of an existing user (rehash at login). Does nothing when the user is gone. */
  updatePasswordHash(id: UserId, passwordHash: string): Promise<void>;
  /**
   * Changes roles and/or the active flag.
   * @returns the user as now stored, or null when there is no such user.
   */
  update(id: UserId, changes: UserChanges): Promise<User | null>;
  /** @returns one page of users ordered by id, and how many users there are in all. */
  list(page: { readonly offset: number; readonly limit: number }): Promise<{ users: User[]; total: number }>;
}

export interface UserChanges {
  readonly roles?: readonly string[];
  readonly isActive?: boolean;
}
