export type UserId = number;

/** A user as stored in the seed's `users` table. */
export interface User {
  readonly id: UserId;
  readonly username: string;
  readonly passwordHash: string;
  readonly roles: readonly string[];
  readonly isActive: boolean;
}

/** The data that makes a new user; the store assigns the id. */
export type NewUser = Omit<User, 'id'>;

export const DEFAULT_ROLES: readonly string[] = ['user'];

/**
 * Roles are stored as flask-praetorian stored them: one comma-joined text column, possibly null or padded.
 */
export function parseRoles(text: string | null | undefined): string[] {
  if (!text) return [];
  return text
    .split(',')
    .map((role) => role.trim())
    .filter((role) => role.length > 0);
}

export function formatRoles(roles: readonly string[]): string {
  return roles.join(',');
}

/**
 * The seed's column is nullable; praetorian's `is_valid` treated a missing flag as active, and so do we.
 */
export function isActiveFlag(value: boolean | null | undefined): boolean {
  return value !== false;
}
