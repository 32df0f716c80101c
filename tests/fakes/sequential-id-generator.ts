import type { IdGenerator } from '../../src/application/ports/id-generator.js';

export class SequentialIdGenerator implements IdGenerator {
  private next = 1;

  tokenId(): string {
    return `jti-${this.next++}`;
  }
}
