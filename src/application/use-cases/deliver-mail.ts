import type { Logger } from '../ports/logger.js';
import type { AuthEvents } from '../ports/auth-events.js';
import type { MailOutbox, MailTransport } from '../ports/mail.js';

export interface DeliverySettings {
  /** Sender address (`MAIL_FROM`). */
  readonly from: string;
  /** Mails claimed per round. */
  readonly batchSize: number;
  /** How long a claimed mail is this instance's: a sender that dies leaves it to be retried after this. */
  readonly leaseMs: number;
  /** Attempts before a mail is given up on. */
  readonly maxAttempts: number;
  /** Wait before the second attempt; doubled for each further one, up to `maxBackoffMs`. */
  readonly firstBackoffMs: number;
  readonly maxBackoffMs: number;
}

/** What one round did. */
export interface DeliveryRound {
  readonly sent: number;
  readonly retrying: number;
  readonly failed: number;
}

/**
 * Delivers what the outbox holds, at least once: a mail is claimed (by one instance), handed to the transport, then
 * marked sent; a failure is retried with exponential backoff, up to `maxAttempts`, then given up on. Logs name the
 * mail's kind and id, never its body (which holds a token).
 */
export class DeliverMail {
  constructor(
    private readonly outbox: MailOutbox,
    private readonly transport: MailTransport,
    private readonly logger: Logger,
    private readonly settings: DeliverySettings,
    private readonly events: AuthEvents,
  ) {}

  /** Delivers the mails due now, one batch. */
  async round(): Promise<DeliveryRound> {
    const due = await this.outbox.claim(this.settings.batchSize, this.settings.leaseMs);
    let sent = 0;
    let retrying = 0;
    let failed = 0;
    for (const mail of due) {
      try {
        const where = await this.transport.send(mail, this.settings.from);
        await this.outbox.sent(mail.id);
        sent += 1;
        this.events.record('mail_sent');
        this.logger.info('mail sent', { event: 'mail_sent', kind: mail.kind, mail_id: mail.id, delivered_to: where });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        const giveUp = mail.attempts >= this.settings.maxAttempts;
        const backoff = Math.min(this.settings.firstBackoffMs * 2 ** (mail.attempts - 1), this.settings.maxBackoffMs);
        await this.outbox.failed(mail.id, reason, giveUp ? null : backoff);
        if (giveUp) failed += 1;
        else retrying += 1;
        this.events.record('mail_failed');
        this.logger.warn(giveUp ? 'mail given up' : 'mail delivery failed; will retry', {
          event: 'mail_failed',
          kind: mail.kind,
          mail_id: mail.id,
          attempts: mail.attempts,
          error: reason,
          retry_in_ms: giveUp ? null : backoff,
        });
      }
    }
    return { sent, retrying, failed };
  }
}
