import { type DatabasePool, type DatabaseTransactionConnection, type FragmentSqlToken, sql } from 'slonik';
import { z } from 'zod';
import type { AccountStore, AccountTokenPurpose, NewAccountToken } from '../../application/ports/account-store.js';
import type { OutgoingMail } from '../../application/ports/mail.js';
import { type Result, ok } from '../../domain/result.js';
import type { NewUser, User, UserId } from '../../domain/user.js';
import { USER_COLUMNS, toUser, userRow } from './user-mapper.js';
import { insertUser } from './slonik-user-repository.js';

const at = (ms: number) => sql.fragment`to_timestamp(${ms / 1000})`;

const isRowId = (id: number) => Number.isSafeInteger(id) && id >= 1 && id <= 2_147_483_647;
const DIGEST = /^[0-9a-f]{64}$/;

async function enqueueIn(connection: DatabaseTransactionConnection | DatabasePool, mail: OutgoingMail): Promise<void> {
  await connection.query(sql.unsafe`
    INSERT INTO mail_outbox (kind, recipient, subject, body)
    VALUES (${mail.kind}, ${mail.to}, ${mail.subject}, ${mail.text})`);
}

/** Account changes and the mails they cause, each in one PostgreSQL transaction (the outbox is a table). */
export class PostgresAccountStore implements AccountStore {
  /**
   * @param changed told of users (`u:<id>`) and sessions (`s:<id>`) changed here once committed, as the triggers are.
   * @param queued told once a mail is committed to the outbox, so that it can be delivered without waiting for a poll.
   */
  constructor(
    private readonly pool: DatabasePool,
    private readonly changed: (payload: string) => void = () => undefined,
    private readonly queued: () => void = () => undefined,
  ) {}

  async createWithConfirmation(
    user: NewUser & { readonly email: string },
    token: NewAccountToken,
    activates: boolean,
    mail: (user: User) => OutgoingMail,
  ): Promise<Result<User, 'UserExists' | 'EmailTaken'>> {
    return this.pool
      .transaction(async (transaction) => {
        const created = await insertUser(transaction, user);
        if (!created.ok) return created;
        await transaction.query(sql.unsafe`
        INSERT INTO account_tokens (token_hash, user_id, purpose, email, activates, created_at, expires_at)
        VALUES (${token.hash}, ${created.value.id}, 'confirm', ${user.email}, ${activates},
          ${at(token.createdAt)}, ${at(token.expiresAt)})`);
        await enqueueIn(transaction, mail(created.value));
        return ok(created.value);
      })
      .then((created) => {
        if (created.ok) this.queued();
        return created;
      });
  }

  async enqueue(mail: OutgoingMail): Promise<void> {
    await enqueueIn(this.pool, mail);
    this.queued();
  }

  async issueResetByEmail(emailKey: string, token: NewAccountToken, mail: Omit<OutgoingMail, 'to'>): Promise<void> {
    // One statement, the same plan whether or not the address is an active user's: only the rows it writes differ.
    await this.issueReset(sql.fragment`email_key = ${emailKey} AND is_active IS NOT FALSE`, token, mail);
  }

  async issueResetFor(userId: UserId, token: NewAccountToken, mail: Omit<OutgoingMail, 'to'>): Promise<boolean> {
    if (!isRowId(userId)) return false;
    return (await this.issueReset(sql.fragment`id = ${userId} AND email IS NOT NULL`, token, mail)) > 0;
  }

  /**
   * For the user `target` selects, if any: spends their older reset tokens, stores `token` and queues `mail` to their
   * stored address. @returns how many mails were queued (0 or 1).
   */
  private async issueReset(target: FragmentSqlToken, token: NewAccountToken, mail: Omit<OutgoingMail, 'to'>) {
    const queued = await this.pool.anyFirst(sql.type(z.object({ id: z.string() }))`
      WITH target AS (
        SELECT id, email FROM users WHERE ${target} FOR UPDATE
      ), dropped AS (
        UPDATE account_tokens SET spent_at = ${at(token.createdAt)}
        WHERE purpose = 'reset' AND spent_at IS NULL AND user_id IN (SELECT id FROM target)
      ), issued AS (
        INSERT INTO account_tokens (token_hash, user_id, purpose, email, created_at, expires_at)
        SELECT ${token.hash}, id, 'reset', email, ${at(token.createdAt)}, ${at(token.expiresAt)} FROM target
        RETURNING email
      )
      INSERT INTO mail_outbox (kind, recipient, subject, body)
      SELECT ${mail.kind}, email, ${mail.subject}, ${mail.text} FROM issued
      RETURNING id::text AS id`);
    if (queued.length > 0) this.queued();
    return queued.length;
  }

