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
}

export type RevocationReason = 'logout' | 'refresh_token_reused' | 'user_deactivated';
