import { type Result, fail, ok } from './result.js';
import { type InvalidInput, invalidInput } from './errors.js';

export const PASSWORD_MIN_LENGTH = 8;
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
