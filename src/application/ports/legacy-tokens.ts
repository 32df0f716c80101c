import { type ServiceToken, serviceToken } from './service-token.js';
import type { UserId } from '../../domain/user.js';

/** What a flask-praetorian access token states: `iat`, `exp`, `jti`, `id`, `rls`, `rf_exp`, and no session. */
export interface LegacyClaims {
  readonly tokenId: string;
  readonly userId: UserId;
  readonly roles: readonly string[];
  /** Seconds since the epoch. */
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly refreshableUntil: number;
}

export type LegacyVerification =
  | { readonly status: 'valid'; readonly claims: LegacyClaims }
  | { readonly status: 'expired'; readonly claims: LegacyClaims }
  | { readonly status: 'invalid'; readonly reason: string };

export const LegacyTokenVerifier: ServiceToken<LegacyTokenVerifier> = serviceToken('LegacyTokenVerifier');
/**
 * Access tokens minted by the Flask service this one replaces (`LEGACY_TOKENS=praetorian`), read so that its users stay
 * logged in across the cutover. Only asked about a token the current signer refused.
 */
export interface LegacyTokenVerifier {
  /** Never throws. @returns `valid` or `expired` (judged against `nowSeconds`) with the claims, or `invalid`. */
  verify(token: string, nowSeconds: number): LegacyVerification;
}

export const TokenBlacklist: ServiceToken<TokenBlacklist> = serviceToken('TokenBlacklist');
/**
 * Token ids (`jti`) refused from now on: what logging out does to a legacy token, which has no session to revoke.
 * Shared by every instance: a token blacklisted on one is refused on all, once the blacklisting is committed.
 */
export interface TokenBlacklist {
  /** @throws when it cannot be read (database unavailable); never answers from memory it cannot trust. */
  isBlacklisted(tokenId: string): Promise<boolean>;
  /** Blacklists `tokenId` until `untilMs` (ms since the epoch; after it the entry may be purged). Idempotent. */
  blacklist(tokenId: string, untilMs: number): Promise<void>;
}
