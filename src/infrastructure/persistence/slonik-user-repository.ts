import { type CommonQueryMethods, type DatabasePool, UniqueIntegrityConstraintViolationError, sql } from 'slonik';
import { z } from 'zod';
import type { UserChanges, UserRepository } from '../../application/ports/user-repository.js';
import { type Result, fail, ok } from '../../domain/result.js';
import type { NewUser, User, UserId } from '../../domain/user.js';
import { usernameKey } from '../../domain/username.js';
import { emailKey } from '../../domain/email.js';
import { formatRoleList } from '../praetorian-roles.js';
import { usernameSkeleton } from '../security/username-skeleton.js';
import { USER_COLUMNS, toUser, userRow } from './user-mapper.js';

/** The seed's exact-match constraint, and the unique indexes on the name's key and on its confusable skeleton. */
const USERNAME_CONSTRAINTS = new Set(['users_username_key', 'users_name_key_unique', 'users_name_skeleton_unique']);

const EMAIL_CONSTRAINT = 'users_email_key_unique';

/** `serial` ids are PostgreSQL integers; anything else names no row (and would fail the query). */
const isRowId = (id: number) => Number.isSafeInteger(id) && id >= 1 && id <= 2_147_483_647;

/**
 * Inserts a user, on a pool or in a transaction.
 * @returns the stored user, or which unique rule the row broke (username or address).
 */
export async function insertUser(
  connection: CommonQueryMethods,
  user: NewUser,
): Promise<Result<User, 'UserExists' | 'EmailTaken'>> {
  const key = usernameKey(user.username);
  const email = user.email ?? null;
  try {
    const row = await connection.one(sql.type(userRow)`
      INSERT INTO users (username, username_key, username_skeleton, password, roles, is_active, email, email_key,
        email_verified_at)
      VALUES (${user.username}, ${key}, ${usernameSkeleton(key)}, ${user.passwordHash},
        ${formatRoleList(user.roles)}, ${user.isActive}, ${email}, ${email === null ? null : emailKey(email)},
        ${user.emailVerified === true ? sql.fragment`now()` : null})
      RETURNING ${USER_COLUMNS}`);
    return ok(toUser(row));
  } catch (error) {
    if (error instanceof UniqueIntegrityConstraintViolationError) {
      if (USERNAME_CONSTRAINTS.has(error.constraint ?? '')) return fail('UserExists');
      if (error.constraint === EMAIL_CONSTRAINT) return fail('EmailTaken');
    }
    throw error;
  }
}

/** Users in the seed's `users` table. */
export class SlonikUserRepository implements UserRepository {
  /**
   * @param changed told of each user this process changed, once committed (`u:<id>`), as the triggers tell every
   *   listening instance moments later; so that this instance sees the change at once.
   */
  constructor(
    private readonly pool: DatabasePool,
    private readonly changed: (payload: string) => void = () => undefined,
  ) {}

  async findByUsername(username: string): Promise<User | null> {
    // PostgreSQL text cannot hold NUL, so no stored username has one (and the query would fail).
    if (username.includes('\u0000')) return null;
    const row = await this.pool.maybeOne(sql.type(userRow)`
      SELECT ${USER_COLUMNS} FROM users WHERE username_key = ${usernameKey(username)}`);
    return row && toUser(row);
  }

  async findById(id: UserId): Promise<User | null> {
    if (!isRowId(id)) return null;
    const row = await this.pool.maybeOne(sql.type(userRow)`SELECT ${USER_COLUMNS} FROM users WHERE id = ${id}`);
    return row && toUser(row);
  }

  async create(user: NewUser): Promise<Result<User, 'UserExists' | 'EmailTaken'>> {
    return insertUser(this.pool, user);
  }

  async updatePasswordHash(id: UserId, passwordHash: string): Promise<void> {
    await this.pool.query(sql.unsafe`UPDATE users SET password = ${passwordHash} WHERE id = ${id}`);
  }

  async update(id: UserId, changes: UserChanges): Promise<User | null> {
    if (!isRowId(id)) return null;
    const roles = changes.roles === undefined ? null : formatRoleList(changes.roles);
    const isActive = changes.isActive ?? null;
    // A deactivation also spends the links that would activate the account, so that a pending confirmation cannot
    // undo an administrator's decision.
    const row = await this.pool.maybeOne(sql.type(userRow)`
      WITH unconfirmable AS (
        UPDATE account_tokens SET spent_at = now()
        WHERE ${isActive === false} AND user_id = ${id} AND purpose = 'confirm' AND activates AND spent_at IS NULL
      )
      UPDATE users SET
        roles = CASE WHEN ${roles === null} THEN roles ELSE ${roles} END,
        is_active = CASE WHEN ${isActive === null} THEN is_active ELSE ${isActive} END
      WHERE id = ${id}
      RETURNING ${USER_COLUMNS}`);
    if (row) this.changed(`u:${id}`);
    return row && toUser(row);
  }

  async list(page: { offset: number; limit: number }): Promise<{ users: User[]; total: number }> {
    const [rows, total] = await Promise.all([
      this.pool.any(sql.type(userRow)`
        SELECT ${USER_COLUMNS} FROM users ORDER BY id LIMIT ${page.limit} OFFSET ${page.offset}`),
      this.pool.oneFirst(sql.type(z.object({ count: z.number() }))`SELECT count(*)::int AS count FROM users`),
    ]);
    return { users: rows.map(toUser), total };
  }
}
