import { type ServiceToken, serviceToken } from './service-token.js';

/**
 * Actions limited per key: per client address (logins have their own, finer rule), and mails per client address
 * (`mail-client`) and per address mailed (`mail-address`, keyed by the address's `emailKey`).
 */
export type LimitedAction = 'registration' | 'refresh' | 'mail-client' | 'mail-address';

/** A login attempt admitted by the limits, holding its place until it says how it ended. */
export interface LoginAttempt {
  /** The password was right and tokens were issued: the username + address failures are cleared. */
  succeeded(): Promise<void>;
  /** The password was wrong: counted for the username + address and for the address; a lockout may start. */
  failed(): Promise<void>;
  /** Neither (the account is inactive, or the attempt broke off): not counted, and nothing is cleared. */
  abandoned(): Promise<void>;
}

export const RateLimits: ServiceToken<RateLimits> = serviceToken('RateLimits');
/**
 * Brute-force limits, shared by every instance of the service. Keys are derived from the username as compared and
 * the client address, so an attacker on one address does not lock the owner out of another.
 */
export interface RateLimits {
  /**
   * Admits a login attempt. Failures are counted, not attempts. While an attempt runs it holds a place, so that
   * parallel guesses cannot be evaluated past the limit; an attempt that finds every place held by running ones waits
   * for them (it is not refused while no failure says so). A refused attempt counts for nothing.
   * @returns the attempt, or the seconds until the username + address (or the address) may try again.
   */
  beginLogin(username: string, client: string): Promise<LoginAttempt | { readonly retryAfterSeconds: number }>;
  /** Counts one `action` for `key` (a client address, or an e-mail key). @returns seconds to wait when over the limit, else 0. */
  hit(action: LimitedAction, key: string): Promise<number>;
}
