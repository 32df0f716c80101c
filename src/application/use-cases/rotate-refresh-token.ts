import type { AccessState } from '../ports/access-state.js';
import type { Clock } from '../ports/clock.js';
import type { Logger, RequestContext } from '../ports/logger.js';
import type { AuthEvents } from '../ports/auth-events.js';
import type { OpaqueTokens } from '../ports/opaque-tokens.js';
import type { RateLimits } from '../ports/rate-limits.js';
import type { SessionRepository } from '../ports/session-repository.js';
import type { AccessTokenIssuer } from '../services/access-token-issuer.js';
import type { IssuedTokens } from '../services/session-starter.js';
import {
  type ExpiredRefresh,
  type InactiveUser,
  type InvalidRefreshToken,
  type RevokedToken,
  type TooManyRequests,
} from '../../domain/errors.js';
import { type Result, fail, ok } from '../../domain/result.js';
import { overClientLimit } from '../services/client-limit.js';
import { checkAccess } from '../../domain/session.js';

export interface RotateRefreshTokenInput {
  readonly refreshToken: string;
  /** The client's address, for the refresh limit. */
  readonly client: string;
  /** Who asked (request id, client address, user agent), added to the security events logged. */
  readonly context?: RequestContext;
}

export type RotateRefreshTokenError =
  InvalidRefreshToken | ExpiredRefresh | InactiveUser | RevokedToken | TooManyRequests;

/**
 * Refresh-token rotation: a live refresh token buys a new access token and a new refresh token, and is spent. The
 * rule (rotate, replay within the grace window, or reuse that revokes the whole session) is `decideRotation` in
 * `domain/session.ts`, applied by the repository in one transaction under the token's lock.
 */
export class RotateRefreshToken {
  constructor(
    private readonly sessions: SessionRepository,
    private readonly access: AccessState,
    private readonly opaqueTokens: OpaqueTokens,
    private readonly accessTokens: AccessTokenIssuer,
    private readonly clock: Clock,
    private readonly limits: RateLimits,
    private readonly logger: Logger,
    private readonly graceSeconds: number,
    private readonly events: AuthEvents,
  ) {}

  async execute(input: RotateRefreshTokenInput): Promise<Result<IssuedTokens, RotateRefreshTokenError>> {
    const log = input.context === undefined ? this.logger : this.logger.child(input.context);
    const limited = await overClientLimit(this.limits, log, 'refresh', input.client);
    if (limited) return fail(limited);
    const successor = this.opaqueTokens.successorOf(input.refreshToken);
    const outcome = await this.sessions.rotate({
      tokenHash: this.opaqueTokens.digest(input.refreshToken),
      successorHash: this.opaqueTokens.digest(successor),
      now: this.clock.now(),
      graceMs: this.graceSeconds * 1000,
    });
    switch (outcome.kind) {
      case 'rotated':
      case 'replayed': {
        const { user } = await this.access.lookup(outcome.session.userId, outcome.session.id);
        const access = checkAccess(user, outcome.session, outcome.session.userId);
        if (!access.ok) return access;
        if (outcome.kind === 'rotated') this.events.record('refresh_rotated');
        return ok({ ...this.accessTokens.issue(access.value, outcome.session), refreshToken: successor });
      }
      case 'reused':
        log.warn('refresh token reused: session revoked', {
          event: 'refresh_token_reused',
          outcome: 'failure',
          user_id: outcome.session.userId,
          session_id: outcome.session.id,
        });
        this.events.record('refresh_reused');
        this.events.record('revocation');
        return fail({ code: 'InvalidRefreshToken' });
      case 'expired':
        return fail({ code: 'ExpiredRefresh' });
      case 'revoked':
      case 'unknown':
        return fail({ code: 'InvalidRefreshToken' });
    }
  }
}
