import { type ServiceToken, serviceToken } from './service-token.js';

/** RFC 7517 section 5: a JWK Set; each key holds public members only, with `kid`, `alg` and `use`. */
export interface JsonWebKeySet {
  readonly keys: readonly Readonly<Record<string, string>>[];
}

export const PublishedKeys: ServiceToken<PublishedKeys> = serviceToken('PublishedKeys');
export interface PublishedKeys {
  /**
   * @returns the public keys that may verify a live token at `nowSeconds` (and those about to sign): empty when tokens
   *   are signed with a shared secret (HS256), which is never published.
   */
  jwks(nowSeconds: number): JsonWebKeySet;
}
