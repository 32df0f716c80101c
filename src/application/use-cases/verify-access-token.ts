import type { Clock } from '../ports/clock.js';
import type { AccessState } from '../ports/access-state.js';
import type { TokenSigner } from '../ports/token-signer.js';
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
  readonly sessionId: string;
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
  ) {}

  async execute(input: { readonly token: string }): Promise<Result<Principal, VerifyAccessTokenError>> {
    const verification = this.signer.verify(input.token, Math.floor(this.clock.now() / 1000));
    if (verification.status === 'invalid') return fail(invalidToken(verification.reason));
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
    });
  }
}
