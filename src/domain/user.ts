import { type Result, fail, ok } from './result.js';
import { type DomainError, invalidInput } from './errors.js';

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

const ROLE_NAME = /^[A-Za-z0-9_.:-]{1,32}$/;
const MAX_ROLES = 16;

/** Checks a list of role names: strings of letters, digits and `_.:-` (no commas: they are stored comma-joined). */
export function validateRoles(input: unknown): Result<string[], DomainError> {
  if (!Array.isArray(input) || input.length > MAX_ROLES) {
    return fail(invalidInput('roles', `roles must be a list of at most ${MAX_ROLES} role names`));
  }
  const bad = (input as unknown[]).find((role) => typeof role !== 'string' || !ROLE_NAME.test(role));
  if (bad !== undefined) {
    return fail(invalidInput('roles', 'each role must be 1 to 32 letters, digits or _ . : -'));
  }
  return ok([...new Set(input as string[])]);
}

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
