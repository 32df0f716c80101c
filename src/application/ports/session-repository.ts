import { type ServiceToken, serviceToken } from './service-token.js';
import type { RevocationReason, Session, SessionSummary } from '../../domain/session.js';
import type { UserId } from '../../domain/user.js';

/** What spending a refresh token did. */
export type RotationOutcome =
  /** The token was live: it is now spent and `successorHash` is the session's live token. */
  | { readonly kind: 'rotated'; readonly session: Session }
  /** Spent less than `graceMs` ago (a grace of 0 allows no replay) with the same successor: answer with it again. */
  | { readonly kind: 'replayed'; readonly session: Session }
  /** Spent before the grace window: a stolen token is being replayed, and the whole session is now revoked. */
  | { readonly kind: 'reused'; readonly session: Session }
  | { readonly kind: 'revoked' }
  | { readonly kind: 'expired' }
  | { readonly kind: 'unknown' };

export interface RotationRequest {
  /** SHA-256 (hex) of the presented refresh token. */
  readonly tokenHash: string;
  /** SHA-256 (hex) of the successor token to store if the presented one is live. */
  readonly successorHash: string;
  /** Milliseconds since the epoch. */
  readonly now: number;
  readonly graceMs: number;
}

/** A user's password hash replaced at login (a legacy or weaker hash rehashed with the current parameters). */
export interface PasswordUpgrade {
  /** The hash the login verified. */
  readonly from: string;
  /** Its replacement. */
  readonly to: string;
}

export const SessionRepository: ServiceToken<SessionRepository> = serviceToken('SessionRepository');
/** Sessions and their refresh tokens, of which only SHA-256 hashes are stored. */
export interface SessionRepository {
  /**
   * Stores a new session with its first refresh token and, with `passwordUpgrade`, replaces the user's password hash
   * in the same transaction: a login never starts a session without its upgrade, nor upgrades without its session.
   * The hash is replaced only while it is still `from`, so an upgrade never overwrites a hash changed meanwhile (by a
   * concurrent login's own upgrade, or an administrator).
   */
  start(session: Session, firstTokenHash: string, passwordUpgrade?: PasswordUpgrade): Promise<void>;
  /**
   * Stores `session` unless a session with its id is there already (a refresh token family of its own is not started).
   * @returns the session as stored: `session`, or the one that was there (revoked, perhaps).
   */
  adopt(session: Session): Promise<Session>;
  /**
   * Spends a refresh token atomically: concurrent calls for one token are serialized (row lock in one transaction),
   * so exactly one of them rotates and the others see it spent.
   */
  rotate(request: RotationRequest): Promise<RotationOutcome>;
  /** @returns the session, or null when there is none. */
  findById(id: string): Promise<Session | null>;
  /** Revokes one session (no-op when already revoked or unknown). */
  revoke(id: string, now: number, reason: RevocationReason): Promise<void>;
  /** Revokes every live session of a user, but `except` if given. @returns how many were revoked. */
  revokeAllForUser(userId: UserId, now: number, reason: RevocationReason, except?: string): Promise<number>;
  /** @returns the user's sessions that are neither revoked nor expired at `now`, newest first. */
  listLive(userId: UserId, now: number): Promise<SessionSummary[]>;
}
