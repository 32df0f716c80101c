import { type DatabasePool, UniqueIntegrityConstraintViolationError, sql } from 'slonik';
import { z } from 'zod';
import type { ImportOutcome, SeedUser, UserImportTarget } from '../../application/ports/user-import.js';
import { usernameKey } from '../../domain/username.js';
import { emailKey } from '../../domain/email.js';
import { usernameSkeleton } from '../security/username-skeleton.js';

const holder = z.object({ id: z.number(), username: z.string() });

/** The service's own `users` table, as an import's target. */
export class SlonikUserImportTarget implements UserImportTarget {
  constructor(private readonly pool: DatabasePool) {}

  async importUser(user: SeedUser, retried = false): Promise<ImportOutcome> {
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
    const email = user.email === undefined || user.email === null ? null : user.email;
    const emailHolder =
      email === null
        ? null
        : await this.pool.maybeOneFirst(sql.type(z.object({ id: z.number() }))`
            SELECT id FROM users WHERE email_key = ${emailKey(email)}`);
    const kept = emailHolder === null ? user : { ...user, email: null };
    try {
      await this.insert(kept, key, lookalike ? null : skeleton);
    } catch (error) {
      // Another writer took the id, the name or the email between the look and the write: look again, once.
      if (error instanceof UniqueIntegrityConstraintViolationError && !retried) return this.importUser(user, true);
      throw error;
    }
    if (emailHolder !== null) return { kind: 'imported-without-email', otherId: emailHolder };
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
    const address = user.email ?? null;
    // The key is the application's (src/domain/email.ts), as for addresses registered here.
    const email = user.email === undefined ? sql.fragment`` : sql.fragment`, email, email_key`;
    const emailValue =
      user.email === undefined
        ? sql.fragment``
        : sql.fragment`, ${address}, ${address === null ? null : emailKey(address)}`;
    await this.pool.query(sql.unsafe`
      INSERT INTO users (id, username, username_key, username_skeleton, password, roles, is_active${email})
      VALUES (${user.id}, ${user.username}, ${key}, ${skeleton}, ${user.passwordHash}, ${user.roles},
        ${user.isActive}${emailValue})`);
  }
}
