import { createHash, randomUUID } from 'node:crypto';
import type { IdGenerator } from '../../application/ports/id-generator.js';

export class CryptoIdGenerator implements IdGenerator {
  tokenId(): string {
    return randomUUID();
  }

  sessionId(): string {
    return randomUUID();
  }

  /** A name-based UUID (RFC 9562 version 8, SHA-256 of a fixed namespace and the seed). */
  sessionIdFor(seed: string): string {
    const bytes = createHash('sha256').update('jwt-login session of ').update(seed, 'utf8').digest().subarray(0, 16);
    bytes[6] = (bytes[6]! & 0x0f) | 0x80;
    bytes[8] = (bytes[8]! & 0x3f) | 0x80;
    const hex = bytes.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
}
