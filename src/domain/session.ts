import type { InactiveUser, RevokedToken } from './errors.js';
import { type Result, fail, ok } from './result.js';
import type { UserId } from './user.js';

/**
 * One login and everything refreshed from it: the family of refresh tokens and the access tokens issued with them
 * (which carry its id as `sid`). Revoking it ends them all at once.
 */
export interface Session {
  readonly id: string;
  readonly userId: UserId;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  /** The session cannot be refreshed after this moment (login + refresh lifespan), however often it rotated. */
  readonly expiresAt: number;
  readonly revokedAt: number | null;
  /** Where and with what the session was started (shown to its owner); absent where nobody recorded it. */
  readonly clientAddress?: string | null;
  readonly userAgent?: string | null;
}

/** A live session as its owner sees it in the list of their sessions. */
export interface SessionSummary {
  readonly id: string;
  readonly createdAt: number;
  /** When its refresh token was last rotated, or null when never. */
  readonly refreshedAt: number | null;
  readonly clientAddress: string | null;
  readonly userAgent: string | null;
}

export type RevocationReason =
  | 'logout'
  | 'logout_all'
  | 'refresh_token_reused'
  | 'user_deactivated'
  | 'password_changed'
  | 'password_reset'
  | 'ended_by_user';

/** A stored refresh token, as far as the rotation rule needs it. */
export interface RefreshTokenState {
  /** When it was spent (milliseconds since the epoch), or null while it is the session's live token. */
  readonly spentAt: number | null;
  /** The digest of the token that replaced it, once spent. */
  readonly successorHash: string | null;
}

/**
 * What presenting a refresh token does:
 * - `rotate`: it is the live token: spend it and store `successorHash` as the new live token;
 * - `replay`: it was spent less than the grace window ago for this same successor (a client retrying after a lost
 *   answer): answer with that successor again, change nothing;
 * - `reuse`: it was spent before, outside the window: a stolen token is being replayed, so the whole session (every
 *   refresh token descended from that login, and the access tokens issued from them) is revoked;
 * - `revoked` / `expired`: the session is over; nothing changes.
 */
export type RotationDecision = 'rotate' | 'replay' | 'reuse' | 'revoked' | 'expired';

export interface RotationAttempt {
  /** Milliseconds since the epoch. */
  readonly now: number;
  /** How long a spent token may be replayed for the same successor; 0 allows no replay. */
  readonly graceMs: number;
  /** The digest of the successor the presented token derives. */
  readonly successorHash: string;
}

/**
 * The refresh-token rotation rule. Pure: a repository calls it while it holds the token's lock, then applies the
 * decision in the same transaction.
 */
export function decideRotation(session: Session, token: RefreshTokenState, attempt: RotationAttempt): RotationDecision {
  if (session.revokedAt !== null) return 'revoked';
  if (session.expiresAt <= attempt.now) return 'expired';
  if (token.spentAt === null) return 'rotate';
  const withinGrace = attempt.now - token.spentAt < attempt.graceMs;
  return withinGrace && token.successorHash === attempt.successorHash ? 'replay' : 'reuse';
}

/**
 * Whether a token naming `userId` and a session may still act: the user exists and is active, and the session exists,
 * belongs to that user and is not revoked. The user is judged first, so a deactivated user is told so even though
 * deactivation also revoked the session.
 * @returns the user when access holds, else the refusal.
 */
export function checkAccess<U extends { readonly isActive: boolean }>(
  user: U | null,
  session: Pick<Session, 'userId' | 'revokedAt'> | null,
  userId: UserId,
): Result<U, InactiveUser | RevokedToken> {
  if (!user || !user.isActive) return fail({ code: 'InactiveUser' });
  if (!session || session.revokedAt !== null || session.userId !== userId) return fail({ code: 'RevokedToken' });
  return ok(user);
}
