import type { Clock } from '../ports/clock.js';
import type { IdGenerator } from '../ports/id-generator.js';
import type { AccessClaims, TokenSigner } from '../ports/token-signer.js';
import type { Session } from '../../domain/session.js';
import { type User, formatRoles } from '../../domain/user.js';

export interface IssuedAccessToken {
  readonly accessToken: string;
  readonly claims: AccessClaims;
  /** Seconds until the access token expires. */
  readonly expiresIn: number;
}

/** Signs access tokens with flask-praetorian's claims: never valid past the session's refresh deadline (`rf_exp`). */
export class AccessTokenIssuer {
  constructor(
    private readonly signer: TokenSigner,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    private readonly accessSeconds: number,
  ) {}

  nowSeconds(): number {
    return Math.floor(this.clock.now() / 1000);
  }

  /** A new token (new `jti`) for a session, at login or refresh-token rotation. */
  issue(user: User, session: Session): IssuedAccessToken {
    return this.sign(user, {
      jti: this.ids.tokenId(),
      sid: session.id,
      iat: this.nowSeconds(),
      rfExp: Math.floor(session.expiresAt / 1000),
    });
  }

  /** A praetorian refresh: keeps `jti`, `sid` and `rf_exp`, re-reads roles. */
  reissue(user: User, previous: AccessClaims): IssuedAccessToken {
    return this.sign(user, { jti: previous.jti, sid: previous.sid, iat: this.nowSeconds(), rfExp: previous.rf_exp });
  }

  private sign(user: User, at: { jti: string; sid: string; iat: number; rfExp: number }): IssuedAccessToken {
    const exp = Math.min(at.iat + this.accessSeconds, at.rfExp);
    const claims: AccessClaims = {
      iat: at.iat,
      exp,
      jti: at.jti,
      sid: at.sid,
      id: user.id,
      rls: formatRoles(user.roles),
      rf_exp: at.rfExp,
    };
    return { accessToken: this.signer.sign(claims), claims, expiresIn: Math.max(exp - at.iat, 0) };
  }
}
