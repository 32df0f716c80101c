import { sql } from 'slonik';
import { z } from 'zod';
import type { User } from '../../domain/user.js';
import { parseRoleList } from '../praetorian-roles.js';

/** A row of the seed's `users` table, as it may be: roles comma-joined or null, `is_active` null. */
export const userRow = z.object({
  id: z.number(),
  username: z.string(),
  password: z.string(),
  roles: z.string().nullable(),
  is_active: z.boolean().nullable(),
  email: z.string().nullable(),
  email_verified: z.boolean(),
});

export type UserRow = z.infer<typeof userRow>;

/** The columns {@link toUser} reads, for `SELECT` and `RETURNING`. */
export const USER_COLUMNS = sql.fragment`id, username, password, roles, is_active, email,
  email_verified_at IS NOT NULL AS email_verified`;

/**
 * The seed's column is nullable; praetorian's `is_valid` treated a missing flag as active, and so do we.
 */
export function isActiveFlag(value: boolean | null | undefined): boolean {
  return value !== false;
}

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    username: row.username,
    passwordHash: row.password,
    roles: parseRoleList(row.roles),
    isActive: isActiveFlag(row.is_active),
    email: row.email,
    emailVerified: row.email_verified,
  };
}
