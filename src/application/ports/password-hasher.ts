import { type ServiceToken, serviceToken } from './service-token.js';
export const PasswordHasher: ServiceToken<PasswordHasher> = serviceToken('PasswordHasher');
export interface PasswordHasher {
  /** @returns a self-describing hash (algorithm, parameters, salt) of the normalized password. */
  hash(password: string): Promise<string>;
  /**
   * @param password the normalized password, what {@link hash} is given.
   * @param asTyped the password as the user typed it, before normalization: what a legacy hash (flask-praetorian's
   *   passlib) was made of. Defaults to `password`.
   * @returns true when the password matches `hash`; false when it does not or when `hash` is not a hash this hasher
   *   reads.
   */
  verify(hash: string, password: string, asTyped?: string): Promise<boolean>;
  /** @returns whether `hash` is in a format this hasher reads; verifying a password against another never matches. */
  recognizes(hash: string): boolean;
  /** @returns true when `hash` was made with other (weaker) parameters than the current ones. */
  needsRehash(hash: string): boolean;
  /**
   * @returns a hash of a random password made with the current parameters, to verify against when a user is unknown,
   *   so that an unknown user costs as long as a wrong password.
   */
  dummyHash(): Promise<string>;
  /**
   * Sheds early: a caller about to hash asks first, before doing other work for a request that would be refused.
   * @throws Overloaded when a hash asked for now would be refused (at capacity); returns when it would be taken.
   */
  ensureCapacity(): void;
}
