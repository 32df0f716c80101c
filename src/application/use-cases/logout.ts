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

  async execute(input: { readonly principal: Principal; readonly context?: RequestContext }): Promise<void> {
    const log = input.context === undefined ? this.logger : this.logger.child(input.context);
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
