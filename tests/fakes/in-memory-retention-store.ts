import type { Purgeable, RetentionStore } from '../../src/application/ports/retention-store.js';
import type { InMemorySessionRepository } from './in-memory-session-repository.js';

/**
 * Purges an {@link InMemorySessionRepository}; the lock is a flag, shared by stores made with the same `lock`. Account
 * tokens and outbox mails are not held by these fakes (only PostgreSQL's store has them: tests/integration/purge.test.ts),
 * so there are none of them to purge here.
 */
export class InMemoryRetentionStore implements RetentionStore {
  constructor(
    private readonly sessions: InMemorySessionRepository,
    private readonly lock: { held: boolean } = { held: false },
  ) {}

  async deleteEnded(kind: Purgeable, endedBefore: number, limit: number): Promise<number> {
    // Not this fake's: account tokens and mails (the account store's), blacklisted token ids (the blacklist's).
    if (kind === 'ended account tokens' || kind === 'finished mails' || kind === 'expired blacklist entries') return 0;
    return this.sessions.deleteEnded(kind, endedBefore, limit);
  }

  async exclusively<T>(work: () => Promise<T>): Promise<{ held: true; value: T } | { held: false }> {
    if (this.lock.held) return { held: false };
    this.lock.held = true;
    try {
      return { held: true, value: await work() };
    } finally {
      this.lock.held = false;
    }
  }
}
