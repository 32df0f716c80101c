import { type Result, fail, ok } from './result.js';
import { type InvalidInput, invalidInput } from './errors.js';

export const PASSWORD_MIN_LENGTH = 8;

/**
 * A UTF-16 surrogate on its own is no character: encoded for hashing it becomes U+FFFD, so "\ud800" and "\udc00" would
 * be one password. Such input is refused, in passwords and usernames alike.
 */
export const LONE_SURROGATE = /\p{Cs}/u;
export const LONE_SURROGATE_MESSAGE = (field: string) =>
  `${field} must be well-formed Unicode: it holds a lone surrogate (U+D800 to U+DFFF), which is no character`;
export const PASSWORD_MAX_LENGTH = 128;

/**
 * A password is compared and hashed in its NFKC form, so the same password typed on keyboards that compose
 * characters differently (NFC vs NFD) logs in.
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/**
 * The registration rules: 8 to 128 code points after NFKC, never truncated, any characters, not a common password.
 * Returns the normalized password to hash.
 */
export function checkNewPassword(
  input: string,
  isCommonPassword: (normalized: string) => boolean,
): Result<string, InvalidInput> {
  if (LONE_SURROGATE.test(input)) return fail(invalidInput('password', LONE_SURROGATE_MESSAGE('password')));
  const normalized = normalizePassword(input);
  const length = [...normalized].length;
  if (length < PASSWORD_MIN_LENGTH) {
    return fail(invalidInput('password', `password must be at least ${PASSWORD_MIN_LENGTH} characters`));
  }
  if (length > PASSWORD_MAX_LENGTH) {
    return fail(invalidInput('password', `password must be at most ${PASSWORD_MAX_LENGTH} characters`));
  }
  if (isCommonPassword(normalized)) {
    return fail(
      invalidInput('password', 'password is too common; choose one that is not on a list of common passwords'),
    );
  }
  return ok(normalized);
}
