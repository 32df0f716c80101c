import type { TokenSigner } from '../ports/token-signer.js';
import type { UserRepository } from '../ports/user-repository.js';
import type { Clock } from '../ports/clock.js';
import { type DomainError, invalidToken } from '../../domain/errors.js';
import { type Result, fail, ok } from '../../domain/result.js';
import { parseRoles } from '../../domain/user.js';

/** Who a request acts for, once its access token has been checked. */
export interface Principal {
  readonly userId: number;
  readonly username: string;
  /** Roles as the token states them (praetorian's `rls`), which is what role checks read. */
  readonly roles: readonly string[];
  readonly jti: string;
}

/**
 * Checks an access token for a guarded endpoint: signature and claims, expiry, and the user as stored now, so a
 * deactivated or deleted user is refused at once rather than when the token expires.
 */
export class VerifyAccessToken {
  constructor(
    private readonly signer: TokenSigner,
    private readonly users: UserRepository,
    private readonly clock: Clock,
  ) {}

  async execute(input: { readonly token: string }): Promise<Result<Principal, DomainError>> {
    const verification = this.signer.verify(input.token, Math.floor(this.clock.now() / 1000));
    if (verification.status === 'invalid') return fail(invalidToken(verification.reason));
    if (verification.status === 'expired') return fail({ code: 'ExpiredAccess' });
    const { claims } = verification;

    const user = await this.users.findById(claims.id);
    if (!user || !user.isActive) return fail({ code: 'InactiveUser' });
    return ok({ userId: user.id, username: user.username, roles: parseRoles(claims.rls), jti: claims.jti });
  }
}
