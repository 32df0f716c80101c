import type { Clock } from '../ports/clock.js';
import type { AccessState } from '../ports/access-state.js';
import type { TokenSigner } from '../ports/token-signer.js';
import type { LegacyTokenVerifier, TokenBlacklist } from '../ports/legacy-tokens.js';
import {
  type ExpiredAccess,
  type InactiveUser,
  type InvalidToken,
  type RevokedToken,
  invalidToken,
} from '../../domain/errors.js';
import { type Result, fail, ok } from '../../domain/result.js';
import { checkAccess } from '../../domain/session.js';

/** Who a request acts for, once its access token has been checked. */
export interface Principal {
  readonly userId: number;
  readonly username: string;
  /**
   * Roles the token states that the user still holds: a role granted since waits for the next refresh, as in
   * praetorian, but a role taken away stops working at once.
   */
  readonly roles: readonly string[];
  readonly tokenId: string;
  /** The session the token belongs to; null for a flask-praetorian token (`LEGACY_TOKENS`), which names none. */
  readonly sessionId: string | null;
  /** Seconds since the epoch: the token's refresh deadline (`rf_exp`). */
  readonly refreshableUntil: number;
}

/** What reading flask-praetorian's tokens takes (`LEGACY_TOKENS=praetorian`). */
export interface LegacyTokens {
  readonly verifier: LegacyTokenVerifier;
  readonly blacklist: TokenBlacklist;
}

export type VerifyAccessTokenError = InvalidToken | ExpiredAccess | InactiveUser | RevokedToken;

/**
 * Checks an access token for a guarded endpoint: signature and claims, expiry, then the session and the user as they
 * are now ({@link AccessState}), so a revoked session or a deactivated user is refused at once (also when another
 * instance of the service did it) rather than when the token expires.
 */
export class VerifyAccessToken {
  constructor(
    private readonly signer: TokenSigner,
    private readonly access: AccessState,
    private readonly clock: Clock,
    private readonly legacy?: LegacyTokens,
  ) {}

  async execute(input: { readonly token: string }): Promise<Result<Principal, VerifyAccessTokenError>> {
    const now = Math.floor(this.clock.now() / 1000);
    const verification = this.signer.verify(input.token, now);
    if (verification.status === 'invalid') {
      // Only a token the current signer refused is tried as a legacy one: ours never take this branch.
      const refusal = invalidToken(verification.reason);
      return this.legacy ? this.legacyPrincipal(this.legacy, input.token, now, refusal) : fail(refusal);
    }
    if (verification.status === 'expired') return fail({ code: 'ExpiredAccess' });
    const { claims } = verification;

    const { user, session } = await this.access.lookup(claims.userId, claims.sessionId);
    const access = checkAccess(user, session, claims.userId);
    if (!access.ok) return access;
    const held = new Set(access.value.roles);
    return ok({
      userId: access.value.id,
      username: access.value.username,
      roles: claims.roles.filter((role) => held.has(role)),
      tokenId: claims.tokenId,
      sessionId: claims.sessionId,
      refreshableUntil: claims.refreshableUntil,
    });
  }

  /**
   * A flask-praetorian token: valid until its `exp`, for a user who is still there and active, unless its `jti` was
   * blacklisted (logged out). It names no session.
   */
  private async legacyPrincipal(
    legacy: LegacyTokens,
    token: string,
    now: number,
    refusal: InvalidToken,
  ): Promise<Result<Principal, VerifyAccessTokenError>> {
    const verification = legacy.verifier.verify(token, now);
    if (verification.status === 'invalid') return fail(refusal);
    if (verification.status === 'expired') return fail({ code: 'ExpiredAccess' });
    const { claims } = verification;
    const [user, blacklisted] = await Promise.all([
      this.access.lookupUser(claims.userId),
      legacy.blacklist.isBlacklisted(claims.tokenId),
    ]);
    if (!user || !user.isActive) return fail({ code: 'InactiveUser' });
    if (blacklisted) return fail({ code: 'RevokedToken' });
    const held = new Set(user.roles);
    return ok({
      userId: user.id,
      username: user.username,
      roles: claims.roles.filter((role) => held.has(role)),
      tokenId: claims.tokenId,
      sessionId: null,
      refreshableUntil: claims.refreshableUntil,
    });
  }
}
