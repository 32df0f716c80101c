import type { Clock } from '../ports/clock.js';
import type { Logger, RequestContext } from '../ports/logger.js';
import type { AuthEvents } from '../ports/auth-events.js';
import type { SessionRepository } from '../ports/session-repository.js';
import type { TokenBlacklist } from '../ports/legacy-tokens.js';
import type { Principal } from './verify-access-token.js';

/**
 * Ends the caller's session: its access tokens and its whole refresh-token family stop working at once. A
 * flask-praetorian token has no session: its `jti` is blacklisted until its refresh deadline, on every instance.
 */
export class Logout {
  constructor(
    private readonly sessions: SessionRepository,
    private readonly blacklist: TokenBlacklist,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly events: AuthEvents,
  ) {}

  /** @param all end every session of the user, not only this one. */
  async execute(input: {
    readonly principal: Principal;
    readonly all?: boolean;
    readonly context?: RequestContext;
  }): Promise<void> {
    const log = input.context === undefined ? this.logger : this.logger.child(input.context);
    const { principal } = input;
    const { sessionId } = principal;
    if (sessionId === null) {
      await this.blacklist.blacklist(principal.tokenId, principal.refreshableUntil * 1000);
      log.info('legacy token blacklisted', {
        event: 'revocation',
        outcome: 'success',
        reason: 'logout',
        user_id: principal.userId,
        legacy_token: true,
      });
      this.events.record('revocation');
    }
    if (input.all === true) {
      const ended = await this.sessions.revokeAllForUser(principal.userId, this.clock.now(), 'logout_all');
      log.info('sessions revoked', {
        event: 'revocation',
        outcome: 'success',
        reason: 'logout_all',
        user_id: principal.userId,
        sessions: ended,
      });
      if (ended > 0) this.events.record('revocation', ended);
      return;
    }
    if (sessionId === null) return;
    await this.sessions.revoke(sessionId, this.clock.now(), 'logout');
    log.info('session revoked', {
      event: 'revocation',
      outcome: 'success',
      reason: 'logout',
      user_id: principal.userId,
      session_id: sessionId,
    });
    this.events.record('revocation');
  }
}
