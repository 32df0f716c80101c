import type { Logger, RequestContext } from '../ports/logger.js';
import type { RateLimits } from '../ports/rate-limits.js';
import type { AccessState } from '../ports/access-state.js';
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
  ) {}

  async execute(input: RefreshAccessTokenInput): Promise<Result<IssuedAccessToken, RefreshAccessTokenError>> {
    const log = input.context === undefined ? this.logger : this.logger.child(input.context);
    const limited = await overClientLimit(this.limits, log, 'refresh', input.client);
    if (limited) return fail(limited);
    const now = this.accessTokens.nowSeconds();
    const verification = this.signer.verify(input.accessToken, now);
    if (verification.status === 'invalid') return fail(invalidToken(verification.reason));
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
}
