import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { OpaqueTokens } from '../../application/ports/opaque-tokens.js';

/** Opaque refresh tokens: 32 random bytes, successors by HMAC-SHA256 under a key derived from the signing secret. */
export class HmacOpaqueTokens implements OpaqueTokens {
  private readonly successorKey: Buffer;

  constructor(secret: string | Buffer) {
    this.successorKey = createHmac('sha256', secret).update('jwt-login refresh-token successor v1').digest();
  }

  generate(): string {
    return randomBytes(32).toString('base64url');
  }

  successorOf(token: string): string {
    return createHmac('sha256', this.successorKey).update(token).digest('base64url');
  }

  digest(token: string): string {
    return createHash('sha256').update(token).digest('hex');
  }
}
