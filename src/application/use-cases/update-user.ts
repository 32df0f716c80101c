import type { AuthEvents } from '../ports/auth-events.js';
import type { Clock } from '../ports/clock.js';
import type { Logger, RequestContext } from '../ports/logger.js';
import type { SessionRepository } from '../ports/session-repository.js';
import type { UserChanges, UserRepository } from '../ports/user-repository.js';
import type { InvalidInput, UserNotFound } from '../../domain/errors.js';
import { type Result, fail, ok } from '../../domain/result.js';
import { type UserId, type UserView, validateRoles, viewOf } from '../../domain/user.js';

/**
 * Who makes an administrative change, for the audit trail: an admin through the API (a user of this service), or an
 * operator running the admin CLI (named by the operating-system account that ran it).
 */
export type Actor =
  | { readonly via: 'api'; readonly userId: UserId; readonly username: string }
  | { readonly via: 'cli'; readonly username: string };

/** The log fields naming the actor of an administrative change. */
export function actorFields(actor: Actor): Record<string, unknown> {
  return { via: actor.via, user_id: actor.via === 'api' ? actor.userId : null, username: actor.username };
}

export interface UpdateUserInput {
  /** The user, by id (admin API) or by username (admin CLI). */
  readonly target: { readonly id: UserId } | { readonly username: string };
  readonly roles?: readonly string[];
  readonly isActive?: boolean;
  readonly actor: Actor;
  /** Who asked (request id, client address, user agent), added to the security events logged. */
  readonly context?: RequestContext;
}

export type UpdateUserError = InvalidInput | UserNotFound;

/**
 * An administrator's change to a user's roles and/or active flag. Deactivation revokes every session of the user at
 * once, so reactivating later does not bring old tokens back. Each change is logged with its actor and its target
 * (the audit trail).
 */
export class UpdateUser {
  constructor(
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly events: AuthEvents,
  ) {}

  async execute(input: UpdateUserInput): Promise<Result<UserView, UpdateUserError>> {
    const log = input.context === undefined ? this.logger : this.logger.child(input.context);
    let roles: string[] | undefined;
    if (input.roles !== undefined) {
      const checked = validateRoles(input.roles);
      if (!checked.ok) return checked;
      roles = checked.value;
    }
    const changes: UserChanges = { roles, isActive: input.isActive };

    const target =
      'id' in input.target ? { id: input.target.id } : await this.users.findByUsername(input.target.username);
    if (!target) return fail({ code: 'UserNotFound' });
    const updated = await this.users.update(target.id, changes);
    if (!updated) return fail({ code: 'UserNotFound' });

    const audit = {
      ...actorFields(input.actor),
      target_user_id: updated.id,
      target_username: updated.username,
      target_roles: updated.roles,
    };
    if (changes.isActive === false) {
      const revoked = await this.sessions.revokeAllForUser(updated.id, this.clock.now(), 'user_deactivated');
      log.warn('user deactivated: sessions revoked', {
        event: 'revocation',
        outcome: 'success',
        reason: 'user_deactivated',
        ...audit,
        sessions: revoked,
      });
      if (revoked > 0) this.events.record('revocation', revoked);
    }
    log.info('user updated', {
      event: 'user_updated',
      outcome: 'success',
      ...audit,
      ...(roles === undefined ? {} : { changed_roles: roles }),
      is_active: updated.isActive,
    });
    return ok(viewOf(updated));
  }
}