  async confirm(tokenHash: string, now: number): Promise<User | null> {
    if (!DIGEST.test(tokenHash)) return null;
    const user = await this.pool.transaction(async (transaction) => {
      const spent = await this.spend(transaction, tokenHash, 'confirm', now);
      if (!spent) return null;
      const row = await transaction.maybeOne(sql.type(userRow)`
        UPDATE users SET
          email_verified_at = CASE WHEN email = ${spent.email} THEN ${at(now)}
            ELSE email_verified_at END,
          is_active = CASE WHEN ${spent.activates} THEN true ELSE is_active END
        WHERE id = ${spent.user_id}
        RETURNING ${USER_COLUMNS}`);
      return row && toUser(row);
    });
    if (user) this.changed(`u:${user.id}`);
    return user;
  }

  async peek(tokenHash: string, purpose: AccountTokenPurpose, now: number): Promise<UserId | null> {
    if (!DIGEST.test(tokenHash)) return null;
    return this.pool.maybeOneFirst(sql.type(z.object({ user_id: z.number() }))`
      SELECT user_id FROM account_tokens
      WHERE token_hash = ${tokenHash} AND purpose = ${purpose} AND spent_at IS NULL AND expires_at > ${at(now)}`);
  }

  async resetPassword(tokenHash: string, passwordHash: string, now: number): Promise<User | null> {
    if (!DIGEST.test(tokenHash)) return null;
    const outcome = await this.pool.transaction(async (transaction) => {
      const spent = await this.spend(transaction, tokenHash, 'reset', now);
      if (!spent) return null;
      const row = await transaction.maybeOne(sql.type(userRow)`
        UPDATE users SET password = ${passwordHash},
          email_verified_at = CASE WHEN email = ${spent.email} THEN ${at(now)}
            ELSE email_verified_at END
        WHERE id = ${spent.user_id}
        RETURNING ${USER_COLUMNS}`);
      if (!row) return null;
      const revoked = await transaction.anyFirst(sql.type(z.object({ id: z.string() }))`
        UPDATE sessions SET revoked_at = ${at(now)}, revoked_reason = 'password_reset'
        WHERE user_id = ${spent.user_id} AND revoked_at IS NULL
        RETURNING id::text AS id`);
      return { user: toUser(row), revoked };
    });
    if (!outcome) return null;
    for (const id of outcome.revoked) this.changed(`s:${id}`);
    return outcome.user;
  }

  async changePassword(userId: UserId, passwordHash: string, keptSession: string, now: number): Promise<boolean> {
    if (!isRowId(userId)) return false;
    const revoked = await this.pool.transaction(async (transaction) => {
      const updated = await transaction.query(
        sql.unsafe`UPDATE users SET password = ${passwordHash} WHERE id = ${userId}`,
      );
      if (updated.rowCount === 0) return null;
      return transaction.anyFirst(sql.type(z.object({ id: z.string() }))`
        UPDATE sessions SET revoked_at = ${at(now)}, revoked_reason = 'password_changed'
        WHERE user_id = ${userId} AND revoked_at IS NULL AND id::text <> ${keptSession}
        RETURNING id::text AS id`);
    });
    if (revoked === null) return false;
    for (const id of revoked) this.changed(`s:${id}`);
    return true;
  }

  async deleteUser(userId: UserId): Promise<boolean> {
    if (!isRowId(userId)) return false;
    const deleted = await this.pool.anyFirst(sql.type(z.object({ id: z.number() }))`
      DELETE FROM users WHERE id = ${userId} RETURNING id`);
    if (deleted.length > 0) this.changed(`u:${userId}`);
    return deleted.length > 0;
  }

  /** Spends a live token of `purpose` (row lock: of two concurrent spends, one wins). */
  private async spend(
    transaction: DatabaseTransactionConnection,
    tokenHash: string,
    purpose: AccountTokenPurpose,
    now: number,
  ) {
    return transaction.maybeOne(sql.type(z.object({ user_id: z.number(), email: z.string(), activates: z.boolean() }))`
      UPDATE account_tokens SET spent_at = ${at(now)}
      WHERE token_hash = ${tokenHash} AND purpose = ${purpose} AND spent_at IS NULL AND expires_at > ${at(now)}
      RETURNING user_id, email, activates`);
  }
}
