import type { AccountStore, AccountTokenPurpose, NewAccountToken } from '../../src/application/ports/account-store.js';
import type { OutgoingMail } from '../../src/application/ports/mail.js';
import { emailKey } from '../../src/domain/email.js';
import { type Result, ok } from '../../src/domain/result.js';
import type { NewUser, User, UserId } from '../../src/domain/user.js';
import type { InMemorySessionRepository } from './in-memory-session-repository.js';
import type { InMemoryUserRepository } from './in-memory-user-repository.js';

interface StoredToken {
  readonly userId: UserId;
  readonly purpose: AccountTokenPurpose;
  readonly email: string;
  readonly activates: boolean;
  readonly expiresAt: number;
  spentAt: number | null;
}

/** Account changes over the in-memory user and session stores; queued mails are kept in `mails` to read back. */
export class InMemoryAccountStore implements AccountStore {
  readonly mails: OutgoingMail[] = [];
  private readonly tokens = new Map<string, StoredToken>();

  constructor(
    private readonly users: InMemoryUserRepository,
    private readonly sessions: InMemorySessionRepository,
  ) {}

  async createWithConfirmation(
    user: NewUser & { readonly email: string },
    token: NewAccountToken,
    activates: boolean,
    mail: (user: User) => OutgoingMail,
  ): Promise<Result<User, 'UserExists' | 'EmailTaken'>> {
    const created = await this.users.create(user);
    if (!created.ok) return created;
    this.tokens.set(token.hash, {
      userId: created.value.id,
      purpose: 'confirm',
      email: user.email,
      activates,
      expiresAt: token.expiresAt,
      spentAt: null,
    });
    this.mails.push(mail(created.value));
    return ok(created.value);
  }

  async enqueue(mail: OutgoingMail): Promise<void> {
    this.mails.push(mail);
  }

  async issueResetByEmail(key: string, token: NewAccountToken, mail: Omit<OutgoingMail, 'to'>): Promise<void> {
    const { users } = await this.users.list({ offset: 0, limit: Number.MAX_SAFE_INTEGER });
    const user = users.find((candidate) => candidate.email !== null && emailKey(candidate.email) === key);
    if (user?.isActive) this.issue(user, token, mail);
  }

  async issueResetFor(userId: UserId, token: NewAccountToken, mail: Omit<OutgoingMail, 'to'>): Promise<boolean> {
    const user = await this.users.findById(userId);
    if (!user || user.email === null) return false;
    this.issue(user, token, mail);
    return true;
  }

  async confirm(tokenHash: string, now: number): Promise<User | null> {
    const token = this.spend(tokenHash, 'confirm', now);
    if (!token) return null;
    const user = await this.users.findById(token.userId);
    if (!user) return null;
    await this.users.replace(user.id, {
      emailVerified: user.emailVerified || (user.email !== null && emailKey(user.email) === emailKey(token.email)),
      isActive: token.activates ? true : user.isActive,
    });
    return this.users.findById(user.id);
  }

  async peek(tokenHash: string, purpose: AccountTokenPurpose, now: number): Promise<UserId | null> {
    const token = this.tokens.get(tokenHash);
    return token && token.purpose === purpose && token.spentAt === null && token.expiresAt > now ? token.userId : null;
  }

  async resetPassword(tokenHash: string, passwordHash: string, now: number): Promise<User | null> {
    const token = this.spend(tokenHash, 'reset', now);
    if (!token) return null;
    const user = await this.users.findById(token.userId);
    if (!user) return null;
    await this.users.replace(user.id, { passwordHash, emailVerified: true });
    await this.sessions.revokeAllForUser(user.id, now, 'password_reset');
    return this.users.findById(user.id);
  }

  async changePassword(userId: UserId, passwordHash: string, keptSession: string, now: number): Promise<boolean> {
    if (!(await this.users.findById(userId))) return false;
    await this.users.updatePasswordHash(userId, passwordHash);
    await this.sessions.revokeAllForUser(userId, now, 'password_changed', keptSession);
    return true;
  }

  async deleteUser(userId: UserId): Promise<boolean> {
    return this.users.delete(userId);
  }

  private issue(user: User, token: NewAccountToken, mail: Omit<OutgoingMail, 'to'>): void {
    for (const other of this.tokens.values()) {
      if (other.userId === user.id && other.purpose === 'reset' && other.spentAt === null)
        other.spentAt = token.createdAt;
    }
    this.tokens.set(token.hash, {
      userId: user.id,
      purpose: 'reset',
      email: user.email!,
      activates: false,
      expiresAt: token.expiresAt,
      spentAt: null,
    });
    this.mails.push({ ...mail, to: user.email! });
  }

  private spend(tokenHash: string, purpose: AccountTokenPurpose, now: number): StoredToken | null {
    const token = this.tokens.get(tokenHash);
    if (!token || token.purpose !== purpose || token.spentAt !== null || token.expiresAt <= now) return null;
    token.spentAt = now;
    return token;
  }
}
