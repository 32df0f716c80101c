import { type ServiceToken, serviceToken } from './service-token.js';
export const CommonPasswords: ServiceToken<CommonPasswords> = serviceToken('CommonPasswords');
export interface CommonPasswords {
  /** @returns true when the (NFKC-normalized) password, ignoring case, is on the list of common passwords. */
  contains(password: string): boolean;
}
