import { LRUCache } from 'lru-cache';
import type { AccessClaims, TokenSigner, TokenVerification } from '../../application/ports/token-signer.js';

/**
 * A {@link TokenSigner} that remembers the tokens it has verified, as an API gateway does (Envoy's jwt_authn
 * `jwt_cache_config`): a client sends the same access token with every request until it expires, and checking its
 * signature and claims again each time is most of what a guarded request costs. Only tokens found valid are kept, so
 * a caller can fill the cache with nothing it could not already present; expiry is judged anew on every call, and
 * revocation is not this cache's business (the access state is checked on every request). Bounded by `maxEntries`.
 */
export class CachingTokenSigner implements TokenSigner {
  private readonly verified: LRUCache<string, AccessClaims>;

  constructor(
    private readonly inner: TokenSigner,
    maxEntries: number,
  ) {
    this.verified = new LRUCache({ max: maxEntries });
  }

  sign(claims: AccessClaims): string {
    return this.inner.sign(claims);
  }

  verify(token: string, nowSeconds: number): TokenVerification {
    const claims = this.verified.get(token);
    if (claims !== undefined) {
      return claims.expiresAt <= nowSeconds ? { status: 'expired', claims } : { status: 'valid', claims };
    }
    const verification = this.inner.verify(token, nowSeconds);
    if (verification.status === 'valid') this.verified.set(token, verification.claims);
    return verification;
  }

  /** Forgets every token, for when the keys that verify them change. */
  clear(): void {
    this.verified.clear();
  }
}
