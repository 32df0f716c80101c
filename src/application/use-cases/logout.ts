import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { SessionRepository } from '../ports/session-repository.js';
import type { Principal } from './verify-access-token.js';

/** Ends the caller's session: its access tokens and its whole refresh-token family stop working at once. */
export class Logout {
  constructor(
    private readonly sessions: SessionRepository,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** @param all end every session of the user, not only this one. */
  async execute(input: { readonly principal: Principal; readonly all?: boolean }): Promise<void> {
    if (input.all === true) {
      const ended = await this.sessions.revokeAllForUser(input.principal.userId, this.clock.now(), 'logout_all');
      this.logger.info('sessions revoked', {
        event: 'revocation',
        reason: 'logout_all',
        user_id: input.principal.userId,
        sessions: ended,
      });
      return;
    }
    await this.sessions.revoke(input.principal.sessionId, this.clock.now(), 'logout');
    this.logger.info('session revoked', {
      event: 'revocation',
      reason: 'logout',
      user_id: input.principal.userId,
      session_id: input.principal.sessionId,
    });
  }
}
