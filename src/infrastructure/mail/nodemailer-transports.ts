import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type { MailTransport, OutgoingMail } from '../../application/ports/mail.js';

/** How long one SMTP exchange may take before the attempt counts as failed (and is retried later). */
const SMTP_TIMEOUT_MS = 10_000;

/** Delivers over SMTP with nodemailer (`SMTP_URL`, e.g. `smtp://mailpit:1025` or `smtps://user:pass@host:465`). */
export class SmtpMailTransport implements MailTransport {
  private readonly transporter: Transporter;

  constructor(url: string) {
    const address = new URL(url);
    const secure = address.protocol === 'smtps:';
    this.transporter = nodemailer.createTransport({
      host: address.hostname,
      port: address.port === '' ? (secure ? 465 : 587) : Number(address.port),
      secure,
      ...(address.username === ''
        ? {}
        : { auth: { user: decodeURIComponent(address.username), pass: decodeURIComponent(address.password) } }),
      connectionTimeout: SMTP_TIMEOUT_MS,
      greetingTimeout: SMTP_TIMEOUT_MS,
      socketTimeout: SMTP_TIMEOUT_MS,
    });
  }

  async send(mail: OutgoingMail, from: string): Promise<string> {
    const info = (await this.transporter.sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text })) as {
      response?: string;
    };
    return `smtp: ${info.response ?? 'accepted'}`;
  }

  close(): void {
    this.transporter.close();
  }
}

/**
 * Writes each mail as an `.eml` file under a directory (the two-command start, where no SMTP server is configured): the
 * message nodemailer would have sent, built by its stream transport, for the developer to open.
 */
export class FileMailTransport implements MailTransport {
  private readonly composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  private written = 0;

  constructor(private readonly directory: string) {}

  async send(mail: OutgoingMail, from: string): Promise<string> {
    const info = (await this.composer.sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text })) as {
      message: Buffer;
    };
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    this.written += 1;
    const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}-${this.written}-${mail.kind}.eml`;
    const file = path.join(this.directory, name);
    await writeFile(file, info.message, { mode: 0o600 });
    return file;
  }
}
