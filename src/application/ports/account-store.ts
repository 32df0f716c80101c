import type { Result } from '../../domain/result.js';
import type { NewUser, User, UserId } from '../../domain/user.js';
import type { OutgoingMail } from './mail.js';
import { type ServiceToken, serviceToken } from './service-token.js';

export type AccountTokenPurpose = 'confirm' | 'reset';

/** A confirmation or reset token to store: only its digest, with its end. */
export interface NewAccountToken {
  /** SHA-256 (hex) of the token. */
  readonly hash: string;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  readonly expiresAt: number;
}

export const AccountStore: ServiceToken<AccountStore> = serviceToken('AccountStore');
/**
 * The account changes that send mail, each one transaction with the mail it causes (written to the outbox), so that a
 * change never happens without its mail, nor a mail without its change.
 */
export interface AccountStore {
  /**
   * Creates a user with an address and a confirmation token for it, and queues `mail` (made for the stored user).
   * @param activates the account is inactive until the token is spent.
   * @returns the user, or which of username and address is taken.
   */
  createWithConfirmation(
    user: NewUser & { readonly email: string },
    token: NewAccountToken,
    activates: boolean,
    mail: (user: User) => OutgoingMail,
  ): Promise<Result<User, 'UserExists' | 'EmailTaken'>>;
  /** Queues a mail that goes with no other change (the notice to the owner of a taken address). */
  enqueue(mail: OutgoingMail): Promise<void>;
  /**
   * For the active user whose address has this key, if there is one: spends their older reset tokens, stores `token`
   * and queues `mail` to their address as stored. In one statement whose cost does not depend on whether there is
   * such a user, so that its time tells nothing.
   */
  issueResetByEmail(emailKey: string, token: NewAccountToken, mail: Omit<OutgoingMail, 'to'>): Promise<void>;
  /** The same for one user (an administrator's request). @returns false when the user is gone or has no address. */
  issueResetFor(userId: UserId, token: NewAccountToken, mail: Omit<OutgoingMail, 'to'>): Promise<boolean>;
  /**
   * Spends a live confirmation token: the address it was sent to is verified, and the account activated when the token
   * says so. @returns the user as now stored, or null when the token is unknown, spent or expired at `now`.
   */
  confirm(tokenHash: string, now: number): Promise<User | null>;
  /** @returns the user a live token of `purpose` belongs to, without spending it; null when none. */
  peek(tokenHash: string, purpose: AccountTokenPurpose, now: number): Promise<UserId | null>;
  /**
   * Spends a live reset token: sets the password hash, verifies the address the mail went to, and revokes every
   * session of the user. @returns the user, or null when the token is unknown, spent or expired at `now`.
   */
  resetPassword(tokenHash: string, passwordHash: string, now: number): Promise<User | null>;
  /**
   * Sets a new password hash and revokes every session of the user but `keptSession`, in one transaction.
   * @returns false when the user is gone.
   */
  changePassword(userId: UserId, passwordHash: string, keptSession: string, now: number): Promise<boolean>;
  /** Deletes a user with their sessions and tokens. @returns false when there was none. */
  deleteUser(userId: UserId): Promise<boolean>;
}
