import { type ServiceToken, serviceToken } from './service-token.js';
import type { UserId } from '../../domain/user.js';

/** What an access token states. The wire format (praetorian's claim names, comma-joined roles) is the signer's. */
export interface AccessClaims {
  /** Token id (`jti`); kept across praetorian refreshes. */
  readonly tokenId: string;
  /** The session (login) this token belongs to; revoking the session revokes the token. */
  readonly sessionId: string;
  readonly userId: UserId;
  /** The roles the user held when the token was issued. */
  readonly roles: readonly string[];
  /** Seconds since the epoch. */
  readonly issuedAt: number;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
  /** The last moment, seconds since the epoch, the token may be refreshed (praetorian mode): the session's end. */
  readonly refreshableUntil: number;
}

export type TokenVerification =
  | { readonly status: 'valid'; readonly claims: AccessClaims }
  /** Signed by us and well-formed, but past its expiry. */
  | { readonly status: 'expired'; readonly claims: AccessClaims }
  | { readonly status: 'invalid'; readonly reason: string };

export const TokenSigner: ServiceToken<TokenSigner> = serviceToken('TokenSigner');
export interface TokenSigner {
  /** @returns a signed compact JWT stating `claims`. */
  sign(claims: AccessClaims): string;
  /**
   * Checks signature, algorithm, issuer, type and claim shapes of a compact JWT. Never throws for bad input.
   * @returns `valid` or `expired` (judged against `nowSeconds`) with the claims, or `invalid` with a reason for logs.
   */
  verify(token: string, nowSeconds: number): TokenVerification;
}
