import { type ServiceToken, serviceToken } from './service-token.js';
/** Actions limited per client address (login failures have their own, finer rule). */
export type LimitedAction = 'registration' | 'refresh';

export const RateLimits: ServiceToken<RateLimits> = serviceToken('RateLimits');
/**
 * Brute-force limits, shared by every instance of the service. Keys are derived from the username as compared
 * (NFKC, lower-cased) and the client address, so an attacker on one address does not lock the owner out of another.
 */
export interface RateLimits {
  /**
   * Counts a login attempt as a failure before the password is checked (atomically, so a burst of parallel guesses
   * cannot all slip under the limit); {@link loginSucceeded} takes it back.
   * @returns seconds until `client` may try to log in as `username` again: 0 when this attempt may go ahead.
   */
  loginAttempted(username: string, client: string): Promise<number>;
  /** The attempt had the right password: clears the username + client count and refunds the client's. */
  loginSucceeded(username: string, client: string): Promise<void>;
  /** Counts one `action` from `client`. @returns seconds to wait when over the limit, else 0. */
  hit(action: LimitedAction, client: string): Promise<number>;
}
