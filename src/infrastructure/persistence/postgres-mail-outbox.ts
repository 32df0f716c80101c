import { type DatabasePool, sql } from 'slonik';
import { z } from 'zod';
import type { MailKind, MailOutbox, QueuedMail } from '../../application/ports/mail.js';

const ms = (milliseconds: number) => sql.fragment`make_interval(secs => ${milliseconds / 1000})`;

const queuedRow = z.object({
  id: z.string(),
  kind: z.string(),
  recipient: z.string(),
  subject: z.string(),
  body: z.string(),
  attempts: z.number(),
});

/** The `mail_outbox` table, claimed with FOR UPDATE SKIP LOCKED so that instances never claim the same mail. */
export class PostgresMailOutbox implements MailOutbox {
  constructor(private readonly pool: DatabasePool) {}

  async claim(limit: number, leaseMs: number): Promise<QueuedMail[]> {
    const rows = await this.pool.any(sql.type(queuedRow)`
      UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = now() + ${ms(leaseMs)}
      WHERE id IN (
        SELECT id FROM mail_outbox
        WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now()
        ORDER BY next_attempt_at, id
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED)
      RETURNING id::text AS id, kind, recipient, subject, body, attempts`);
    return rows.map((row) => ({
      id: row.id,
      kind: row.kind as MailKind,
      to: row.recipient,
      subject: row.subject,
      text: row.body,
      attempts: row.attempts,
    }));
  }

  async sent(id: string): Promise<void> {
    await this.pool.query(sql.unsafe`
      UPDATE mail_outbox SET sent_at = now(), body = NULL, last_error = NULL WHERE id = ${id}`);
  }

  async failed(id: string, error: string, retryInMs: number | null): Promise<void> {
    const message = error.slice(0, 500);
    await this.pool.query(
      retryInMs === null
        ? sql.unsafe`UPDATE mail_outbox SET failed_at = now(), body = NULL, last_error = ${message} WHERE id = ${id}`
        : sql.unsafe`UPDATE mail_outbox SET next_attempt_at = now() + ${ms(retryInMs)}, last_error = ${message}
            WHERE id = ${id}`,
    );
  }
}
