/** Actions limited per client address (login failures have their own, finer rule). */
export type LimitedAction = 'registration' | 'refresh';

export const RateLimits = Symbol.for('RateLimits');
/**
 * Brute-force limits, shared by every instance of the service. Keys are derived from the username as compared
 * (NFKC, lower-cased) and the client address, so an attacker on one address does not lock the owner out of another.
 */
export interface RateLimits {
  /** @returns seconds until `client` may try to log in as `username` again: 0 when it may now. */
  loginBlockedFor(username: string, client: string): Promise<number>;
  /** Counts a failed login against this username + client and against the client. */
  loginFailed(username: string, client: string): Promise<void>;
  /** A successful login clears the username + client count of consecutive failures. */
  loginSucceeded(username: string, client: string): Promise<void>;
  /** Counts one `action` from `client`. @returns seconds to wait when over the limit, else 0. */
  hit(action: LimitedAction, client: string): Promise<number>;
}
