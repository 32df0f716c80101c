import { type Result, fail, ok } from './result.js';
import { type InvalidInput, invalidInput } from './errors.js';

export type UserId = number;

/** A user: the seed's `users` row, in the service's own terms. */
export interface User {
  readonly id: UserId;
  readonly username: string;
  readonly passwordHash: string;
  readonly roles: readonly string[];
  readonly isActive: boolean;
  /** The address as given, or null (rows from before addresses, and users registered without one). */
  readonly email: string | null;
  /** The owner has followed a mail sent to `email` (a confirmation or a password reset). */
  readonly emailVerified: boolean;
}

/** The data that makes a new user; the store assigns the id. */
export type NewUser = Omit<User, 'id' | 'email' | 'emailVerified'> & {
  readonly email?: string | null;
  readonly emailVerified?: boolean;
};

/** What may leave the service about a user. */
export interface UserView {
  readonly id: UserId;
  readonly username: string;
  readonly roles: readonly string[];
  readonly isActive: boolean;
  readonly email: string | null;
  readonly emailVerified: boolean;
}

/**
 * The one place a user becomes something shown to a caller: a whitelist of fields, so the password hash (or any field
 * added later) cannot leak by being forgotten in a spread.
 */
export function viewOf(user: User): UserView {
  return {
    id: user.id,
    username: user.username,
    roles: user.roles,
    isActive: user.isActive,
    email: user.email,
    emailVerified: user.emailVerified,
  };
}

export const DEFAULT_ROLES: readonly string[] = ['user'];

const ROLE_NAME = /^[A-Za-z0-9_.:-]{1,32}$/;
export const MAX_ROLES = 16;

/**
 * Checks role names: letters, digits and `_.:-`, at most {@link MAX_ROLES} of them. Commas are refused because roles
 * travel comma-joined (praetorian's `rls` claim and `roles` column).
 * @returns the distinct roles, in order.
 */
export function validateRoles(roles: readonly string[]): Result<string[], InvalidInput> {
  if (roles.length > MAX_ROLES) {
    return fail(invalidInput('roles', `roles must be a list of at most ${MAX_ROLES} role names`));
  }
  if (roles.some((role) => !ROLE_NAME.test(role))) {
    return fail(invalidInput('roles', 'each role must be 1 to 32 letters, digits or _ . : -'));
  }
  return ok([...new Set(roles)]);
}
