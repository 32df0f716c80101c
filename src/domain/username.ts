import { type Result, fail, ok } from './result.js';
import { type InvalidInput, invalidInput } from './errors.js';
import { LONE_SURROGATE, LONE_SURROGATE_MESSAGE } from './password-policy.js';

export const USERNAME_MAX_LENGTH = 64;

/** Control, format, separator (other than plain space), surrogate and unassigned code points are not printable. */
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u;

/**
 * Checks a username as given at registration: 1 to 64 printable characters, no leading or trailing white space.
 * The username is stored exactly as given; {@link usernameKey} is what uniqueness compares.
 */
export function validateUsername(input: string): Result<string, InvalidInput> {
  if (LONE_SURROGATE.test(input)) return fail(invalidInput('username', LONE_SURROGATE_MESSAGE('username')));
  const length = [...input].length;
  if (length < 1 || length > USERNAME_MAX_LENGTH) {
    return fail(invalidInput('username', `username must be 1 to ${USERNAME_MAX_LENGTH} characters`));
  }
  if (NON_PRINTABLE.test(input)) {
    return fail(invalidInput('username', 'username must contain only printable characters'));
  }
  if (input.trim() !== input) {
    return fail(invalidInput('username', 'username must not start or end with white space'));
  }
  return ok(input);
}

/**
 * The form two usernames are compared in: Unicode NFKC, then lower-cased, so "Ａｌｉｃｅ", "alice" and "ALICE" are one
 * user. PostgreSQL enforces the same rule with a unique index on `lower(normalize(username, NFKC))`, so users written
 * by other tools straight into the seed's table are held to it too.
 */
export function usernameKey(username: string): string {
  // One code point at a time, as PostgreSQL's lower() maps them: no context rules (a final capital sigma is σ, not ς),
  // and İ is plain i rather than i + combining dot.
  return [...username.normalize('NFKC')].map((char) => (char === '\u0130' ? 'i' : char.toLowerCase())).join('');
}
