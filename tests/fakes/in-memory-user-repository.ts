import type { UserChanges, UserRepository } from '../../src/application/ports/user-repository.js';
import { type Result, fail, ok } from '../../src/domain/result.js';
import type { NewUser, User, UserId } from '../../src/domain/user.js';
import { usernameKey } from '../../src/domain/username.js';
import { emailKey } from '../../src/domain/email.js';
import { usernameSkeleton } from '../../src/infrastructure/security/username-skeleton.js';

/**
 * Users in a Map. Async like the real store, and returns copies, so a use case that forgets to await or mutates what
 * it got is caught here too.
 */
export class InMemoryUserRepository implements UserRepository {
  private readonly users = new Map<UserId, User>();
  private nextId = 1;

  async findByUsername(username: string): Promise<User | null> {
    const key = usernameKey(username);
    const user = [...this.users.values()].find((candidate) => usernameKey(candidate.username) === key);
    return user ? { ...user } : null;
  }

  async findById(id: UserId): Promise<User | null> {
    const user = this.users.get(id);
    return user ? { ...user } : null;
  }

  async create(user: NewUser): Promise<Result<User, 'UserExists' | 'EmailTaken'>> {
    if (await this.findByUsername(user.username)) return fail('UserExists');
    const skeleton = usernameSkeleton(usernameKey(user.username));
    const looksAlike = [...this.users.values()].some(
      (other) => usernameSkeleton(usernameKey(other.username)) === skeleton,
    );
    if (looksAlike) return fail('UserExists');
    const email = user.email;
    if (
      email != null &&
      [...this.users.values()].some((other) => other.email !== null && emailKey(other.email) === emailKey(email))
    ) {
      return fail('EmailTaken');
    }
    const stored: User = {
      ...user,
      roles: [...user.roles],
      email: user.email ?? null,
      emailVerified: user.emailVerified ?? false,
      id: this.nextId++,
    };
    this.users.set(stored.id, stored);
    return ok({ ...stored });
  }

  async updatePasswordHash(id: UserId, passwordHash: string): Promise<void> {
    const user = this.users.get(id);
    if (user) this.users.set(id, { ...user, passwordHash });
  }

  /** Replaces the hash only while it is still `from` (what a login's upgrade does, in the session store's start). */
  replacePasswordHash(id: UserId, from: string, to: string): void {
    const user = this.users.get(id);
    if (user && user.passwordHash === from) this.users.set(id, { ...user, passwordHash: to });
  }

  async update(id: UserId, changes: UserChanges): Promise<User | null> {
    const user = this.users.get(id);
    if (!user) return null;
    const updated: User = {
      ...user,
      roles: changes.roles === undefined ? user.roles : [...changes.roles],
      isActive: changes.isActive ?? user.isActive,
    };
    this.users.set(id, updated);
    return { ...updated };
  }

  async list(page: { offset: number; limit: number }): Promise<{ users: User[]; total: number }> {
    const all = [...this.users.values()].sort((a, b) => a.id - b.id);
    return { users: all.slice(page.offset, page.offset + page.limit).map((user) => ({ ...user })), total: all.length };
  }

  /** Deletes a user (the account store's deletion). @returns false when there was none. */
  async delete(id: UserId): Promise<boolean> {
    return this.users.delete(id);
  }

  /** Test helper: change a stored user as an administrator or another tool would. */
  async replace(id: UserId, changes: Partial<Omit<User, 'id'>>): Promise<void> {
    const user = this.users.get(id);
    if (!user) throw new Error(`no user ${id}`);
    this.users.set(id, { ...user, ...changes });
  }
}
