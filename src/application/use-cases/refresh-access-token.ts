import type { Logger, RequestContext } from '../ports/logger.js';
import type { RateLimits } from '../ports/rate-limits.js';
import type { AccessState } from '../ports/access-state.js';
import type { IdGenerator } from '../ports/id-generator.js';
import type { SessionRepository } from '../ports/session-repository.js';
import type { LegacyTokens } from './verify-access-token.js';
import type { TokenSigner } from '../ports/token-signer.js';
import type { AccessTokenIssuer, IssuedAccessToken } from '../services/access-token-issuer.js';
import {
  type EarlyRefresh,
  type ExpiredRefresh,
  type InactiveUser,
  type InvalidToken,
  type RevokedToken,
  type TooManyRequests,
  invalidToken,
} from '../../domain/errors.js';
import { type Result, fail, ok } from '../../domain/result.js';
import { overClientLimit } from '../services/client-limit.js';
import { checkAccess } from '../../domain/session.js';

export interface RefreshAccessTokenInput {
  /** The previous, expired access token. */
  readonly accessToken: string;
  /** The client's address, for the refresh limit. */
  readonly client: string;
  /** Who asked (request id, client address, user agent), added to the security events logged. */
  readonly context?: RequestContext;
}

/** What carrying a flask-praetorian token over takes: reading it, and starting the session it moves into. */
export interface LegacyRefresh extends LegacyTokens {
  readonly sessions: SessionRepository;
  readonly ids: IdGenerator;
}

export type RefreshAccessTokenError =
  InvalidToken | ExpiredRefresh | EarlyRefresh | InactiveUser | RevokedToken | TooManyRequests;

/**
 * flask-praetorian's refresh: an expired access token buys a new one in the same session. 425 while it has not
 * expired, 401 after its refresh deadline; the user must still be active and the session live, and the roles are
 * read anew. The new token keeps the token id, the session and the refresh deadline.
 */
export class RefreshAccessToken {
  constructor(
    private readonly signer: TokenSigner,
    private readonly access: AccessState,
    private readonly accessTokens: AccessTokenIssuer,
    private readonly limits: RateLimits,
    private readonly logger: Logger,
    private readonly legacy?: LegacyRefresh,
  ) {}

  async execute(input: RefreshAccessTokenInput): Promise<Result<IssuedAccessToken, RefreshAccessTokenError>> {
    const log = input.context === undefined ? this.logger : this.logger.child(input.context);
    const limited = await overClientLimit(this.limits, log, 'refresh', input.client);
    if (limited) return fail(limited);
    const now = this.accessTokens.nowSeconds();
    const verification = this.signer.verify(input.accessToken, now);
    if (verification.status === 'invalid') {
      const refusal = invalidToken(verification.reason);
      return this.legacy ? this.carryOver(this.legacy, input.accessToken, now, refusal) : fail(refusal);
    }
    const { claims } = verification;
    if (claims.refreshableUntil <= now) return fail({ code: 'ExpiredRefresh' });
    if (verification.status === 'valid') return fail({ code: 'EarlyRefresh' });

    const { user, session } = await this.access.lookup(claims.userId, claims.sessionId);
    const access = checkAccess(user, session, claims.userId);
    if (!access.ok) {
      if (access.error.code === 'InactiveUser') {
        log.warn('refresh refused: inactive user', { event: 'refresh_inactive_user', user_id: claims.userId });
      }
      return access;
    }
    return ok(this.accessTokens.reissue(access.value, claims));
  }

  /**
   * A flask-praetorian token, refreshed as praetorian would (425 before `exp`, 401 after `rf_exp`, the user active, the
   * `jti` not blacklisted), into a jwt-login token of a session of its own: derived from the `jti`, so refreshing the
   * same token again lands in the same session, and a logout of that session ends its refreshes too. The new token
   * keeps `jti`, `id` and `rf_exp`.
   */
  private async carryOver(
    legacy: LegacyRefresh,
    token: string,
    now: number,
    refusal: InvalidToken,
  ): Promise<Result<IssuedAccessToken, RefreshAccessTokenError>> {
    const verification = legacy.verifier.verify(token, now);
    if (verification.status === 'invalid') return fail(refusal);
    const { claims } = verification;
    if (claims.refreshableUntil <= now) return fail({ code: 'ExpiredRefresh' });
    if (verification.status === 'valid') return fail({ code: 'EarlyRefresh' });
    const [user, blacklisted] = await Promise.all([
      this.access.lookupUser(claims.userId),
      legacy.blacklist.isBlacklisted(claims.tokenId),
    ]);
    if (!user || !user.isActive) {
      this.logger.warn('refresh refused: inactive user', { event: 'refresh_inactive_user', user_id: claims.userId });
      return fail({ code: 'InactiveUser' });
    }
    if (blacklisted) return fail({ code: 'RevokedToken' });
    const session = await legacy.sessions.adopt({
      id: legacy.ids.sessionIdFor(`praetorian:${claims.tokenId}`),
      userId: user.id,
      createdAt: now * 1000,
      expiresAt: claims.refreshableUntil * 1000,
      revokedAt: null,
    });
    const access = checkAccess(user, session, claims.userId);
    if (!access.ok) return access;
    this.logger.info('legacy token carried over', {
      event: 'legacy_token_refreshed',
      user_id: user.id,
      session_id: session.id,
    });
    return ok(
      this.accessTokens.reissue(user, {
        tokenId: claims.tokenId,
        sessionId: session.id,
        refreshableUntil: claims.refreshableUntil,
      }),
    );
  }
}
