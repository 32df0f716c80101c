import type { Clock } from '../ports/clock.js';
import type { IdGenerator } from '../ports/id-generator.js';
import type { AccessClaims, TokenSigner } from '../ports/token-signer.js';
import { type User, formatRoles } from '../../domain/user.js';

export interface TokenLifespans {
  /** Access token lifetime, seconds. */
  readonly accessSeconds: number;
  /** How long after login a session may be refreshed, seconds. */
  readonly refreshSeconds: number;
}

export interface IssuedAccessToken {
  readonly accessToken: string;
  readonly claims: AccessClaims;
  /** Seconds until the access token expires. */
  readonly expiresIn: number;
}

/** Signs access tokens with flask-praetorian's claims and lifetimes. */
export class AccessTokenIssuer {
  constructor(
    private readonly signer: TokenSigner,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    private readonly lifespans: TokenLifespans,
  ) {}

  nowSeconds(): number {
    return Math.floor(this.clock.now() / 1000);
  }

  /** A token for a fresh login: new `jti`, refreshable until now + the refresh lifespan. */
  issueForLogin(user: User): IssuedAccessToken {
    const iat = this.nowSeconds();
    return this.issue(user, { jti: this.ids.tokenId(), iat, rfExp: iat + this.lifespans.refreshSeconds });
  }

  /**
   * A praetorian refresh: keeps `jti` and `rf_exp`, re-reads roles, and never outlives `rf_exp`.
   */
  reissue(user: User, previous: AccessClaims): IssuedAccessToken {
    return this.issue(user, { jti: previous.jti, iat: this.nowSeconds(), rfExp: previous.rf_exp });
  }

  private issue(user: User, at: { jti: string; iat: number; rfExp: number }): IssuedAccessToken {
    const exp = Math.min(at.iat + this.lifespans.accessSeconds, at.rfExp);
    const claims: AccessClaims = {
      iat: at.iat,
      exp,
      jti: at.jti,
      id: user.id,
      rls: formatRoles(user.roles),
      rf_exp: at.rfExp,
    };
    return { accessToken: this.signer.sign(claims), claims, expiresIn: exp - at.iat };
  }
}
