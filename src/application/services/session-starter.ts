import type { Clock } from '../ports/clock.js';
import type { IdGenerator } from '../ports/id-generator.js';
import type { OpaqueTokens } from '../ports/opaque-tokens.js';
import type { PasswordUpgrade, SessionRepository } from '../ports/session-repository.js';
import type { AccessTokenIssuer, IssuedAccessToken } from './access-token-issuer.js';
import type { User } from '../../domain/user.js';

/** What a login (or registration, or refresh) answers with. */
export type IssuedTokens = IssuedAccessToken & { readonly refreshToken: string };

/** The client a session is started from. */
export interface SessionOrigin {
  readonly client?: string;
  readonly userAgent?: string;
}

/** User agents are kept to show, not to parse: a longer one is cut. */
const MAX_USER_AGENT_LENGTH = 256;

/** Starts a session for a user who just proved who they are: a refresh-token family and its first access token. */
export class SessionStarter {
  constructor(
    private readonly sessions: SessionRepository,
    private readonly opaqueTokens: OpaqueTokens,
    private readonly accessTokens: AccessTokenIssuer,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    private readonly refreshSeconds: number,
  ) {}

  /**
   * @param origin where the session starts from, shown to the user in the list of their sessions.
   * @param passwordUpgrade the user's new password hash, written in the same transaction as the session.
   */
  async start(user: User, origin: SessionOrigin = {}, passwordUpgrade?: PasswordUpgrade): Promise<IssuedTokens> {
    const now = this.clock.now();
    const session = {
      id: this.ids.sessionId(),
      userId: user.id,
      createdAt: now,
      expiresAt: now + this.refreshSeconds * 1000,
      revokedAt: null,
      clientAddress: origin.client ?? null,
      userAgent: origin.userAgent === undefined ? null : origin.userAgent.slice(0, MAX_USER_AGENT_LENGTH),
    };
    const refreshToken = this.opaqueTokens.generate();
    await this.sessions.start(session, this.opaqueTokens.digest(refreshToken), passwordUpgrade);
    return { ...this.accessTokens.issue(user, session), refreshToken };
  }
}
