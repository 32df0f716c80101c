import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { OpaqueTokens } from '../ports/opaque-tokens.js';
import type { SessionRepository } from '../ports/session-repository.js';
import type { TokenSigner } from '../ports/token-signer.js';
import type { UserRepository } from '../ports/user-repository.js';
import type { AccessTokenIssuer, IssuedAccessToken } from '../services/access-token-issuer.js';
import type { IssuedTokens } from '../services/session-starter.js';
import { type DomainError, invalidToken } from '../../domain/errors.js';
import { type Result, fail, ok } from '../../domain/result.js';

export type RefreshTokenInput =
  /** Rotation: an opaque refresh token buys a new pair and is spent. */
  | { readonly refreshToken: string }
  /** flask-praetorian's refresh: the previous, expired access token buys a new one. */
  | { readonly accessToken: string };

export type RefreshTokenOutput = IssuedAccessToken & { readonly refreshToken?: string };

/**
 * Refreshes a session in either mode. Rotation spends the refresh token; replaying a spent one after the grace window
 * revokes the whole session. The praetorian mode keeps `jti`, `id` and `rf_exp`, and refuses before `exp` (425).
 * Both look the user up again: a deactivated user gets nothing.
 */
export class RefreshToken {
  constructor(
    private readonly signer: TokenSigner,
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
    private readonly opaqueTokens: OpaqueTokens,
    private readonly accessTokens: AccessTokenIssuer,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly graceSeconds: number,
  ) {}

  execute(input: RefreshTokenInput): Promise<Result<RefreshTokenOutput, DomainError>> {
    return 'refreshToken' in input ? this.rotate(input.refreshToken) : this.praetorian(input.accessToken);
  }

  private async rotate(token: string): Promise<Result<IssuedTokens, DomainError>> {
    const successor = this.opaqueTokens.successorOf(token);
    const outcome = await this.sessions.rotate({
      tokenHash: this.opaqueTokens.digest(token),
      successorHash: this.opaqueTokens.digest(successor),
      now: this.clock.now(),
      graceMs: this.graceSeconds * 1000,
    });
    switch (outcome.kind) {
      case 'rotated':
      case 'replayed': {
        const user = await this.users.findById(outcome.session.userId);
        if (!user || !user.isActive) return fail({ code: 'InactiveUser' });
        return ok({ ...this.accessTokens.issue(user, outcome.session), refreshToken: successor });
      }
      case 'reused':
        this.logger.warn('refresh token reused: session revoked', {
          event: 'refresh_token_reused',
          user_id: outcome.session.userId,
          session_id: outcome.session.id,
        });
        return fail({ code: 'InvalidRefreshToken' });
      case 'expired':
        return fail({ code: 'ExpiredRefresh' });
      case 'revoked':
      case 'unknown':
        return fail({ code: 'InvalidRefreshToken' });
      default: {
        const unexpected: never = outcome;
        throw new Error(`unexpected rotation outcome ${JSON.stringify(unexpected)}`);
      }
    }
  }

  private async praetorian(accessToken: string): Promise<Result<IssuedAccessToken, DomainError>> {
    const now = this.accessTokens.nowSeconds();
    const verification = this.signer.verify(accessToken, now);
    if (verification.status === 'invalid') return fail(invalidToken(verification.reason));
    const { claims } = verification;
    if (claims.rf_exp <= now) return fail({ code: 'ExpiredRefresh' });
    if (verification.status === 'valid') return fail({ code: 'EarlyRefresh' });

    const [user, session] = await Promise.all([this.users.findById(claims.id), this.sessions.findById(claims.sid)]);
    if (!user || !user.isActive) {
      this.logger.warn('refresh refused: inactive user', { event: 'refresh_inactive_user', user_id: claims.id });
      return fail({ code: 'InactiveUser' });
    }
    if (!session || session.revokedAt !== null || session.userId !== claims.id) return fail({ code: 'RevokedToken' });
    return ok(this.accessTokens.reissue(user, claims));
  }
}
