import type { TokenSigner } from '../ports/token-signer.js';
import type { UserRepository } from '../ports/user-repository.js';
import type { Logger } from '../ports/logger.js';
import type { AccessTokenIssuer, IssuedAccessToken } from '../services/access-token-issuer.js';
import { type DomainError, invalidToken } from '../../domain/errors.js';
import { type Result, fail, ok } from '../../domain/result.js';

export interface RefreshTokenInput {
  /** The previous access token (flask-praetorian's refresh). */
  readonly accessToken: string;
}

/**
 * flask-praetorian's refresh: an expired access token whose `rf_exp` has not passed buys a new one with the same
 * `jti`, `id` and `rf_exp`; the user is looked up again and roles re-read.
 */
export class RefreshToken {
  constructor(
    private readonly signer: TokenSigner,
    private readonly users: UserRepository,
    private readonly tokens: AccessTokenIssuer,
    private readonly logger: Logger,
  ) {}

  async execute(input: RefreshTokenInput): Promise<Result<IssuedAccessToken, DomainError>> {
    const now = this.tokens.nowSeconds();
    const verification = this.signer.verify(input.accessToken, now);
    if (verification.status === 'invalid') return fail(invalidToken(verification.reason));
    const { claims } = verification;
    if (claims.rf_exp <= now) return fail({ code: 'ExpiredRefresh' });
    if (verification.status === 'valid') return fail({ code: 'EarlyRefresh' });

    const user = await this.users.findById(claims.id);
    if (!user || !user.isActive) {
      this.logger.warn('refresh refused: inactive user', { event: 'refresh_inactive_user', user_id: claims.id });
      return fail({ code: 'InactiveUser' });
    }
    return ok(this.tokens.reissue(user, claims));
  }
}
