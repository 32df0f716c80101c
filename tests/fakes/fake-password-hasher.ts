import type { PasswordHasher } from '../../src/application/ports/password-hasher.js';

/**
 * A cheap, reversible stand-in for argon2 with the same contract: `fake$<cost>$=<password>`; a hash of a lower cost
 * than configured needs rehashing. The dummy hash has no `=`, so no password matches it.
 */
export class FakePasswordHasher implements PasswordHasher {
  constructor(private readonly cost: number = 3) {}

  async hash(password: string): Promise<string> {
    return `fake$${this.cost}$=${password}`;
  }

  async verify(hash: string, password: string): Promise<boolean> {
    const match = /^fake\$(\d+)\$=(.*)$/s.exec(hash);
    return match !== null && match[2] === password;
  }

  recognizes(hash: string): boolean {
    return /^fake\$(\d+)\$/.test(hash);
  }

  needsRehash(hash: string): boolean {
    const match = /^fake\$(\d+)\$/.exec(hash);
    return match === null || Number(match[1]) < this.cost;
  }

  ensureCapacity(): void {}

  async dummyHash(): Promise<string> {
    return `fake$${this.cost}$dummy`;
  }
}
