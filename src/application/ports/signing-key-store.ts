import { type ServiceToken, serviceToken } from './service-token.js';
import type { SigningKeyInfo } from '../../domain/signing-key.js';

export const SigningKeyStore: ServiceToken<SigningKeyStore> = serviceToken('SigningKeyStore');
/** The token-signing keys every instance shares, for rotation (their private halves never leave the adapter). */
export interface SigningKeyStore {
  /** False when keys are not the service's to make (HS256 from JWT_SECRET, or PEM files): `rotate` then throws. */
  readonly rotatable: boolean;
  /** @returns every stored key, newest first. */
  list(): Promise<readonly SigningKeyInfo[]>;
  /**
   * Makes a key of the configured algorithm that signs from `activatesAt`, and sets `retiresAt` on every key that has
   * none yet, in one transaction (every instance hears of it).
   * @returns the new key.
   * @throws when keys are not managed by the service (HS256 from JWT_SECRET, or PEM files).
   */
  rotate(input: { readonly activatesAt: number; readonly retireOthersAt: number }): Promise<SigningKeyInfo>;
}
