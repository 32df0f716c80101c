import {
  type AccessSnapshot,
  type AccessState,
  type UserAccess,
  sessionAccessOf,
  userAccessOf,
} from '../ports/access-state.js';
import type { SessionRepository } from '../ports/session-repository.js';
import type { UserRepository } from '../ports/user-repository.js';
import type { UserId } from '../../domain/user.js';

/** The {@link AccessState} read from the repositories on every call: always current, one read of each. */
export class RepositoryAccessState implements AccessState {
  constructor(
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
  ) {}

  async lookup(userId: UserId, sessionId: string): Promise<AccessSnapshot> {
    const [user, session] = await Promise.all([this.users.findById(userId), this.sessions.findById(sessionId)]);
    return { user: user && userAccessOf(user), session: session && sessionAccessOf(session) };
  }

  async lookupUser(userId: UserId): Promise<UserAccess | null> {
    const user = await this.users.findById(userId);
    return user && userAccessOf(user);
  }
}
