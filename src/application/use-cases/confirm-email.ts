import type { AccountStore } from '../ports/account-store.js';
import type { Clock } from '../ports/clock.js';
import type { Logger, RequestContext } from '../ports/logger.js';
import type { OpaqueTokens } from '../ports/opaque-tokens.js';
import type { IssuedTokens, SessionOrigin, SessionStarter } from '../services/session-starter.js';
import type { InactiveUser, InvalidAccountToken } from '../../domain/errors.js';
import { type Result, fail, ok } from '../../domain/result.js';

/**
 * Follows a confirmation link: the token is spent, the address verified, the account activated if it waited for this,
 * and the user logged in (the seed's `/api/finalize`).
 */
export class ConfirmEmail {
  constructor(
    private readonly accounts: AccountStore,
    private readonly tokens: OpaqueTokens,
    private readonly sessions: SessionStarter,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  async execute(input: {
    readonly token: string;
    readonly origin: SessionOrigin;
    readonly context?: RequestContext;
  }): Promise<Result<IssuedTokens & { readonly username: string }, InvalidAccountToken | InactiveUser>> {
    const log = input.context === undefined ? this.logger : this.logger.child(input.context);
    const user = await this.accounts.confirm(this.tokens.digest(input.token), this.clock.now());
    if (!user) {
      log.warn('confirmation refused', { event: 'email_confirmation', outcome: 'invalid_token' });
      return fail({ code: 'InvalidAccountToken' });
    }
    log.info('address confirmed', { event: 'email_confirmation', outcome: 'success', user_id: user.id });
    if (!user.isActive) return fail({ code: 'InactiveUser' });
    return ok({ ...(await this.sessions.start(user, input.origin)), username: user.username });
  }
}
