import type { IdGenerator } from '../../src/application/ports/id-generator.js';

export class SequentialIdGenerator implements IdGenerator {
  private next = 1;
  private readonly derived = new Map<string, string>();

  tokenId(): string {
    return `jti-${this.next++}`;
  }

  /** UUID-shaped, as the real store expects. */
  sessionId(): string {
    return `00000000-0000-4000-8000-${String(this.next++).padStart(12, '0')}`;
  }

  sessionIdFor(seed: string): string {
    let id = this.derived.get(seed);
    if (id === undefined) this.derived.set(seed, (id = this.sessionId()));
    return id;
  }
}
