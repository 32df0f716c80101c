import { createHash, timingSafeEqual } from 'node:crypto';
import type { ClientCredentials } from '../../application/ports/client-credentials.js';

const digest = (id: string, secret: string) =>
  createHash('sha256').update(id, 'utf8').update('\0').update(secret, 'utf8').digest();

/**
 * Client credentials compared in constant time: the SHA-256 of what was given against that of every client, each
 * compared with `timingSafeEqual` and none skipped, so neither a near-miss secret nor a known id answers sooner.
 */
export class ConstantTimeClientCredentials implements ClientCredentials {
  private readonly digests: readonly Buffer[];

  constructor(clients: readonly { readonly id: string; readonly secret: string }[]) {
    this.digests = clients.map((client) => digest(client.id, client.secret));
  }

  check(id: string, secret: string): boolean {
    const given = digest(id, secret);
    let found = false;
    for (const known of this.digests) found = timingSafeEqual(given, known) || found;
    return found;
  }
}
