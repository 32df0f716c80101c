import { LRUCache } from 'lru-cache';
import type { TokenBlacklist } from '../../application/ports/legacy-tokens.js';
import type { ChangeSubscriber } from './change-feed.js';

/**
 * A {@link TokenBlacklist} answered from memory, kept current by the change feed as the access state is
 * (notified-access-state.ts): memory is trusted only while the feed listens, dropped when it stops, and an entry is
 * forgotten when a notice `j:<jti>` says it changed. A read that any blacklist notice raced is used once, not kept
 * (blacklistings are rare, so this costs nothing worth a finer rule). Bounded: an LRU of `maxEntries`.
 */
export class NotifiedTokenBlacklist implements TokenBlacklist, ChangeSubscriber {
  private readonly held: LRUCache<string, boolean>;
  private trusted = false;
  /** Bumped by every blacklist notice and every change of trust. */
  private generation = 0;

  constructor(
    private readonly inner: TokenBlacklist,
    maxEntries: number,
  ) {
    this.held = new LRUCache({ max: maxEntries });
  }

  async isBlacklisted(tokenId: string): Promise<boolean> {
    if (this.trusted) {
      const held = this.held.get(tokenId);
      if (held !== undefined) return held;
    }
    const generation = this.generation;
    const blacklisted = await this.inner.isBlacklisted(tokenId);
    if (this.trusted && generation === this.generation) this.held.set(tokenId, blacklisted);
    return blacklisted;
  }

  blacklist(tokenId: string, untilMs: number): Promise<void> {
    return this.inner.blacklist(tokenId, untilMs);
  }

  onChange(payload: string): void {
    if (!payload.startsWith('j:')) return;
    this.held.delete(payload.slice(2));
    this.generation += 1;
  }

  onUp(): void {
    this.held.clear();
    this.generation += 1;
    this.trusted = true;
  }

  onDown(): void {
    this.trusted = false;
    this.held.clear();
    this.generation += 1;
  }
}
