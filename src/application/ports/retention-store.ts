import { type ServiceToken, serviceToken } from './service-token.js';

/** Records kept only for a while after they end, in the order they are purged (dependents first). */
export const PURGEABLE = [
  'spent refresh tokens',
  'ended sessions',
  'ended account tokens',
  'finished mails',
  'expired blacklist entries',
] as const;
export type Purgeable = (typeof PURGEABLE)[number];

export const RetentionStore: ServiceToken<RetentionStore> = serviceToken('RetentionStore');
/**
 * Where records that have ended are deleted from: refresh tokens once spent, sessions once expired or revoked,
 * confirmation and reset tokens once spent or expired, outbox mails once sent or given up on, and blacklisted
 * token ids once the token they refuse can no longer be used (past its refresh deadline). The
 * store is shared by every instance; {@link RetentionStore.exclusively} makes one of them do the purging at a time.
 */
export interface RetentionStore {
  /**
   * Deletes up to `limit` records of one kind that ended before `endedBefore` (ms since the epoch).
   * @returns how many were deleted; fewer than `limit` means none are left.
   */
  deleteEnded(kind: Purgeable, endedBefore: number, limit: number): Promise<number>;
  /**
   * Runs `work` while holding a lock shared by every instance.
   * @returns `held: false`, without running `work`, when another instance holds it.
   */
  exclusively<T>(
    work: () => Promise<T>,
  ): Promise<{ readonly held: true; readonly value: T } | { readonly held: false }>;
}
