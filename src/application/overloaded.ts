/**
 * Thrown when the service is at capacity and sheds a request rather than queue it without bound (the password-hashing
 * queue is full, or a request waited in it past its limit). Not a business outcome: the HTTP layer answers it 503
 * `ServiceUnavailable` with `Retry-After`, as it does a database that cannot serve.
 */
export class Overloaded extends Error {
  override readonly name = 'Overloaded';

  constructor(
    message: string,
    /** When a retry has a fair chance, in whole seconds (at least 1). */
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}
