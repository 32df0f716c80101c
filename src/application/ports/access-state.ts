import { type ServiceToken, serviceToken } from './service-token.js';
import type { Session } from '../../domain/session.js';
import type { User, UserId } from '../../domain/user.js';

/** What a guarded request needs to know about a user. */
export type UserAccess = Pick<User, 'id' | 'username' | 'roles' | 'isActive'>;
/** What a guarded request needs to know about a session. */
export type SessionAccess = Pick<Session, 'userId' | 'revokedAt'>;

export const userAccessOf = (user: User): UserAccess => ({
  id: user.id,
  username: user.username,
  roles: user.roles,
  isActive: user.isActive,
});
export const sessionAccessOf = (session: Session): SessionAccess => ({
  userId: session.userId,
  revokedAt: session.revokedAt,
});

export interface AccessSnapshot {
  /** Null when there is no such user (deleted, or never existed). */
  readonly user: UserAccess | null;
  /** Null when there is no such session. */
  readonly session: SessionAccess | null;
}

export const AccessState: ServiceToken<AccessState> = serviceToken('AccessState');
/**
 * The current state of a user and a session, for the check every guarded request makes. An adapter may answer from
 * memory, but only from memory it knows to be current: a revocation or deactivation committed by any instance (or by
 * any tool writing to the database) is reflected once it is committed and announced.
 */
export interface AccessState {
  /** @throws when the state cannot be read (database unavailable); never answers from memory it cannot trust. */
  lookup(userId: UserId, sessionId: string): Promise<AccessSnapshot>;
  /** The user alone, for a token that names no session (a flask-praetorian one). @throws as {@link lookup} does. */
  lookupUser(userId: UserId): Promise<UserAccess | null>;
}
