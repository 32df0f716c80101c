import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { SessionRepository } from '../ports/session-repository.js';
import type { UserChanges, UserRepository } from '../ports/user-repository.js';
import type { InvalidInput, UserNotFound } from '../../domain/errors.js';
import { type Result, fail, ok } from '../../domain/result.js';
import { type UserId, type UserView, validateRoles, viewOf } from '../../domain/user.js';

export interface UpdateUserInput {
  /** The user, by id (admin API) or by username (admin CLI). */
  readonly target: { readonly id: UserId } | { readonly username: string };
  readonly roles?: readonly string[];
  readonly isActive?: boolean;
}

export type UpdateUserError = InvalidInput | UserNotFound;

/**
 * An administrator's change to a user's roles and/or active flag. Deactivation revokes every session of the user at
 * once, so reactivating later does not bring old tokens back.
 */
export class UpdateUser {
  constructor(
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  async execute(input: UpdateUserInput): Promise<Result<UserView, UpdateUserError>> {
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

    if (changes.isActive === false) {
      const revoked = await this.sessions.revokeAllForUser(updated.id, this.clock.now(), 'user_deactivated');
      this.logger.warn('user deactivated: sessions revoked', {
        event: 'revocation',
        reason: 'user_deactivated',
        user_id: updated.id,
        sessions: revoked,
      });
    }
    this.logger.info('user updated', {
      event: 'user_updated',
      user_id: updated.id,
      roles: updated.roles,
      is_active: updated.isActive,
    });
    return ok(viewOf(updated));
  }
}
