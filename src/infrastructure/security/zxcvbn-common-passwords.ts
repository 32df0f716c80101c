import { dictionary } from '@zxcvbn-ts/language-common';
import type { CommonPasswords } from '../../application/ports/common-passwords.js';

/** The ~49,000 common passwords that zxcvbn-ts ships (lower-case), compared ignoring case. */
export class ZxcvbnCommonPasswords implements CommonPasswords {
  private readonly passwords: ReadonlySet<string>;

  constructor(passwords: Iterable<string> = dictionary['passwords-common']) {
    this.passwords = new Set([...passwords].map((password) => password.toLowerCase()));
  }

  contains(password: string): boolean {
    return this.passwords.has(password.toLowerCase());
  }
}
