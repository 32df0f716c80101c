import { type Result, fail, ok } from './result.js';
import { type InvalidInput, invalidInput } from './errors.js';

/** RFC 5321's limit on a forward path, less the angle brackets. */
export const EMAIL_MAX_LENGTH = 254;

/**
 * A "valid e-mail address" as the HTML standard defines it for `<input type=email>` (WHATWG HTML, §4.10.5.1.5): the
 * rule browsers apply, so the seed's client and this service agree on what an address is. It is ASCII only; an
 * internationalised domain is given in its punycode form.
 */
const HTML_EMAIL =
  /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

/**
 * Checks an e-mail address: at most {@link EMAIL_MAX_LENGTH} characters once trimmed, and a valid address by the HTML
 * standard's rule. @returns the address as given (it is stored so); {@link emailKey} is what must be unique.
 */
export function validateEmail(input: string): Result<string, InvalidInput> {
  const trimmed = input.trim();
  if (trimmed.length === 0 || trimmed.length > EMAIL_MAX_LENGTH) {
    return fail(invalidInput('email', `email must be 1 to ${EMAIL_MAX_LENGTH} characters`));
  }
  if (!HTML_EMAIL.test(trimmed)) {
    return fail(invalidInput('email', 'email must be an address such as name@example.com'));
  }
  return ok(input);
}

/** The form two addresses are compared in: trimmed and case-folded (the whole address, as most providers treat it). */
export function emailKey(email: string): string {
  return email.trim().toLowerCase();
}
