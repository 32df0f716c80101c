import type { TokenBlacklist } from '../../src/application/ports/legacy-tokens.js';

/** Blacklisted token ids in a Map, with the moment each may be forgotten. */
export class InMemoryTokenBlacklist implements TokenBlacklist {
  readonly entries = new Map<string, number>();

  async isBlacklisted(tokenId: string): Promise<boolean> {
    return this.entries.has(tokenId);
  }

  async blacklist(tokenId: string, untilMs: number): Promise<void> {
    this.entries.set(tokenId, Math.max(untilMs, this.entries.get(tokenId) ?? 0));
  }
}
