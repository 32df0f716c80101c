import { randomUUID } from 'node:crypto';
import type { IdGenerator } from '../../application/ports/id-generator.js';

export class CryptoIdGenerator implements IdGenerator {
  tokenId(): string {
    return randomUUID();
  }

  sessionId(): string {
    return randomUUID();
  }
}
