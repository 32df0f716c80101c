import type { UserId } from '../../domain/user.js';

/** The claims of an access token: flask-praetorian's, plus `sub`, `typ` (and `iss`, added by the signer). */
export interface AccessClaims {
  /** Issued at, seconds since the epoch. */
  readonly iat: number;
  /** Expires at, seconds since the epoch. */
  readonly exp: number;
  /** Token id; kept across praetorian refreshes. */
  readonly jti: string;
  /** The session (login) this token belongs to; revoking the session revokes the token. */
  readonly sid: string;
  readonly id: UserId;
  /** Comma-joined roles, as praetorian writes them. */
  readonly rls: string;
  /** The last moment, seconds since the epoch, this token may be refreshed (praetorian mode). */
  readonly rf_exp: number;
}

export type TokenVerification =
  | { readonly status: 'valid'; readonly claims: AccessClaims }
  /** Signed by us and well-formed, but past its `exp`. */
  | { readonly status: 'expired'; readonly claims: AccessClaims }
  | { readonly status: 'invalid'; readonly reason: string };

export const TokenSigner = Symbol.for('TokenSigner');
export interface TokenSigner {
  /** @returns a signed compact JWT carrying `claims` plus `sub`, `iss` and `typ: "access"`. */
  sign(claims: AccessClaims): string;
  /**
   * Checks signature, algorithm, issuer, type and claim shapes of a compact JWT. Never throws for bad input.
   * @returns `valid` or `expired` (judged against `nowSeconds`) with the claims, or `invalid` with a reason for logs.
   */
  verify(token: string, nowSeconds: number): TokenVerification;
}
