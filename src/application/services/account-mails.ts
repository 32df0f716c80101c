import type { MailKind, OutgoingMail } from '../ports/mail.js';

export interface AccountMailSettings {
  /** The page a confirmation link opens; `token=<t>` is added to its query. */
  readonly confirmationUrl: string;
  /** The page a reset link opens; `token=<t>` is added to its query. */
  readonly resetUrl: string;
  /** How long a confirmation link works, seconds. */
  readonly confirmationSeconds: number;
  /** How long a reset link works, seconds. */
  readonly resetSeconds: number;
}

/** `url` with `token` added to its query string. */
export function linkWithToken(url: string, token: string): string {
  const link = new URL(url);
  link.searchParams.set('token', token);
  return link.toString();
}

const hours = (seconds: number) =>
  seconds % 3600 === 0 ? `${seconds / 3600} hour${seconds === 3600 ? '' : 's'}` : `${Math.round(seconds / 60)} minutes`;

/** The mails accounts send, in plain text. */
export class AccountMails {
  constructor(readonly settings: AccountMailSettings) {}

  confirmation(to: string, username: string, token: string): OutgoingMail {
    return this.mail('confirmation', to, 'Confirm your e-mail address', [
      `Hello ${username},`,
      '',
      'Please confirm your e-mail address by opening this link:',
      '',
      linkWithToken(this.settings.confirmationUrl, token),
      '',
      `The link works once, for ${hours(this.settings.confirmationSeconds)}.`,
      'If you did not register, ignore this mail.',
    ]);
  }

  /** To the owner of an address someone tried to register again (they learn of it; the registrant learns nothing). */
  addressTaken(to: string): OutgoingMail {
    return this.mail('address-taken', to, 'Someone tried to register with your e-mail address', [
      'Hello,',
      '',
      'Someone tried to create an account with this e-mail address, which already has one.',
      'If it was you, log in instead, or ask for a password reset if you have forgotten your password.',
      'If it was not you, you need do nothing: no account was created.',
    ]);
  }

  /** The reset mail; it names no user, so that it can be written before anyone is looked up. */
  reset(token: string): Omit<OutgoingMail, 'to'> {
    const { to: _unused, ...mail } = this.mail('reset', '', 'Reset your password', [
      'Hello,',
      '',
      'Someone asked to reset the password of the account with this e-mail address.',
      'To choose a new password, open this link:',
      '',
      linkWithToken(this.settings.resetUrl, token),
      '',
      `The link works once, for ${hours(this.settings.resetSeconds)}, and only until a newer reset is asked for.`,
      'If you did not ask, ignore this mail: your password stays as it is.',
    ]);
    return mail;
  }

  private mail(kind: MailKind, to: string, subject: string, lines: readonly string[]): OutgoingMail {
    return { kind, to, subject, text: `${lines.join('\n')}\n` };
  }
}
