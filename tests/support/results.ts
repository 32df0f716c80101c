import type { Result } from '../../src/domain/result.js';

/** The value of an ok result; throws with the error otherwise, so a test reads as the happy path. */
export function value<T, E>(result: Result<T, E>): T {
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result.error)}`);
  return result.value;
}

/** The error of a failed result, typed as the use case's own union; throws with the value otherwise. */
export function error<T, E>(result: Result<T, E>): E {
  if (result.ok) throw new Error(`expected an error, got ${JSON.stringify(result.value)}`);
  return result.error;
}
