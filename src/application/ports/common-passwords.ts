export const CommonPasswords = Symbol.for('CommonPasswords');
export interface CommonPasswords {
  /** @returns true when the (NFKC-normalized) password, ignoring case, is on the list of common passwords. */
  contains(password: string): boolean;
}
