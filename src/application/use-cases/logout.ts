import type { Clock } from '../ports/clock.js';
import type { Logger, RequestContext } from '../ports/logger.js';
import type { AuthEvents } from '../ports/auth-events.js';
import type { SessionRepository } from '../ports/session-repository.js';
import type { Principal } from './verify-access-token.js';

/** Ends the caller's session: its access tokens and its whole refresh-token family stop working at once. */
export class Logout {
  constructor(
    private readonly sessions: SessionRepository,
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
    if (input.all === true) {
      const ended = await this.sessions.revokeAllForUser(input.principal.userId, this.clock.now(), 'logout_all');
      log.info('sessions revoked', {
        event: 'revocation',
        outcome: 'success',
        reason: 'logout_all',
        user_id: input.principal.userId,
        sessions: ended,
      });
      if (ended > 0) this.events.record('revocation', ended);
      return;
    }
    await this.sessions.revoke(input.principal.sessionId, this.clock.now(), 'logout');
    log.info('session revoked', {
      event: 'revocation',
      outcome: 'success',
      reason: 'logout',
      user_id: input.principal.userId,
      session_id: input.principal.sessionId,
    });
    this.events.record('revocation');
  }
}
