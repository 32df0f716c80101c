import type { Clock } from '../ports/clock.js';
import type { IdGenerator } from '../ports/id-generator.js';
import type { AccessClaims, TokenSigner } from '../ports/token-signer.js';
import type { Session } from '../../domain/session.js';
import type { User } from '../../domain/user.js';

export interface IssuedAccessToken {
  readonly accessToken: string;
  readonly claims: AccessClaims;
  /** Seconds until the access token expires. */
  readonly expiresIn: number;
}

/** Signs access tokens, never valid past the session's refresh deadline (praetorian's `rf_exp`). */
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

  /** A new token (new token id) for a session, at login or refresh-token rotation. */
  issue(user: Pick<User, 'id' | 'roles'>, session: Session): IssuedAccessToken {
    return this.sign(user, {
      tokenId: this.ids.tokenId(),
      sessionId: session.id,
      refreshableUntil: Math.floor(session.expiresAt / 1000),
    });
  }

  /** A praetorian refresh: keeps the token id, the session and the refresh deadline; reads the roles anew. */
  reissue(
    user: Pick<User, 'id' | 'roles'>,
    previous: Pick<AccessClaims, 'tokenId' | 'sessionId' | 'refreshableUntil'>,
  ): IssuedAccessToken {
    return this.sign(user, previous);
  }

  private sign(
    user: Pick<User, 'id' | 'roles'>,
    kept: Pick<AccessClaims, 'tokenId' | 'sessionId' | 'refreshableUntil'>,
  ): IssuedAccessToken {
    const issuedAt = this.nowSeconds();
    const expiresAt = Math.min(issuedAt + this.accessSeconds, kept.refreshableUntil);
    const claims: AccessClaims = {
      tokenId: kept.tokenId,
      sessionId: kept.sessionId,
      userId: user.id,
      roles: user.roles,
      issuedAt,
      expiresAt,
      refreshableUntil: kept.refreshableUntil,
    };
    return { accessToken: this.signer.sign(claims), claims, expiresIn: Math.max(expiresAt - issuedAt, 0) };
  }
}
