import { type ServiceToken, serviceToken } from './service-token.js';

/** Why a mail is sent: the kinds the outbox holds and the metrics count. */
export type MailKind = 'confirmation' | 'address-taken' | 'reset';

/** A mail as the outbox stores it: plain text (it may hold a token, so it is dropped once sent). */
export interface OutgoingMail {
  readonly kind: MailKind;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

/** A mail claimed for delivery. */
export interface QueuedMail extends OutgoingMail {
  readonly id: string;
  /** Delivery attempts so far, this one included. */
  readonly attempts: number;
}

export const MailOutbox: ServiceToken<MailOutbox> = serviceToken('MailOutbox');
/**
 * The mails waiting to be delivered, shared by every instance. Mails are written to it by the {@link AccountStore}, in
 * the transaction of the change that causes them; this port is the sender's side.
 */
export interface MailOutbox {
  /**
   * Claims up to `limit` mails due now, each for one instance only: a claimed mail is not due again for `leaseMs`, so
   * a sender that dies mid-delivery has it retried after the lease (at least once). Times are the store's own clock,
   * shared by every instance.
   */
  claim(limit: number, leaseMs: number): Promise<QueuedMail[]>;
  /** Records a delivery; the body is dropped. */
  sent(id: string): Promise<void>;
  /** Records a failed attempt: due again in `retryInMs`, or given up on (the body dropped) when it is null. */
  failed(id: string, error: string, retryInMs: number | null): Promise<void>;
}

export const MailTransport: ServiceToken<MailTransport> = serviceToken('MailTransport');
/** Hands a mail to the world: an SMTP server, or a file for the developer to open. */
export interface MailTransport {
  /** @returns where the mail went (a file path, or the SMTP server's answer). @throws when it could not be handed on. */
  send(mail: OutgoingMail, from: string): Promise<string>;
}
