import { type DatabasePool, UniqueIntegrityConstraintViolationError, sql } from 'slonik';
import { z } from 'zod';
import type { ImportOutcome, SeedUser, UserImportTarget } from '../../application/ports/user-import.js';
import { usernameKey } from '../../domain/username.js';
import { usernameSkeleton } from '../security/username-skeleton.js';

const holder = z.object({ id: z.number(), username: z.string() });

/** The service's own `users` table, as an import's target. */
export class SlonikUserImportTarget implements UserImportTarget {
  constructor(private readonly pool: DatabasePool) {}

  async importUser(user: SeedUser): Promise<ImportOutcome> {
    const key = usernameKey(user.username);
    const skeleton = usernameSkeleton(key);
    // Who holds the id, the name or its key now: nothing is ever overwritten.
    const holders = await this.pool.any(sql.type(holder)`
      SELECT id, username FROM users WHERE id = ${user.id} OR username = ${user.username} OR username_key = ${key}
      ORDER BY id`);
    const sameId = holders.find((row) => row.id === user.id);
    if (sameId) {
      return sameId.username === user.username
        ? { kind: 'present' }
        : { kind: 'id-taken', otherUsername: sameId.username };
    }
    const other = holders[0];
    if (other) return { kind: 'name-taken', otherId: other.id, otherUsername: other.username };
    const lookalike = await this.pool.maybeOne(sql.type(holder)`
      SELECT id, username FROM users WHERE username_skeleton = ${skeleton}`);
    try {
      await this.insert(user, key, lookalike ? null : skeleton);
    } catch (error) {
      // Another writer took the id or the name between the look and the write: look again.
      if (error instanceof UniqueIntegrityConstraintViolationError) return this.importUser(user);
      throw error;
    }
    return lookalike ? { kind: 'imported-lookalike', otherId: lookalike.id } : { kind: 'imported' };
  }

  async afterImport(): Promise<void> {
    await this.pool.query(sql.unsafe`
      SELECT setval(pg_get_serial_sequence('users', 'id'), GREATEST((SELECT max(id) FROM users), 1))`);
  }

  async storesEmail(): Promise<boolean> {
    return await this.pool.exists(sql.unsafe`
      SELECT 1 FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = 'users' AND column_name = 'email'`);
  }

  private async insert(user: SeedUser, key: string, skeleton: string | null): Promise<void> {
    const email = user.email === undefined ? sql.fragment`` : sql.fragment`, email`;
    const emailValue = user.email === undefined ? sql.fragment`` : sql.fragment`, ${user.email}`;
    await this.pool.query(sql.unsafe`
      INSERT INTO users (id, username, username_key, username_skeleton, password, roles, is_active${email})
      VALUES (${user.id}, ${user.username}, ${key}, ${skeleton}, ${user.passwordHash}, ${user.roles},
        ${user.isActive}${emailValue})`);
  }
}
