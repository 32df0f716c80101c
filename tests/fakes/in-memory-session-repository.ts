import type {
  PasswordUpgrade,
  RotationOutcome,
  RotationRequest,
  SessionRepository,
} from '../../src/application/ports/session-repository.js';
import { type RevocationReason, type Session, type SessionSummary, decideRotation } from '../../src/domain/session.js';
import type { UserId } from '../../src/domain/user.js';
import type { InMemoryUserRepository } from './in-memory-user-repository.js';

interface StoredToken {
  readonly sessionId: string;
  spentAt: number | null;
  successorHash: string | null;
}

/** Sessions and refresh-token hashes in Maps; rotation applies the same domain rule as the PostgreSQL store. */
export class InMemorySessionRepository implements SessionRepository {
  private readonly sessions = new Map<string, Session & { reason?: RevocationReason; refreshedAt?: number }>();
  private readonly tokens = new Map<string, StoredToken>();

  /** @param users where a login's password upgrade is written, as the PostgreSQL store writes the users table. */
  constructor(private readonly users?: InMemoryUserRepository) {}

  async start(session: Session, firstTokenHash: string, passwordUpgrade?: PasswordUpgrade): Promise<void> {
    if (passwordUpgrade) this.users?.replacePasswordHash(session.userId, passwordUpgrade.from, passwordUpgrade.to);
    this.sessions.set(session.id, { ...session });
    this.tokens.set(firstTokenHash, { sessionId: session.id, spentAt: null, successorHash: null });
  }

  async adopt(session: Session): Promise<Session> {
    if (!this.sessions.has(session.id)) this.sessions.set(session.id, { ...session });
    return { ...this.sessions.get(session.id)! };
  }

  async rotate(request: RotationRequest): Promise<RotationOutcome> {
    const token = this.tokens.get(request.tokenHash);
    if (!token) return { kind: 'unknown' };
    const session = this.sessions.get(token.sessionId)!;
    const decision = decideRotation(session, token, request);
    switch (decision) {
      case 'rotate':
        token.spentAt = request.now;
        token.successorHash = request.successorHash;
        this.tokens.set(request.successorHash, { sessionId: session.id, spentAt: null, successorHash: null });
        this.sessions.set(session.id, { ...session, refreshedAt: request.now });
        return { kind: 'rotated', session: { ...session } };
      case 'replay':
        return { kind: 'replayed', session: { ...session } };
      case 'reuse':
        await this.revoke(session.id, request.now, 'refresh_token_reused');
        return { kind: 'reused', session: { ...this.sessions.get(session.id)! } };
      case 'revoked':
      case 'expired':
        return { kind: decision };
    }
  }

  async findById(id: string): Promise<Session | null> {
    const session = this.sessions.get(id);
    return session ? { ...session } : null;
  }

  async revoke(id: string, now: number, reason: RevocationReason): Promise<void> {
    const session = this.sessions.get(id);
    if (session && session.revokedAt === null) this.sessions.set(id, { ...session, revokedAt: now, reason });
  }

  async revokeAllForUser(userId: UserId, now: number, reason: RevocationReason, except?: string): Promise<number> {
    const live = [...this.sessions.values()].filter(
      (s) => s.userId === userId && s.revokedAt === null && s.id !== except,
    );
    for (const session of live) await this.revoke(session.id, now, reason);
    return live.length;
  }

  async listLive(userId: UserId, now: number): Promise<SessionSummary[]> {
    return [...this.sessions.values()]
      .filter((s) => s.userId === userId && s.revokedAt === null && s.expiresAt > now)
      .sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id))
      .map((s) => ({
        id: s.id,
        createdAt: s.createdAt,
        refreshedAt: s.refreshedAt ?? null,
        clientAddress: s.clientAddress ?? null,
        userAgent: s.userAgent ?? null,
      }));
  }

  /**
   * What {@link InMemoryRetentionStore} purges: deletes up to `limit` tokens spent before `endedBefore`, or sessions
   * that expired or were revoked before it (with their tokens).
   */
  deleteEnded(kind: 'spent refresh tokens' | 'ended sessions', endedBefore: number, limit: number): number {
    let deleted = 0;
    if (kind === 'spent refresh tokens') {
      for (const [hash, token] of this.tokens) {
        if (deleted === limit) break;
        if (token.spentAt !== null && token.spentAt < endedBefore) {
          this.tokens.delete(hash);
          deleted += 1;
        }
      }
      return deleted;
    }
    for (const [id, session] of this.sessions) {
      if (deleted === limit) break;
      if (session.expiresAt < endedBefore || (session.revokedAt !== null && session.revokedAt < endedBefore)) {
        this.sessions.delete(id);
        for (const [hash, token] of this.tokens) if (token.sessionId === id) this.tokens.delete(hash);
        deleted += 1;
      }
    }
    return deleted;
  }

  /** Test helper: the stored token hashes, to check that no token is kept in clear. */
  storedTokenHashes(): string[] {
    return [...this.tokens.keys()];
  }
}
