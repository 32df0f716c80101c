import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  /** The first http(s) link of the text, as a reader would click it. */
  readonly link: string | undefined;
}

/**
 * A real SMTP server in the test process (smtp-server, from nodemailer's authors), keeping every mail it accepts, parsed
 * by mailparser as a mail client would. It can be stopped and started again on the same port, to play an outage.
 */
export class SmtpSink {
  readonly received: ReceivedMail[] = [];
  private server: SMTPServer | undefined;
  private port = 0;

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData: (stream, _session, callback) => {
        simpleParser(stream)
          .then((mail: ParsedMail) => {
            const text = mail.text ?? '';
            const to = Array.isArray(mail.to) ? mail.to[0]?.text : mail.to?.text;
            this.received.push({
              to: to ?? '',
              subject: mail.subject ?? '',
              text,
              link: /https?:\/\/\S+/.exec(text)?.[0],
            });
            callback();
          })
          .catch((error: Error) => callback(error));
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Waits until a mail to `to` (compared case-insensitively) has arrived beyond the first `after`, and returns it. */
  async mailTo(to: string, after = 0): Promise<ReceivedMail> {
    for (let waited = 0; ; waited += 25) {
      const found = this.received.filter((mail) => mail.to.toLowerCase().includes(to.toLowerCase()))[after];
      if (found) return found;
      if (waited > 20_000) throw new Error(`no mail to ${to} arrived (${this.received.length} received in all)`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  count(to: string): number {
    return this.received.filter((mail) => mail.to.toLowerCase().includes(to.toLowerCase())).length;
  }
}
