import type { IdGenerator } from '../../src/application/ports/id-generator.js';

export class SequentialIdGenerator implements IdGenerator {
  private next = 1;

  tokenId(): string {
    return `jti-${this.next++}`;
  }

  /** UUID-shaped, as the real store expects. */
  sessionId(): string {
    return `00000000-0000-4000-8000-${String(this.next++).padStart(12, '0')}`;
  }
}
